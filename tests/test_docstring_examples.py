"""The examples in the docstrings of the engine, the service, the evaluation harness and the model code run and
print what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import crnn
import ocr_engine
import ocr_eval
import ocr_service


def _modules(package) -> list[str]:
    return [package.__name__] + [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
                                 if not m.name.endswith("__main__")]


@pytest.mark.parametrize("name", _modules(ocr_engine) + _modules(ocr_service) + _modules(ocr_eval) + _modules(crnn))
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples in {name} failed"
