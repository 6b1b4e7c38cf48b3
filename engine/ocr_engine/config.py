"""Engine configuration: one frozen dataclass, parsed once, overridable from the environment.

=============================  ===========================  ==========================================
variable                       default                      meaning
=============================  ===========================  ==========================================
``OCR_MODEL_PATH``             (search, see below)          recognition ``.onnx`` file
``OCR_THREADS``                1                            onnxruntime intra-op threads
``OCR_MAX_IMAGE_BYTES``        20971520                     larger images: ``image_too_large``
``OCR_MAX_IMAGE_PIXELS``       40000000                     width x height limit (from the header)
``OCR_MAX_IMAGE_SIDE``         20000                        longest side limit
``OCR_MIN_IMAGE_SIDE``         8                            shorter sides: ``image_too_small``
``OCR_MAX_DECODE_BYTES``       536870912                    decode memory limit (from the header)
``OCR_DETECTOR``               opencv                       ``opencv`` or ``whole`` (image = 1 line)
``OCR_DETECT_MAX_SIDE``        1600                         detection runs on an image this size
``OCR_TEXT_DIRECTION``         auto                         ``auto``, ``horizontal`` or ``vertical`` (columns)
``OCR_MIN_LINE_CONFIDENCE``    0.3                          lines below are dropped
``OCR_MIN_SHORT_CONFIDENCE``   0.7                          ... and lines of 1-2 characters below this
``OCR_ROTATE_BELOW``           0.65                         retry lines turned 180° below this
``OCR_SIDEWAYS_BELOW``         0.75                         retry pages turned 90° both ways below this
``OCR_DENSE_BELOW``            0.95                         retry dense lines 1.3x wider below this
``OCR_TRIM_MARGINS``           true                         cut loose line crops to their text's rows
``OCR_MAX_BATCH``              8                            lines per inference call
``OCR_LINE_STRETCH``           1.0                          lines are widened this much before reading
``OCR_LM_PATH``                (beside the model)           character LM ``.npz`` that corrects readings
``OCR_LM_WEIGHT``              0.35                         weight of the LM; 0 turns the correction off
``OCR_LM_BEAM``                false                        LM prefix search over unsure spans (may add or drop a space)
``OCR_CONTRAST``               none                         ``none``, ``clahe`` or ``equalize``
``OCR_DENOISE``                none                         ``none``, ``median``, ``gaussian``, ``nlmeans``
``OCR_DESKEW``                 true                         correct small page tilts
``OCR_MAX_SKEW_DEG``           45                           larger estimated tilts are left alone
``OCR_THRESHOLD``              false                        binarise (adaptive) before recognition
=============================  ===========================  ==========================================

Without ``OCR_MODEL_PATH`` the model is the one shipped in the package (``ocr_engine/weights/``):
the INT8 file ``crnn_zh_en.int8.onnx`` (what the service deploys) before the float
``crnn_zh_en.onnx``.
Without ``OCR_LM_PATH`` the character LM is ``charlm_zh_en.npz`` in the model's folder, when
it is there (reading works without it, greedily).

Example:
    >>> cfg = OcrConfig.from_env({"OCR_THREADS": "2", "OCR_DESKEW": "no"})
    >>> cfg.threads, cfg.preprocess.deskew
    (2, False)
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocr_engine.errors import ConfigError
from ocr_engine.image.decode import DecodeLimits

MODEL_FILES = ("crnn_zh_en.int8.onnx", "crnn_zh_en.onnx")  # in order of preference
LM_FILE = "charlm_zh_en.npz"
TEXT_DIRECTIONS = ("auto", "horizontal", "vertical")
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"  # the shipped model: package data


def default_model_candidates() -> list[Path]:
    """Files searched for the model when ``OCR_MODEL_PATH`` is not set: the package's weights."""
    return [WEIGHTS_DIR / name for name in MODEL_FILES]


@dataclass(frozen=True)
class PreprocessConfig:
    """Switches of the preprocessing steps (see :mod:`ocr_engine.preprocess`).

    Attributes:
        contrast: ``none``, ``clahe`` or ``equalize``.
        denoise: ``none``, ``median``, ``gaussian`` or ``nlmeans``.
        deskew: Estimate and correct a small page tilt.
        max_skew_deg: Estimated tilts beyond this are not corrected.
        threshold: Adaptive binarisation of the recognition input.
    """

    contrast: str = "none"
    denoise: str = "none"
    deskew: bool = True
    max_skew_deg: float = 45.0
    threshold: bool = False


@dataclass(frozen=True)
class OcrConfig:
    """Everything :class:`~ocr_engine.engine.OcrEngine` needs.

    Attributes:
        model_path: Recognition model; ``None`` searches :func:`default_model_candidates`.
        threads: onnxruntime intra-op threads.
        limits: Decoder limits.
        detector: ``opencv`` or ``whole``.
        detect_max_side: Longest side of the image the detector sees.
        text_direction: ``auto`` (columns of vertical CJK text when the page looks so),
            ``horizontal`` or ``vertical``.
        min_line_confidence: Lines read with less confidence are dropped.
        min_short_confidence: Lines of one or two characters need this much: a short reading
            is weak evidence (pictures and logos are read as one or two characters). Lines of
            punctuation only are dropped.
        rotate_below: Lines below this confidence are also read turned 180°.
        sideways_below: Pages whose confidence (mean over their characters) is below this are
            also read turned 90° each way, and a clearly better reading is kept (0 disables;
            never for vertical text).
        dense_below: Lines read with few model frames per character (close thin letters may
            merge) and a confidence below this are read again 1.3× wider; the more confident
            reading is kept (0 disables; see ``Recognizer``).
        trim_margins: A line crop whose text fills less than half its height is first cut to
            the text's rows (a word in the middle of a single-line image, ``detector="whole"``).
        max_batch: Lines per inference call.
        line_stretch: Each line is widened by this factor (after scaling to the model's height)
            before it is read; narrow print (book serifs, condensed faces) gives the model too few
            frames per letter, which drops one of two close thin letters (``ll``, ``li``).
        preprocess: Preprocessing switches.
        lm_path: Character LM file; ``None`` looks for :data:`LM_FILE` beside the model.
        lm_weight: Weight of the LM correction (0: greedy reading only).
        lm_beam: Correct by the CTC prefix search with the LM over each line's unsure spans
            (it may add or drop a character) instead of re-choosing the greedy characters.
    """

    model_path: Path | None = None
    threads: int = 1
    limits: DecodeLimits = field(default_factory=DecodeLimits)
    detector: str = "opencv"
    detect_max_side: int = 1600
    text_direction: str = "auto"
    min_line_confidence: float = 0.3
    min_short_confidence: float = 0.7
    rotate_below: float = 0.65
    sideways_below: float = 0.75
    dense_below: float = 0.95
    trim_margins: bool = True
    max_batch: int = 8
    line_stretch: float = 1.0
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)
    lm_path: Path | None = None
    lm_weight: float = 0.35
    lm_beam: bool = False

    def __post_init__(self) -> None:
        if self.detector not in ("opencv", "whole"):
            raise ConfigError(f"detector must be 'opencv' or 'whole', got {self.detector!r}")
        if self.preprocess.contrast not in ("none", "clahe", "equalize"):
            raise ConfigError(f"contrast must be none/clahe/equalize, got {self.preprocess.contrast!r}")
        if self.preprocess.denoise not in ("none", "median", "gaussian", "nlmeans"):
            raise ConfigError(f"denoise must be none/median/gaussian/nlmeans, got {self.preprocess.denoise!r}")
        if self.text_direction not in TEXT_DIRECTIONS:
            raise ConfigError(f"text_direction must be auto/horizontal/vertical, got {self.text_direction!r}")
        if self.threads < 0 or self.max_batch < 1 or self.detect_max_side < 32:
            raise ConfigError("threads must be >= 0, max_batch >= 1, detect_max_side >= 32")
        if not 0.0 <= self.lm_weight <= 5.0:
            raise ConfigError(f"lm_weight must be within [0, 5], got {self.lm_weight}")
        if not 0.5 <= self.line_stretch <= 2.0:
            raise ConfigError(f"line_stretch must be within [0.5, 2], got {self.line_stretch}")

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

    def resolve_lm_path(self, model_path: Path) -> Path | None:
        """The character LM to load: ``lm_path``, else :data:`LM_FILE` beside the model, else None.

        Raises:
            ConfigError: If ``lm_path`` is set but missing.
        """
        if self.lm_weight <= 0:
            return None
        if self.lm_path is not None:
            if not Path(self.lm_path).is_file():
                raise ConfigError(f"OCR_LM_PATH does not exist: {self.lm_path}")
            return Path(self.lm_path)
        cand = Path(model_path).parent / LM_FILE
        return cand if cand.is_file() else None

    def replace(self, **changes: Any) -> OcrConfig:
        """Copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OcrConfig:
        """Build from ``OCR_*`` environment variables (defaults for unset ones).

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
        pre = base.preprocess
        model = get("OCR_MODEL_PATH")
        lm = get("OCR_LM_PATH")
        return cls(
            model_path=Path(model) if model else None,
            threads=num("OCR_THREADS", base.threads, int),
            limits=DecodeLimits(
                max_bytes=num("OCR_MAX_IMAGE_BYTES", lim.max_bytes, int),
                max_pixels=num("OCR_MAX_IMAGE_PIXELS", lim.max_pixels, int),
                min_side=num("OCR_MIN_IMAGE_SIDE", lim.min_side, int),
                max_side=num("OCR_MAX_IMAGE_SIDE", lim.max_side, int),
                max_decode_bytes=num("OCR_MAX_DECODE_BYTES", lim.max_decode_bytes, int),
            ),
            detector=(get("OCR_DETECTOR") or base.detector).lower(),
            detect_max_side=num("OCR_DETECT_MAX_SIDE", base.detect_max_side, int),
            text_direction=(get("OCR_TEXT_DIRECTION") or base.text_direction).lower(),
            min_line_confidence=num("OCR_MIN_LINE_CONFIDENCE", base.min_line_confidence, float),
            min_short_confidence=num("OCR_MIN_SHORT_CONFIDENCE", base.min_short_confidence, float),
            rotate_below=num("OCR_ROTATE_BELOW", base.rotate_below, float),
            sideways_below=num("OCR_SIDEWAYS_BELOW", base.sideways_below, float),
            dense_below=num("OCR_DENSE_BELOW", base.dense_below, float),
            trim_margins=flag("OCR_TRIM_MARGINS", base.trim_margins),
            max_batch=num("OCR_MAX_BATCH", base.max_batch, int),
            line_stretch=num("OCR_LINE_STRETCH", base.line_stretch, float),
            lm_path=Path(lm) if lm else None,
            lm_weight=num("OCR_LM_WEIGHT", base.lm_weight, float),
            lm_beam=flag("OCR_LM_BEAM", base.lm_beam),
            preprocess=PreprocessConfig(
                contrast=(get("OCR_CONTRAST") or pre.contrast).lower(),
                denoise=(get("OCR_DENOISE") or pre.denoise).lower(),
                deskew=flag("OCR_DESKEW", pre.deskew),
                max_skew_deg=num("OCR_MAX_SKEW_DEG", pre.max_skew_deg, float),
                threshold=flag("OCR_THRESHOLD", pre.threshold),
            ),
        )
