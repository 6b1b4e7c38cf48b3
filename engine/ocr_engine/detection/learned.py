"""The learned line finder: a DB (differentiable binarisation) segmentation model in ONNX.

Three parts, composed by :class:`LearnedDetector`:

- :func:`db_input`: the page scaled so that its longer side is at most ``max_side`` and both
  sides are multiples of 32, normalised as the model's metadata says;
- :class:`DbSession`: the onnxruntime session of the model (its file, contract and settings);
- :func:`db_boxes`: the probability map -> text lines: the map thresholded, each connected
  region's rotated rectangle kept when the region is sure enough, grown back to the whole
  line (a DB model is trained on shrunk regions), scaled to the page.

The model file's contract (CONTRACTS.md, "The detection model file"): one input
``[1, 3, H, W]`` float32, one output ``[1, 1, H, W]`` of text probabilities; the optional
metadata keys ``db_mean``/``db_std`` (three comma-separated numbers, BGR order),
``db_thresh``, ``db_box_thresh`` and ``db_unclip`` override the defaults below.

Example:
    >>> prob = np.zeros((64, 128), np.float32)
    >>> prob[20:30, 10:110] = 0.9
    >>> [b.points.round().astype(int).tolist() for b in db_boxes(prob, (64, 128))]
    [[[4, 14], [115, 14], [115, 35], [4, 35]]]
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from ocr_engine.detection.base import TextBox, TextDetector
from ocr_engine.errors import ModelError
from ocr_engine.layout import column_order, find_gutters, reading_order

# The model sees the page scaled to this longer side at most (1-core cost grows with the area).
MAX_SIDE = 960
# Defaults of the model's settings (each may be given in its metadata).
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
THRESH = 0.3  # map pixels above this are text
BOX_THRESH = 0.6  # a region is kept when its mean probability reaches this
UNCLIP = 1.5  # a region grows by area * UNCLIP / perimeter on every side
MAX_REGIONS = 1000
MIN_SIDE = 3.0  # px of the map: thinner regions are noise
# Of a grown box's height, about this share is the growth around its text (for the line
# height the column finder wants).
UNCLIP_SHARE = 0.5
# A box this much taller than wide is a column of vertical text.
COLUMN_RATIO = 1.5


@dataclass(frozen=True)
class DbSettings:
    """How one model's map is read (from its metadata, else the module defaults)."""

    mean: tuple[float, float, float] = MEAN
    std: tuple[float, float, float] = STD
    thresh: float = THRESH
    box_thresh: float = BOX_THRESH
    unclip: float = UNCLIP

    @classmethod
    def from_metadata(cls, meta: dict[str, str]) -> DbSettings:
        """The settings a model's ``custom_metadata_map`` gives (the defaults for the rest).

        Raises:
            ModelError: A value that is not a number (or not three of them).
        """
        try:
            mean = _triple(meta["db_mean"]) if "db_mean" in meta else MEAN
            std = _triple(meta["db_std"]) if "db_std" in meta else STD
            return cls(mean, std, float(meta.get("db_thresh", THRESH)),
                       float(meta.get("db_box_thresh", BOX_THRESH)), float(meta.get("db_unclip", UNCLIP)))
        except ValueError as exc:
            raise ModelError(f"detection model metadata: {exc}") from exc


def _triple(text: str) -> tuple[float, float, float]:
    values = tuple(float(v) for v in text.split(","))
    if len(values) != 3:
        raise ValueError(f"expected three numbers, got {text!r}")
    return values  # type: ignore[return-value]


class DbSession:
    """The onnxruntime session of one DB model, created once.

    Raises:
        ModelError: The file is missing, does not load, or breaks the contract.
    """

    def __init__(self, model_path: str | os.PathLike[str], *, intra_op_threads: int = 1) -> None:
        self.path = Path(model_path)
        if not self.path.is_file():
            raise ModelError(f"detection model not found: {self.path.name}")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = intra_op_threads
        opts.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(str(self.path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"detection model does not load: {self.path.name}: {exc}") from exc
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4 or inputs[0].shape[1] != 3 or len(outputs) != 1:
            raise ModelError(f"detection model {self.path.name}: expected one [N, 3, H, W] input and one output")
        self._input = inputs[0].name
        meta = self._session.get_modelmeta()
        self.metadata = dict(meta.custom_metadata_map)
        self.settings = DbSettings.from_metadata(self.metadata)
        self.name = self.metadata.get("model_name", self.path.stem)

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """The ``[H, W]`` text probability map of a ``[1, 3, H, W]`` input."""
        out = self._session.run(None, {self._input: batch})[0]
        return np.asarray(out, np.float32).reshape(out.shape[-2:])


def db_input(image: np.ndarray, settings: DbSettings, max_side: int = MAX_SIDE) -> tuple[np.ndarray, float, float]:
    """The model input for a gray or BGR page, and the x and y scales from the page to it.

    Example:
        >>> x, sx, sy = db_input(np.zeros((100, 300), np.uint8), DbSettings(), max_side=160)
        >>> x.shape, round(sx, 3), round(sy, 3)
        ((1, 3, 64, 160), 0.533, 0.64)
    """
    h, w = image.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    nh = max(32, int(round(h * scale / 32)) * 32)
    nw = max(32, int(round(w * scale / 32)) * 32)
    bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image
    small = cv2.resize(bgr, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    x = (small.astype(np.float32) / 255.0 - np.array(settings.mean, np.float32)) / np.array(settings.std, np.float32)
    return x.transpose(2, 0, 1)[None].copy(), nw / w, nh / h


def db_boxes(prob: np.ndarray, page_shape: tuple[int, ...], settings: DbSettings = DbSettings()) -> list[TextBox]:
    """Text lines from a probability map, in page coordinates (not yet in reading order).

    Each box's points run along the line (top-left first); a box much taller than wide is a
    column of vertical text (``vertical``), its points as for a column: top edge first.
    """
    mh, mw = prob.shape
    sx, sy = page_shape[1] / mw, page_shape[0] / mh
    bitmap = (prob > settings.thresh).astype(np.uint8)
    contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    boxes: list[TextBox] = []
    for contour in contours[:MAX_REGIONS]:
        (cx, cy), (rw, rh), angle = cv2.minAreaRect(contour)
        if min(rw, rh) < MIN_SIDE:
            continue
        score = _region_score(prob, contour)
        if score < settings.box_thresh:
            continue
        grow = rw * rh * settings.unclip / (2.0 * (rw + rh))
        rect = ((cx, cy), (rw + 2 * grow, rh + 2 * grow), angle)
        pts = cv2.boxPoints(rect).astype(np.float64) * np.array([sx, sy])
        box = _line_box(pts, score)
        if box is not None:
            boxes.append(box)
    return boxes


def _region_score(prob: np.ndarray, contour: np.ndarray) -> float:
    """Mean probability inside a region (over its bounding rectangle's pixels inside it)."""
    x, y, w, h = cv2.boundingRect(contour)
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [contour.reshape(-1, 2) - np.array([x, y])], 1)
    return float(cv2.mean(prob[y:y + h, x:x + w], mask)[0])


def _line_box(pts: np.ndarray, score: float) -> TextBox | None:
    """A :class:`TextBox` from a rotated rectangle's four corners (any order)."""
    centre = pts.mean(axis=0)
    edges = [pts[1] - pts[0], pts[2] - pts[1]]
    lengths = [float(np.hypot(*e)) for e in edges]
    if min(lengths) < 2.0:
        return None
    along = edges[int(np.argmax(lengths))]
    long_len, short_len = max(lengths), min(lengths)
    if abs(along[1]) > abs(along[0]) and long_len >= COLUMN_RATIO * short_len:
        # A column: the top edge is the short one, points from its top-left.
        u = along / long_len
        if u[1] < 0:
            u = -u
        v = np.array([-u[1], u[0]])  # across the column, pointing left; flip to the right
        v = -v if v[0] < 0 else v
        half_l, half_s = u * long_len / 2, v * short_len / 2
        p = np.array([centre - half_l - half_s, centre - half_l + half_s,
                      centre + half_l + half_s, centre + half_l - half_s])
        return TextBox(p, score, vertical=True)
    if abs(along[1]) > abs(along[0]):  # a near-square box: read it as a line across
        along = edges[int(np.argmin(lengths))]
        long_len, short_len = short_len, long_len
    u = along / max(float(np.hypot(*along)), 1e-9)
    if u[0] < 0:
        u = -u
    v = np.array([-u[1], u[0]])  # down the page
    half_l, half_s = u * long_len / 2, v * short_len / 2
    p = np.array([centre - half_l - half_s, centre + half_l - half_s,
                  centre + half_l + half_s, centre - half_l + half_s])
    return TextBox(p, score)


def in_reading_order(boxes: list[TextBox], shape: tuple[int, ...] | None = None) -> list[TextBox]:
    """The boxes sorted by :func:`~ocr_engine.layout.reading_order` of their bounding
    rectangles, column by column where the page (``shape``, when given) has gutters between
    them (:func:`~ocr_engine.layout.find_gutters` over the lines), or by
    :func:`~ocr_engine.layout.column_order` (right to left) when most of them are columns.

    Example:
        >>> cols = [TextBox.from_rect(x, 0, 10, 60, vertical=True) for x in (0, 20, 40)]
        >>> [int(b.points[0, 0]) for b in in_reading_order(cols)]
        [40, 20, 0]
    """
    rects = []
    for b in boxes:
        x0, y0 = b.points.min(axis=0)
        x1, y1 = b.points.max(axis=0)
        rects.append((float(x0), float(y0), float(x1 - x0), float(y1 - y0)))
    by_rect: dict[tuple[float, ...], list[int]] = {}
    for i, r in enumerate(rects):
        by_rect.setdefault(r, []).append(i)
    columns = 2 * sum(b.vertical for b in boxes) > len(boxes)
    if columns:
        ordered = column_order(rects)
    else:
        gutters = []
        if shape is not None and rects:
            line_h = float(np.median([r[3] for r in rects])) / (1.0 + UNCLIP_SHARE)
            gutters = find_gutters(rects, line_h, (int(shape[0]), int(shape[1])))
        ordered = reading_order(rects, gutters)
    return [boxes[by_rect[tuple(r)].pop(0)] for r in ordered]


class LearnedDetector(TextDetector):
    """Lines found by a DB model (:class:`DbSession`), in reading order.

    Args:
        session: The model's session.
        max_side: Longer side of the page as the model sees it.
        max_lines: At most this many lines (the surest) per page.
        direction: How the text runs: ``horizontal`` (a tall box is a line turned a
            quarter), ``vertical`` (a tall box is a column of characters) or ``auto``
            (either: the engine reads both and keeps the surer).
    """

    name = "learned"
    deskews = False  # rotated boxes follow tilted lines; the page is read as given

    def __init__(self, session: DbSession, *, max_side: int = MAX_SIDE, max_lines: int = 400,
                 direction: str = "auto") -> None:
        self.session = session
        self.max_side = max_side
        self.max_lines = max_lines
        self.direction = direction
        self.columns_may_be_lines = direction == "auto"

    def with_direction(self, direction: str) -> LearnedDetector:
        """The same detector (same session) for text running ``direction``."""
        return LearnedDetector(self.session, max_side=self.max_side, max_lines=self.max_lines,
                               direction=direction)

    def detect(self, gray: np.ndarray) -> list[TextBox]:
        return self.detect_image(gray)

    def detect_page(self, gray: np.ndarray, image: np.ndarray | None = None) -> list[TextBox]:
        return self.detect_image(gray if image is None else image)

    def detect_image(self, image: np.ndarray) -> list[TextBox]:
        """Lines of a gray or BGR page (colour helps where text and background differ in hue only)."""
        if min(image.shape[:2]) < 4:
            return []
        x, _, _ = db_input(image, self.session.settings, self.max_side)
        prob = self.session.probabilities(x)
        boxes = db_boxes(prob, image.shape, self.session.settings)
        if self.direction == "horizontal":
            boxes = [b.as_turned_line() if b.vertical else b for b in boxes]
        if len(boxes) > self.max_lines:
            boxes = sorted(boxes, key=lambda b: -b.score)[: self.max_lines]
        return in_reading_order(boxes, image.shape)


__all__ = ["DbSession", "DbSettings", "LearnedDetector", "db_boxes", "db_input", "in_reading_order"]
