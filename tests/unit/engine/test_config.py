"""OcrConfig: defaults, the environment variables a user sets, validation; check_direction."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocr_engine.config import TEXT_DIRECTIONS, OcrConfig, PreprocessConfig, check_direction
from ocr_engine.errors import ConfigError, InvalidInput


def test_defaults() -> None:
    cfg = OcrConfig.from_env({})
    assert cfg == OcrConfig()
    assert cfg.threads == 1 and cfg.detector == "opencv" and cfg.preprocess.deskew
    assert cfg.lm and cfg.lm_beam and cfg.text_direction == "auto"


def test_env_overrides() -> None:
    cfg = OcrConfig.from_env({
        "OCR_MODEL_PATH": "/m/x.onnx", "OCR_THREADS": "4", "OCR_MAX_IMAGE_PIXELS": "1000",
        "OCR_MAX_IMAGE_BYTES": "2048", "OCR_DETECTOR": "WHOLE", "OCR_TEXT_DIRECTION": "Vertical",
        "OCR_MIN_LINE_CONFIDENCE": "0.2", "OCR_LM": "off", "OCR_LM_BEAM": "yes", "OCR_LM_PATH": "/m/lm.npz",
    })
    assert cfg.model_path == Path("/m/x.onnx") and cfg.threads == 4
    assert (cfg.limits.max_pixels, cfg.limits.max_bytes) == (1000, 2048) and cfg.detector == "whole"
    assert cfg.text_direction == "vertical" and cfg.min_line_confidence == 0.2
    assert not cfg.lm and cfg.lm_beam and cfg.lm_path == Path("/m/lm.npz")
    assert cfg.resolve_model_path() == Path("/m/x.onnx")
    assert cfg.resolve_lm_path(Path("/m/x.onnx")) is None  # the LM is off


@pytest.mark.parametrize("name", [
    "OCR_MAX_IMAGE_SIDE", "OCR_MIN_IMAGE_SIDE", "OCR_MAX_DECODE_BYTES", "OCR_DETECT_MAX_SIDE",
    "OCR_MIN_SHORT_CONFIDENCE", "OCR_ROTATE_BELOW", "OCR_SIDEWAYS_BELOW", "OCR_DENSE_BELOW", "OCR_TRIM_MARGINS",
    "OCR_MAX_BATCH", "OCR_LINE_STRETCH", "OCR_LM_WEIGHT", "OCR_CONTRAST", "OCR_DENOISE", "OCR_DESKEW",
    "OCR_MAX_SKEW_DEG", "OCR_THRESHOLD",
])
def test_tuning_constants_are_not_read_from_the_environment(name: str) -> None:
    assert OcrConfig.from_env({name: "0"}) == OcrConfig()


@pytest.mark.parametrize(
    "env",
    [{"OCR_THREADS": "many"}, {"OCR_THREADS": "-1"}, {"OCR_LM": "maybe"}, {"OCR_DETECTOR": "yolo"},
     {"OCR_TEXT_DIRECTION": "diagonal"}, {"OCR_MIN_LINE_CONFIDENCE": "high"}, {"OCR_MAX_IMAGE_BYTES": "1e6"}],
)
def test_bad_values_are_config_errors(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        OcrConfig.from_env(env)


def test_preprocess_switches_are_typed_and_checked() -> None:
    cfg = OcrConfig(preprocess=PreprocessConfig(contrast="clahe", denoise="median", deskew=False, threshold=True))
    assert cfg.preprocess.contrast == "clahe" and not cfg.preprocess.deskew
    with pytest.raises(ConfigError):
        OcrConfig(preprocess=PreprocessConfig(denoise="x"))
    with pytest.raises(ConfigError):
        OcrConfig(preprocess=PreprocessConfig(contrast="x"))


def test_check_direction() -> None:
    assert [check_direction(d) for d in TEXT_DIRECTIONS] == ["auto", "horizontal", "vertical"]
    with pytest.raises(InvalidInput, match=r"^direction must be one of auto, horizontal, vertical, got 'up'$"):
        check_direction("up")
    with pytest.raises(InvalidInput, match=r"^metadata x-direction must be one of "):
        check_direction("Vertical", name="metadata x-direction")  # exact: callers fold case themselves
    with pytest.raises(ConfigError, match="text_direction must be one of auto, horizontal, vertical, got 'up'"):
        OcrConfig(text_direction="up")


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
