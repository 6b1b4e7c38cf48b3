"""The OCR engine: decode -> preprocess -> find lines -> recognise -> :class:`OcrResult`.

Create one :class:`OcrEngine` per process (it owns the onnxruntime session) and
call :meth:`OcrEngine.run` for each image.

Confidence: every decision of the engine (which lines to keep, ``min_line_confidence`` and
:data:`MIN_SHORT_CONFIDENCE`; which way up a line or a page is, :mod:`ocr_engine.orientation`)
is made on the recogniser's raw line confidence, the mean of its characters' probabilities.
Only when a page has been read does :meth:`OcrEngine.run_array` replace each line's
``confidence`` by the calibrated chance that the line is right
(:mod:`ocr_engine.recognition.calibration`, the file beside the model); so the JSON, the web
page and every output format report the calibrated value, and reading does not change with
the calibration. Characters keep the model's probabilities. Without a calibration for the
model, lines report the raw confidence; ``model_info()`` says which.

Example:
    >>> from ocr_engine.config import OcrConfig  # doctest: +SKIP
    >>> engine = OcrEngine.from_config(OcrConfig.from_env())  # doctest: +SKIP
    >>> result = engine.run(open("receipt.jpg", "rb").read())  # doctest: +SKIP
    >>> print(result.text)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import cv2
import numpy as np

from ocr_engine import orientation
from ocr_engine.config import OcrConfig, check_detector, check_direction
from ocr_engine.detection import MorphologyDetector, TextBox, TextDetector, WholeImageDetector, crop_box
from ocr_engine.detection.choice import DetectorChoice
from ocr_engine.detection.learned import DbSession, LearnedDetector
from ocr_engine.detection.vertical import Cell, column_to_line, line_x_to_column_y
from ocr_engine.document import DocumentLimits, read_document
from ocr_engine.errors import ConfigError, InvalidInput
from ocr_engine.geometry import apply_affine, from_clockwise, from_counterclockwise, from_half_turn, map_line
from ocr_engine.image.decode import decode_image
from ocr_engine.image.normalize import to_bgr8
from ocr_engine.layout.blocks import group_blocks
from ocr_engine.preprocess import adaptive_threshold, preprocess_page
from ocr_engine.recognition import LineResult, Recognizer
from ocr_engine.recognition.calibration import calibration_for
from ocr_engine.schema import Char, DocumentResult, Line, ModelInfo, OcrResult, blocks_from_groups

# The page detector finds lines on a copy of the page scaled to this longest side.
DETECT_MAX_SIDE = 1600
# Readings of one or two characters need this much confidence to be kept: a short reading is
# weak evidence (pictures and logos are read as one or two characters).
MIN_SHORT_CONFIDENCE = 0.7


def recognizer_for(config: OcrConfig, **tuning: Any) -> Recognizer:
    """The recogniser ``config`` describes: its model, threads and LM; ``tuning`` passes other
    keywords of :class:`~ocr_engine.recognition.Recognizer` (``rotate_below=0.8``...).

    Example:
        >>> engine = OcrEngine(cfg, recognizer=recognizer_for(cfg, trim_margins=False))  # doctest: +SKIP
    """
    model_path = config.resolve_model_path()
    return Recognizer(
        model_path,
        intra_op_threads=config.threads,
        lm_path=config.resolve_lm_path(model_path),
        lm_beam=config.lm_beam,
        **tuning,
    )


def detectors_for(config: OcrConfig) -> dict[str, TextDetector]:
    """The line finders ``config`` makes available, by name: ``opencv``; ``learned`` and
    ``auto`` when a learned detector's model is found (:meth:`OcrConfig.resolve_detector_model_path`);
    ``whole`` when ``config.detector`` is ``whole``.

    Raises:
        ConfigError: ``learned`` or ``auto`` configured and no model found.
        ModelError: The detector's model does not load or breaks its contract.
    """
    found: dict[str, TextDetector] = {
        "opencv": MorphologyDetector(max_side=DETECT_MAX_SIDE, direction=config.text_direction)}
    if config.detector == "whole":
        found["whole"] = WholeImageDetector()
    det_path = config.resolve_detector_model_path()
    if det_path is not None:
        learned = LearnedDetector(DbSession(det_path, intra_op_threads=config.threads),
                                  direction=config.text_direction)
        found["learned"] = learned
        found["auto"] = DetectorChoice(found["opencv"], learned)
    elif config.detector in ("learned", "auto"):
        raise ConfigError(f"detector {config.detector!r} needs a learned detector model: set "
                          "OCR_DETECTOR_MODEL_PATH, or fetch it (python layers/fetch_detector.py)")
    return found


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000.0, 2)


class OcrEngine:
    """Image in, :class:`~ocr_engine.schema.OcrResult` out.

    Args:
        config: Engine configuration (model, limits, detector...); ``None``: the defaults,
            with the model shipped in the package.
        recognizer: A line recogniser to use instead of the one ``config`` describes.
        detector: A line finder to use instead of the one ``config`` names (and of any
            other: a request's choice of detector is then refused).

    Example:
        >>> engine = OcrEngine()  # doctest: +SKIP
        >>> engine.run_array(page_bgr).lines[0].text  # doctest: +SKIP
        '纯臻营养护发素'
    """

    def __init__(self, config: OcrConfig | None = None, *, recognizer: Recognizer | None = None,
                 detector: TextDetector | None = None) -> None:
        self.config = config or OcrConfig()
        self.recognizer = recognizer or recognizer_for(self.config)
        meta = self.recognizer.meta
        self.calibration, self.calibration_note = calibration_for(
            self.config.resolve_calibration_path(self.recognizer.model_path), meta.model_name, meta.model_version)
        if detector is None:
            self.detectors = detectors_for(self.config)
            detector = self.detectors[self.config.detector]
        else:
            self.detectors = {detector.name: detector}
        self.detector = detector

    @classmethod
    def from_config(cls, config: OcrConfig | None = None) -> OcrEngine:
        """Build the engine from ``config``, or from the ``OCR_*`` environment (loads the model once).

        Raises:
            ConfigError: No model file found.
            ModelError: The model cannot be loaded or breaks the contract.
        """
        return cls(config or OcrConfig.from_env())

    def model_info(self) -> dict[str, Any]:
        """Model name, version, path and detector, for health checks and logs; ``confidence``:
        whether lines report a ``calibrated`` or the ``raw`` confidence, and ``calibration``, why."""
        meta = self.recognizer.meta
        return {
            "name": meta.model_name,
            "version": meta.model_version,
            "path": str(self.recognizer.model_path.name),
            "input_height": meta.input_height,
            "charset_size": len(meta.charset),
            "language_model": self.recognizer.lm is not None,
            "detector": self.detector.name,
            "detectors": sorted(self.detectors),
            "confidence": "raw" if self.calibration is None else "calibrated",
            "calibration": self.calibration_note,
        }

    def run(self, image_bytes: bytes, direction: str | None = None, detector: str | None = None) -> OcrResult:
        """OCR encoded image bytes (JPEG, PNG, BMP, TIFF, WebP, GIF).

        Args:
            image_bytes: The encoded image.
            direction: ``auto``, ``horizontal`` or ``vertical`` for this image (``None``: the
                configured ``text_direction``).
            detector: ``opencv``, ``learned`` or ``auto`` for this image (``None``: the
                configured one).

        Raises:
            OcrError: A typed refusal (too large, unsupported, corrupt...).
        """
        t0 = time.perf_counter()
        decoded = decode_image(image_bytes, self.config.limits)
        decode_ms = _ms(t0)
        result = self.run_array(decoded.image, direction, detector)
        result.timings_ms = {"decode": decode_ms, **result.timings_ms}
        result.timings_ms["total"] = _ms(t0)
        return result

    def run_document(self, data: bytes, *, direction: str | None = None, first_page: int = 1,
                     last_page: int | None = None, limits: DocumentLimits | None = None,
                     detector: str | None = None) -> DocumentResult:
        """OCR pages ``first_page`` to ``last_page`` (1-based, inclusive; ``None``: to the end) of
        a PDF or multi-page TIFF, one page at a time, each read as :meth:`run_array` reads it.

        A single image is a one-page document of ``source_type`` ``"image"``. PDF pages are
        rendered at ``limits.dpi`` (lower for a page too large for the pixel limits); the
        limits (:class:`~ocr_engine.document.DocumentLimits`; its ``image`` limits default to
        this engine's) are checked for the whole range before any page is read. ``direction``
        and ``detector`` (``opencv``, ``learned`` or ``auto``) apply to every page, as
        :meth:`run_array` takes them (``None``: the configured ones).

        Raises:
            InvalidInput: An unknown ``direction`` or ``detector``, or a detector this engine
                lacks (checked before any page is read).
            OcrError: A typed refusal (``too_many_pages``, ``page_too_large``,
                ``encrypted_document``, ``undecodable_document``, ``document_too_large``, or
                the single image's own).

        Example:
            >>> doc = engine.run_document(open("report.pdf", "rb").read(), last_page=2)  # doctest: +SKIP
            >>> doc.page_count, len(doc.pages), doc.dpi  # doctest: +SKIP
            (12, 2, [200.0, 200.0])
        """
        return read_document(self, data, direction=direction, first_page=first_page, last_page=last_page,
                             limits=limits, detector=detector)

    def run_array(self, image: np.ndarray, direction: str | None = None, detector: str | None = None) -> OcrResult:
        """OCR an already decoded image (gray, BGR or BGRA; BGRA is composited on white).

        A page read with little confidence is also read turned 90° each way (unless its text
        is set to run vertically), and the clearly better reading is kept, its boxes and
        characters mapped back to this image (the rules: :mod:`ocr_engine.orientation`).

        Raises:
            InvalidInput: ``direction`` is not ``auto``, ``horizontal`` or ``vertical``;
                ``detector`` is not one this engine has.
        """
        finder = self.detector_for(direction, detector)
        t0 = time.perf_counter()
        if image.ndim == 3 and image.shape[2] in (2, 4) or image.dtype != np.uint8:
            image = to_bgr8(image)
        detector = finder.pick(image) if isinstance(finder, DetectorChoice) else finder
        result, (lines_down, texture, unread), _ = self._read_upright(image, detector)
        vertical = (direction or self.config.text_direction) == "vertical"
        if orientation.try_sideways(result, lines_down=lines_down, vertical=vertical, texture=texture, unread=unread,
                                    whole_image=isinstance(detector, WholeImageDetector)):
            t_side, h, w = time.perf_counter(), *image.shape[:2]
            upright = result
            # The page turned clockwise and found upside down has been read turned the other way
            # too: then the second quarter turn is not read again; else it is read without its
            # own half turn (that is the clockwise reading, which is already there).
            turned, _, both_ways = self._read_upright(cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE), detector)
            if orientation.sideways_wins(turned, upright, result):
                result = _mapped(turned, from_clockwise(h), upright.width, upright.height)
            if not both_ways:
                turned, _, _ = self._read_upright(cv2.rotate(image, cv2.ROTATE_90_COUNTERCLOCKWISE), detector,
                                                  half_turn=False)
                if orientation.sideways_wins(turned, upright, result):
                    result = _mapped(turned, from_counterclockwise(w), upright.width, upright.height)
            result.timings_ms = {**upright.timings_ms, "sideways": _ms(t_side)}
        if self.calibration is not None:  # decided on raw confidence; reported calibrated
            for line in result.lines:
                line.confidence = round(self.calibration.probability([c.confidence for c in line.chars]), 4)
        result.timings_ms["total"] = _ms(t0)
        return result

    def _read_upright(self, image: np.ndarray, detector: TextDetector,
                      half_turn: bool = True) -> tuple[OcrResult, tuple[bool, bool, float], bool]:
        """:meth:`_read_page`; a page found upside down is read again turned 180° (unless not
        ``half_turn``), so that its layout (columns, headings, paragraphs) is found the right way
        up, and mapped back. The last value says whether it was read turned 180° too."""
        result, cues, upside_down = self._read_page(image, detector)
        if not (upside_down and half_turn):
            return result, cues, False
        t0 = time.perf_counter()
        h, w = image.shape[:2]
        turned, _, still = self._read_page(cv2.rotate(image, cv2.ROTATE_180), detector)
        if still or orientation.page_score(turned) < orientation.page_score(result):
            return result, cues, True
        turned = _mapped(turned, from_half_turn(w, h), result.width, result.height)
        turned.timings_ms = {**turned.timings_ms, "upside_down": _ms(t0)}
        return turned, cues, True

    def _read_page(self, image: np.ndarray, detector: TextDetector) -> tuple[OcrResult, tuple[bool, bool, float], bool]:
        """Preprocess, find lines, read them: one orientation of a BGR/gray page.

        Returns:
            The result; whether its lines run down the page
            (:func:`~ocr_engine.orientation.lines_run_down`) and whether the detector found
            texture (:func:`~ocr_engine.orientation.is_texture`), the share of the page left unread
            (:func:`~ocr_engine.orientation.unread_share`); and whether it was found upside down.
        """
        t0 = time.perf_counter()
        h, w = image.shape[:2]
        pre_cfg = self.config.preprocess
        page = preprocess_page(
            image, contrast=pre_cfg.contrast, denoise_method=pre_cfg.denoise,
            deskew=pre_cfg.deskew and detector.deskews and not isinstance(detector, WholeImageDetector),
        )
        t_pre = _ms(t0)
        t1 = time.perf_counter()
        boxes = detector.detect_page(page.gray, None if detector.deskews else image)
        t_det = _ms(t1)
        t2 = time.perf_counter()
        crops = [crop_box(page.gray, b) for b in boxes]
        if pre_cfg.threshold:
            crops = [adaptive_threshold(c) for c in crops]
        # A column of vertical text is read as a line of its characters side by side.
        cells: list[list[Cell] | None] = [None] * len(crops)
        for i, b in enumerate(boxes):
            if b.vertical:
                crops[i], cells[i] = column_to_line(crops[i])
        reads = self.recognizer.recognize(crops, one_page=True) if crops else []
        if detector.columns_may_be_lines:
            boxes, reads, cells = self._columns_or_lines(page.gray, boxes, reads, cells)
        keep = [self._keep(r) for r in reads]
        unread = orientation.unread_share(boxes, keep, float(page.gray.shape[0] * page.gray.shape[1]))
        kept = [(b, r, c) for b, r, c, k in zip(boxes, reads, cells, keep) if k]
        upside_down = orientation.mostly_turned(r for _, r, _ in kept)
        if upside_down:
            kept.reverse()  # an upside-down page: its reading order runs bottom-up
        lines = [self._to_line(b, r, page.to_original, c) for b, r, c in kept]
        groups = self._paragraphs([b for b, _, _ in kept], page.gray.shape, upside_down)
        t_rec = _ms(t2)
        meta = self.recognizer.meta
        max_lines = getattr(detector, "max_lines", None)
        lines_down = orientation.lines_run_down(boxes, page.lines_vertical, max_lines)
        cues = (lines_down, orientation.is_texture(boxes, max_lines), unread)
        return OcrResult(
            width=int(w),
            height=int(h),
            lines=lines,
            model=ModelInfo(meta.model_name, meta.model_version),
            timings_ms={"preprocess": t_pre, "detect": t_det, "recognize": t_rec, "total": _ms(t0)},
            detector=detector.name,
            blocks=blocks_from_groups(lines, groups),
        ), cues, upside_down

    def _columns_or_lines(self, gray: np.ndarray, boxes: list[TextBox], reads: list[LineResult],
                          cells: list[list[Cell] | None]) -> tuple[list[TextBox], list[LineResult], list[list[Cell] | None]]:
        """Each column also read as a line turned a quarter (:meth:`TextBox.as_turned_line`):
        the surer of the two readings is kept, with its box."""
        turned = [i for i, b in enumerate(boxes) if b.vertical]
        if not turned:
            return boxes, reads, cells
        lines = [boxes[i].as_turned_line() for i in turned]
        again = self.recognizer.recognize([crop_box(gray, b) for b in lines], one_page=True)
        boxes, reads, cells = list(boxes), list(reads), list(cells)
        for i, box, read in zip(turned, lines, again):
            if read.confidence > reads[i].confidence:
                boxes[i], reads[i], cells[i] = box, read, None
        return boxes, reads, cells

    @staticmethod
    def _paragraphs(boxes: list[TextBox], shape: tuple[int, ...], upside_down: bool) -> list[list[int]]:
        """The paragraph blocks of a page's kept lines (:func:`~ocr_engine.layout.blocks.group_blocks`),
        found on the page as read: turned back upright when it is upside down. Columns of
        vertical text are one block each."""
        if any(b.vertical for b in boxes):
            return [[i] for i in range(len(boxes))]
        h, w = shape[:2]
        rects = []
        for b in boxes:
            x0, y0 = b.points.min(axis=0)
            x1, y1 = b.points.max(axis=0)
            if upside_down:
                x0, y0, x1, y1 = w - x1, h - y1, w - x0, h - y0
            rects.append((float(x0), float(y0), float(x1 - x0), float(y1 - y0)))
        return group_blocks(rects)

    def _keep(self, read: LineResult) -> bool:
        """Whether a reading is kept: confident enough for its length, and not only punctuation."""
        text = "".join(read.text.split())
        if not any(ch.isalnum() for ch in text):
            return False
        floor = MIN_SHORT_CONFIDENCE if len(text) <= 2 else 0.0
        return read.confidence >= max(self.config.min_line_confidence, floor)

    def detector_for(self, direction: str | None = None, name: str | None = None) -> TextDetector:
        """The detector named (``None``: the configured one), reading in ``direction`` when one
        is asked for.

        Raises:
            InvalidInput: An unknown direction or detector, or one this engine lacks.
        """
        detector = self.detector
        if name is not None and name != detector.name:
            check_detector(name)
            if name not in self.detectors:
                raise InvalidInput(f"detector {name!r} is not available here (available: "
                                   f"{', '.join(sorted(self.detectors))})")
            detector = self.detectors[name]
        if direction is None:
            return detector
        check_direction(direction)
        if isinstance(detector, DetectorChoice):
            return dataclasses.replace(detector, document=self.detector_for(direction, "opencv"),
                                       photo=self.detector_for(direction, "learned"))
        if isinstance(detector, MorphologyDetector) and direction != detector.direction:
            return dataclasses.replace(detector, direction=direction)
        if isinstance(detector, LearnedDetector) and direction != detector.direction:
            return detector.with_direction(direction)
        return detector

    @staticmethod
    def _to_line(box: TextBox, read: LineResult, to_original: np.ndarray,
                 cells: list[Cell] | None = None) -> Line:
        """Map a box and its reading back to original image coordinates.

        ``cells`` (vertical columns) map a position in the restacked line to a row of the column.
        """
        pts = apply_affine(box.points.astype(np.float64), to_original)
        top_l, top_r, bot_r, bot_l = pts
        if read.rotated_180 and cells is None:  # the text runs right-to-left in the box as found
            pts = np.array([bot_r, bot_l, top_l, top_r])
        # Character centres along the mid-line of the box as found (down the middle of a column).
        xs = np.array([c.x for c in read.chars], np.float64)
        if cells is not None:
            top_mid = (box.points[0] + box.points[1]) / 2.0
            ys = np.array([line_x_to_column_y(x, cells) for x in xs.tolist()], np.float64)
            centres = top_mid + np.stack([np.zeros_like(ys), ys], axis=1)
        else:
            left_mid = (box.points[0] + box.points[3]) / 2.0
            right_mid = (box.points[1] + box.points[2]) / 2.0
            centres = left_mid + (right_mid - left_mid) * (xs / max(box.width, 1e-6))[:, None]
        mapped = np.round(apply_affine(centres.reshape(-1, 2), to_original), 1).tolist()
        confidences = np.round(np.array([c.confidence for c in read.chars], np.float64), 4).tolist()
        chars = [Char(c.char, p, ox, oy) for c, p, (ox, oy) in zip(read.chars, confidences, mapped)]
        return Line(
            text=read.text,
            confidence=round(read.confidence, 4),  # raw: run_array reports it calibrated
            box=[[round(float(x), 1), round(float(y), 1)] for x, y in pts],
            chars=chars,
        )


def _mapped(result: OcrResult, m: np.ndarray, width: int, height: int) -> OcrResult:
    """``result`` (of a turned copy of an image) with its lines and blocks mapped back by the
    affine ``m`` into the image, ``width`` x ``height``."""
    result.lines = [map_line(line, m) for line in result.lines]
    result.blocks = blocks_from_groups(result.lines, [b.lines for b in result.blocks])
    result.width, result.height = width, height
    return result


def ocr_bytes(image_bytes: bytes, config: OcrConfig | None = None) -> OcrResult:
    """One-off convenience: build an engine and OCR one image (slow: loads the model).

    Example:
        >>> ocr_bytes(open("a.png", "rb").read()).text  # doctest: +SKIP
    """
    return OcrEngine.from_config(config).run(image_bytes)


__all__ = ["DETECT_MAX_SIDE", "MIN_SHORT_CONFIDENCE", "OcrEngine", "ocr_bytes", "recognizer_for"]
