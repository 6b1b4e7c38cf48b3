"""OcrConfig: defaults, environment overrides, validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocr_service.config import OcrConfig
from ocr_service.errors import ConfigError


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
    import ocr_service.config as config_module

    monkeypatch.setattr(config_module, "default_model_candidates", lambda: [tmp_path / "none.onnx"])
    with pytest.raises(ConfigError, match="OCR_MODEL_PATH"):
        OcrConfig().resolve_model_path()


def test_the_default_search_prefers_the_deployed_int8_file_in_each_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The real candidate list, with its two folders moved under ``tmp_path``."""
    import ocr_service.config as config_module

    assert config_module._LAYER_MODELS == Path("/opt/models")  # the layer's mount point in Lambda
    repo, layer = tmp_path / "repo" / "models" / "weights", tmp_path / "layer"
    for folder in (repo, layer):
        folder.mkdir(parents=True)
    monkeypatch.setattr(config_module, "_REPO_ROOT", tmp_path / "repo")
    monkeypatch.setattr(config_module, "_LAYER_MODELS", layer)
    assert config_module.default_model_candidates() == [
        repo / "crnn_zh_en.int8.onnx", repo / "crnn_zh_en.onnx",
        layer / "crnn_zh_en.int8.onnx", layer / "crnn_zh_en.onnx",
    ]
    with pytest.raises(ConfigError):
        OcrConfig().resolve_model_path()
    (layer / "crnn_zh_en.onnx").write_bytes(b"x")
    assert OcrConfig().resolve_model_path() == layer / "crnn_zh_en.onnx"
    (layer / "crnn_zh_en.int8.onnx").write_bytes(b"x")  # the layer's INT8 file before its float one
    assert OcrConfig().resolve_model_path() == layer / "crnn_zh_en.int8.onnx"
    (repo / "crnn_zh_en.onnx").write_bytes(b"x")  # the repository's folder before the layer
    assert OcrConfig().resolve_model_path() == repo / "crnn_zh_en.onnx"
    (repo / "crnn_zh_en.int8.onnx").write_bytes(b"x")
    assert OcrConfig().resolve_model_path() == repo / "crnn_zh_en.int8.onnx"
