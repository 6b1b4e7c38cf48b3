"""OcrConfig: defaults, environment overrides, validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocr_engine.config import OcrConfig
from ocr_engine.errors import ConfigError


def test_defaults() -> None:
    cfg = OcrConfig.from_env({})
    assert cfg == OcrConfig()
    assert cfg.threads == 1 and cfg.detector == "opencv" and cfg.preprocess.deskew


def test_env_overrides() -> None:
    cfg = OcrConfig.from_env({
        "OCR_MODEL_PATH": "/m/x.onnx", "OCR_THREADS": "4", "OCR_MAX_IMAGE_PIXELS": "1000",
        "OCR_DETECTOR": "WHOLE", "OCR_CONTRAST": "clahe", "OCR_DESKEW": "off", "OCR_THRESHOLD": "1",
        "OCR_MIN_LINE_CONFIDENCE": "0.2", "OCR_LINE_STRETCH": "1.25", "OCR_TRIM_MARGINS": "no",
    })
    assert cfg.model_path == Path("/m/x.onnx") and cfg.threads == 4
    assert cfg.limits.max_pixels == 1000 and cfg.detector == "whole"
    assert cfg.preprocess.contrast == "clahe" and not cfg.preprocess.deskew and cfg.preprocess.threshold
    assert cfg.min_line_confidence == 0.2 and cfg.line_stretch == 1.25 and not cfg.trim_margins
    assert cfg.resolve_model_path() == Path("/m/x.onnx")


@pytest.mark.parametrize(
    "env",
    [{"OCR_THREADS": "many"}, {"OCR_DESKEW": "maybe"}, {"OCR_DETECTOR": "yolo"}, {"OCR_DENOISE": "x"},
     {"OCR_MAX_BATCH": "0"}, {"OCR_LINE_STRETCH": "3"}, {"OCR_LINE_STRETCH": "wide"}],
)
def test_bad_values_are_config_errors(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        OcrConfig.from_env(env)


def test_frozen_and_replace() -> None:
    cfg = OcrConfig()
    with pytest.raises(AttributeError):
        cfg.threads = 3  # type: ignore[misc]
    assert cfg.replace(threads=3).threads == 3


def test_missing_model_is_config_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import ocr_engine.config as config_module

    monkeypatch.setattr(config_module, "default_model_candidates", lambda: [tmp_path / "none.onnx"])
    with pytest.raises(ConfigError, match="OCR_MODEL_PATH"):
        OcrConfig().resolve_model_path()


def test_the_default_model_is_the_package_weights_int8_first(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The real candidate list: the package's own weights folder, the INT8 file first."""
    import ocr_engine
    import ocr_engine.config as config_module

    shipped = Path(ocr_engine.__file__).parent / "weights"
    assert config_module.WEIGHTS_DIR == shipped
    assert config_module.default_model_candidates() == [shipped / "crnn_zh_en.int8.onnx", shipped / "crnn_zh_en.onnx"]
    monkeypatch.setattr(config_module, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(ConfigError):
        OcrConfig().resolve_model_path()
    (tmp_path / "crnn_zh_en.onnx").write_bytes(b"x")
    assert OcrConfig().resolve_model_path() == tmp_path / "crnn_zh_en.onnx"
    (tmp_path / "crnn_zh_en.int8.onnx").write_bytes(b"x")  # the INT8 file before the float one
    assert OcrConfig().resolve_model_path() == tmp_path / "crnn_zh_en.int8.onnx"
    assert OcrConfig(model_path=tmp_path / "crnn_zh_en.onnx").resolve_model_path() == tmp_path / "crnn_zh_en.onnx"
