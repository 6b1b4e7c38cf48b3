"""Preprocessing steps: small pure functions on numpy arrays.

Each step takes a 2-D ``uint8`` grayscale image and returns a new one (or an
angle); :func:`preprocess_page` chains the steps a config switches on.

Example:
    >>> import numpy as np
    >>> g = to_gray(np.zeros((10, 20, 3), np.uint8))
    >>> normalize_contrast(g, "clahe").shape
    (10, 20)
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


def to_gray(image: np.ndarray) -> np.ndarray:
    """Gray, BGR or BGRA image (any depth) -> 2-D ``uint8`` grayscale.

    Example:
        >>> to_gray(np.zeros((4, 5, 4), np.uint8)).shape
        (4, 5)
    """
    if image.ndim == 2:
        gray = image
    elif image.ndim == 3 and image.shape[2] == 1:
        gray = image[:, :, 0]
    elif image.ndim == 3 and image.shape[2] == 3:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    elif image.ndim == 3 and image.shape[2] == 4:
        gray = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    else:
        raise ValueError(f"unsupported image shape {image.shape}")
    if gray.dtype != np.uint8:
        gray = cv2.normalize(gray, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    return gray


def normalize_contrast(gray: np.ndarray, method: str = "clahe", clip_limit: float = 2.0,
                       tile: int = 8) -> np.ndarray:
    """Stretch contrast: ``clahe`` (local), ``equalize`` (global histogram) or ``none``.

    Example:
        >>> low = np.tile(np.arange(100, 120, dtype=np.uint8), (8, 1))
        >>> int(np.ptp(normalize_contrast(low, "equalize"))) > 200
        True
    """
    if method == "none":
        return gray
    if method == "equalize":
        return cv2.equalizeHist(gray)
    if method == "clahe":
        return cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=(tile, tile)).apply(gray)
    raise ValueError(f"unknown contrast method {method!r}")


def denoise(gray: np.ndarray, method: str = "median", strength: int = 3) -> np.ndarray:
    """Remove noise: ``median`` (salt-and-pepper), ``gaussian``, ``nlmeans`` (slow) or ``none``.

    Args:
        gray: Input image.
        method: Filter.
        strength: Kernel size (odd) for median/gaussian; ``h`` for nlmeans.

    Example:
        >>> img = np.full((9, 9), 200, np.uint8); img[4, 4] = 0
        >>> int(denoise(img, "median")[4, 4])
        200
    """
    if method == "none":
        return gray
    k = max(3, strength | 1)
    if method == "median":
        return cv2.medianBlur(gray, k)
    if method == "gaussian":
        return cv2.GaussianBlur(gray, (k, k), 0)
    if method == "nlmeans":
        return cv2.fastNlMeansDenoising(gray, None, h=float(max(strength, 3)))
    raise ValueError(f"unknown denoise method {method!r}")


def adaptive_threshold(gray: np.ndarray, block: int = 31, c: int = 10) -> np.ndarray:
    """Binarise with a local mean threshold; output text dark on white (0/255).

    Light-on-dark input is inverted first (judged by the median level).

    Example:
        >>> img = np.full((40, 40), 220, np.uint8); img[10:30, 18:22] = 30
        >>> out = adaptive_threshold(img)
        >>> int(out[20, 20]), int(out[2, 2])
        (0, 255)
    """
    if np.median(gray) < 128:
        gray = 255 - gray
    block = max(3, block | 1)
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, c)


def text_mask(gray: np.ndarray, min_contrast: int = 24) -> np.ndarray:
    """Polarity-free mask of text strokes: morphological gradient, Otsu, floor.

    Works for dark-on-light and light-on-dark text alike. ``min_contrast``
    keeps flat (e.g. all-black) images empty.

    Example:
        >>> int(text_mask(np.zeros((50, 50), np.uint8)).max())
        0
    """
    grad = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    otsu, _ = cv2.threshold(grad, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    _, mask = cv2.threshold(grad, max(float(otsu), float(min_contrast)), 255, cv2.THRESH_BINARY)
    return mask


def trim_to_ink_rows(gray: np.ndarray, max_band: float = 0.5, pad: float = 0.2,
                     level: float = 0.005, floor: float = 0.25) -> np.ndarray:
    """Cut the blank bands above and below the text of a loosely cropped line.

    Scaled to the model's height, a crop with wide margins shrinks its text to specks (a word
    in the middle of a photo or a slide). A row is blank when its mean morphological gradient
    is at most ``floor`` gray levels, or at most ``level`` times the busiest row's. So a lone
    ascender across a long line is ink, and so are faint and blurred strokes (a thresholded
    stroke mask loses them); a margin with paper grain or JPEG noise is not blank, and such a
    crop is left alone. When the rows between the blank margins span less than ``max_band`` of the
    height, the crop is cut to them plus ``pad`` times their height above and below. The line
    finder's crops (padded by 0.2 line heights) are left as they are, and so is the width:
    x positions in the result are x positions in ``gray``.

    Example:
        >>> crop = np.full((300, 400), 255, np.uint8); crop[140:160, 50:350] = 0
        >>> trim_to_ink_rows(crop).shape
        (32, 400)
        >>> trim_to_ink_rows(crop[135:165]).shape                   # a tight crop stays
        (30, 400)
    """
    h = gray.shape[0]
    if h < 16:
        return gray
    grad = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    energy = cv2.reduce(grad, 1, cv2.REDUCE_AVG, dtype=cv2.CV_32F).ravel()
    peak = float(energy.max())
    if peak <= 0:
        return gray
    inked = np.flatnonzero(energy > max(floor, level * peak))
    if inked.size == 0:
        return gray
    top, bottom = int(inked[0]), int(inked[-1]) + 1
    band = bottom - top
    if band >= max_band * h:
        return gray
    margin = int(round(pad * band)) + 1
    return gray[max(0, top - margin):min(h, bottom + margin)]


# The line-shaped blobs of :func:`_line_skew` show tilts up to this; beyond it, the page is
# searched turned by multiples of :data:`COARSE_STEP` degrees first.
FINE_RANGE = 10.0
COARSE_STEP = 15.0
# A page whose agreeing lines are shorter in total than this many image widths is searched
# at the coarse angles too (one line across an upright image passes it).
STRONG_SUPPORT = 0.8
# Lines found running down the page must add up to this many image widths.
VERTICAL_SUPPORT = 1.0


@dataclass(frozen=True)
class Skew:
    """What :func:`find_skew` found.

    Attributes:
        angle: The rotation that lines the text up with the nearest image axis.
        lines_vertical: The lines found run down the page once turned by ``angle``: a page
            lying on its side, or vertical text.
    """

    angle: float
    lines_vertical: bool = False


def estimate_skew(gray: np.ndarray, max_angle: float = 45.0) -> float:
    """The angle of :func:`find_skew` (see there).

    Example:
        >>> estimate_skew(np.full((100, 100), 255, np.uint8))
        0.0
    """
    return find_skew(gray, max_angle).angle


def find_skew(gray: np.ndarray, max_angle: float = 45.0) -> Skew:
    """Estimate the rotation (degrees) that lines the text up with the image axes.

    Uses the orientation of line-shaped blobs (characters merged horizontally),
    weighted by their length. Tilts beyond :data:`FINE_RANGE` do not merge into such
    blobs, so a page with little line evidence upright is also searched turned by
    multiples of :data:`COARSE_STEP`, and the angle whose lines agree over the
    greatest length wins (it must find clearly more than upright). With ``max_angle``
    45 or more every tilt is searched and the nearest axis wins: a page at 60° is
    turned by -30°, leaving its lines running down the page, and whether such a page
    lies on its side is for reading to tell (see ``OcrEngine``); vertical text stays
    vertical. The sign follows :func:`rotate_image` (counter-clockwise positive), so
    ``rotate_image(gray, estimate_skew(gray))`` deskews. The angle is 0.0 when there
    is too little text to tell.

    Example:
        >>> find_skew(np.full((100, 100), 255, np.uint8))
        Skew(angle=0.0, lines_vertical=False)
    """
    h, w = gray.shape
    scale = min(1.0, 1000.0 / max(h, w))
    # Explicit size, at least 1 px per side: a very thin image (e.g. 20000x8) would
    # otherwise round to a zero-height target and make cv2.resize raise.
    small = (cv2.resize(gray, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
             if scale < 1 else gray)
    mask = text_mask(small)
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n < 2:
        return Skew(0.0)
    char_h = float(np.median(stats[1:, cv2.CC_STAT_HEIGHT]))
    best, support, _ = _line_skew(mask, char_h, min(max_angle, FINE_RANGE))
    if support >= STRONG_SUPPORT or max_angle <= FINE_RANGE:
        return Skew(best)
    upright, vertical = support, False
    every_tilt = max_angle >= 45.0
    steps = int((90.0 if every_tilt else max_angle) // COARSE_STEP)
    coarse_angles = sorted({sign * k * COARSE_STEP for k in range(1, steps + 1) for sign in (1.0, -1.0)} - {-90.0})
    for coarse in coarse_angles:
        turned, _ = rotate_image(mask, coarse, border_value=0)
        fine, found, every = _line_skew(turned, char_h, FINE_RANGE)
        angle = coarse + fine
        quarter = round(angle / 90.0) if every_tilt else 0
        angle -= 90.0 * quarter  # to the nearest axis: lines end up horizontal or vertical
        # Most of what looks like a line there must agree (scattered edges in a photo do not);
        # lines running down the page need more (poles and frames in a photo run so too).
        down = quarter % 2 == 1
        if (found > support and found > (2.0 if down else 1.5) * upright and found >= 0.6 * every
                and abs(angle) <= max_angle and (not down or found >= VERTICAL_SUPPORT)):
            best, support, vertical = angle, found, down
    return Skew(best, vertical)


def _line_skew(mask: np.ndarray, char_h: float, max_angle: float) -> tuple[float, float, float]:
    """Tilt of the text lines in a stroke mask within ``max_angle``, its support, and all lines.

    The support is the total length of the line-shaped blobs within ``max_angle``, in image
    widths (0 when they are too few or disagree, and then the tilt is 0 too); the last value
    is the length of every line-shaped blob, whatever its angle.
    """
    k = max(3, int(round(char_h * 1.2)))
    lines = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, 1)))
    contours, _ = cv2.findContours(lines, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    angles, weights, every = [], [], 0.0
    for cnt in contours:
        (_, _), (rw, rh), ang = cv2.minAreaRect(cnt)
        if rw < rh:
            rw, rh, ang = rh, rw, ang - 90.0
        if rh < 3 or rw < 4 * rh:
            continue
        every += rw
        ang = (ang + 90.0) % 180.0 - 90.0  # (-90, 90]
        if abs(ang) <= max_angle:
            angles.append(ang)
            weights.append(rw)
    width = mask.shape[1]
    if len(angles) < 1 or sum(weights) < 0.2 * width:
        return 0.0, 0.0, every / width
    ang = np.asarray(angles)
    wts = np.asarray(weights, dtype=np.float64)
    median = _weighted_median(ang, wts)
    # Text lines agree on their tilt; edges in a photo do not. Without agreement, leave it.
    if _weighted_median(np.abs(ang - median), wts) > 1.5:
        return 0.0, 0.0, every / width
    return median, float(wts.sum()) / width, every / width


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """Weighted median of ``values``."""
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, cum[-1] / 2)])


def rotate_image(gray: np.ndarray, angle: float, border_value: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Rotate by ``angle`` degrees (OpenCV sign: counter-clockwise) around the centre.

    The canvas grows so nothing is cut off. Returns the image and the 2x3 affine
    matrix mapping original -> rotated coordinates.

    Example:
        >>> img, m = rotate_image(np.zeros((10, 20), np.uint8), 90)
        >>> img.shape
        (20, 10)
    """
    h, w = gray.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(round(h * sin + w * cos)), int(round(h * cos + w * sin))
    m[0, 2] += nw / 2.0 - w / 2.0
    m[1, 2] += nh / 2.0 - h / 2.0
    if border_value is None:
        border_value = int(np.median(gray))
    out = cv2.warpAffine(gray, m, (nw, nh), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=border_value)
    return out, m


@dataclass(frozen=True)
class Preprocessed:
    """A preprocessed page.

    Attributes:
        gray: The page as the detector and recogniser see it.
        to_original: 2x3 affine matrix from ``gray`` coordinates back to the
            original image.
        skew_deg: The rotation applied to deskew (0.0 if none).
        lines_vertical: The text lines run down the page (see :class:`Skew`).
    """

    gray: np.ndarray
    to_original: np.ndarray
    skew_deg: float
    lines_vertical: bool = False


def preprocess_page(image: np.ndarray, *, contrast: str = "none", denoise_method: str = "none",
                    deskew: bool = True, max_skew_deg: float = 45.0,
                    min_skew_deg: float = 0.3) -> Preprocessed:
    """Gray -> contrast -> denoise -> deskew, each step as configured.

    Example:
        >>> p = preprocess_page(np.full((30, 40, 3), 255, np.uint8))
        >>> p.gray.shape, p.skew_deg
        ((30, 40), 0.0)
    """
    gray = to_gray(image)
    gray = normalize_contrast(gray, contrast)
    gray = denoise(gray, denoise_method)
    identity = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    if deskew:
        skew = find_skew(gray, max_skew_deg)
        if abs(skew.angle) >= min_skew_deg:
            rotated, m = rotate_image(gray, skew.angle)
            return Preprocessed(rotated, cv2.invertAffineTransform(m), skew.angle, skew.lines_vertical)
        return Preprocessed(gray, identity, 0.0, skew.lines_vertical)
    return Preprocessed(gray, identity, 0.0)
