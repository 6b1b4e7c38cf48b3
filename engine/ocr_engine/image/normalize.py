"""Decoded pixels -> 8-bit BGR: bit depth, alpha, channels, and EXIF orientation.

OpenCV hands back whatever the file holds: 1-4 channels of 8- or 16-bit integers or floats.
:func:`to_bgr8` makes that ``[H, W, 3]`` BGR ``uint8``: 16-bit and float samples are scaled to
8 bits (:func:`as_uint8`), alpha is composited on white, or on black when what is drawn is
light (:func:`alpha_background`: white text on a transparent background stays readable), all
of it band by band so the conversion needs little memory beyond its output.
:func:`apply_orientation` turns an image upright by its EXIF/TIFF orientation.

Example:
    >>> gray_alpha = np.zeros((2, 3, 2), np.uint8)            # black, fully transparent
    >>> to_bgr8(gray_alpha)[0, 0].tolist()
    [255, 255, 255]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import cv2
import numpy as np


def alpha_background(bgr: np.ndarray, alpha: np.ndarray) -> float:
    """The level to composite on: 255 (white), or 0 when the opaque content is light.

    The mean luminance of the drawn pixels, weighted by their alpha, decides: light content
    (white text on a transparent background) would vanish on white, so it goes on black.

    Args:
        bgr: ``[H, W, 3]`` colour, any numeric type in 0-255.
        alpha: ``[H, W]`` or ``[H, W, 1]`` opacity in 0-1.

    Example:
        >>> a = np.ones((2, 2), np.float32)
        >>> alpha_background(np.zeros((2, 2, 3)), a), alpha_background(np.full((2, 2, 3), 250.0), a)
        (255.0, 0.0)
    """
    a = alpha.reshape(alpha.shape[0], alpha.shape[1])
    total = float(a.sum())
    if total <= 0.0:
        return 255.0
    luma = bgr[:, :, 0] * 0.114 + bgr[:, :, 1] * 0.587 + bgr[:, :, 2] * 0.299
    return 0.0 if float((luma * a).sum()) / total > 160.0 else 255.0


# Conversions run over bands of rows of about this many pixels, so their temporaries take a
# few MB: over the whole image at once, a 40 Mpx RGBA image took 1.8 GB (16-bit: 2.1 GB).
_BAND_PIXELS = 1 << 19


def _bands(img: np.ndarray) -> Iterator[tuple[int, int]]:
    h, w = img.shape[:2]
    step = max(1, _BAND_PIXELS // max(w, 1))
    for r0 in range(0, h, step):
        yield r0, min(h, r0 + step)


def _to_uint8(img: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """A function that maps a band of rows of ``img`` to ``uint8`` as the whole image maps.

    16-bit: ``v * 255 // 65535`` (= ``v // 257``). Float: ``v * 255`` rounded when all of it
    is in 0-1, else stretched min-max to 0-255 (NaN as 0). Other integers: stretched min-max.
    """
    if img.dtype == np.uint16:
        return lambda band: band // 257
    is_float = img.dtype in (np.float32, np.float64)

    def values(band: np.ndarray) -> np.ndarray:
        return np.nan_to_num(band.astype(np.float32)) if is_float else band

    lo, hi = np.inf, -np.inf
    for r0, r1 in _bands(img):
        band = values(img[r0:r1])
        if band.size:
            lo, hi = min(lo, float(band.min())), max(hi, float(band.max()))
    if not np.isfinite(lo):
        lo, hi = 0.0, 1.0
    if is_float and lo >= 0.0 and hi <= 1.0:
        return lambda band: values(band) * 255.0 + 0.5
    scale = 255.0 / (hi - lo) if hi - lo > np.finfo(np.float64).eps else 0.0
    shift = -lo * scale
    if is_float:  # as cv2.normalize(NORM_MINMAX) in float32, then truncated
        s32, t32 = np.float32(scale), np.float32(shift)
        return lambda band: np.clip(values(band) * s32 + t32, 0, 255)
    return lambda band: np.clip(np.rint(band.astype(np.float64) * scale + shift), 0, 255)


def as_uint8(img: np.ndarray) -> np.ndarray:
    """``img`` with 8-bit samples (same shape), converted band by band as :func:`to_bgr8` does.

    Example:
        >>> as_uint8(np.array([[0, 32896, 65535]], np.uint16)).tolist()
        [[0, 128, 255]]
    """
    if img.dtype == np.uint8:
        return img
    to8 = _to_uint8(img)
    out = np.empty(img.shape, np.uint8)
    for r0, r1 in _bands(img):
        out[r0:r1] = to8(img[r0:r1])
    return out


def _composite(img: np.ndarray) -> np.ndarray:
    """8-bit gray+alpha or BGRA -> BGR on the background :func:`alpha_background` picks.

    In integers, band by band: ``round(c * a / 255) + (255 - a)`` on white (the last term
    dropped on black) is exactly ``c * a/255 + bg * (1 - a/255)`` rounded.
    """
    out = np.empty((*img.shape[:2], 3), np.uint8)

    def split(r0: int, r1: int) -> tuple[np.ndarray, np.ndarray]:
        band = np.ascontiguousarray(img[r0:r1])
        if band.shape[2] == 2:
            bgr = cv2.cvtColor(cv2.extractChannel(band, 0), cv2.COLOR_GRAY2BGR)
            alpha = cv2.extractChannel(band, 1)
        else:
            bgr, alpha = cv2.cvtColor(band, cv2.COLOR_BGRA2BGR), cv2.extractChannel(band, 3)
        return bgr, cv2.merge([alpha, alpha, alpha])

    total = weighted = 0  # sum of alpha, sum of 1000 * luminance * alpha
    for r0, r1 in _bands(img):
        bgr, alpha = split(r0, r1)
        b, g, r, _ = cv2.sumElems(cv2.multiply(bgr, alpha, dtype=cv2.CV_16U))  # exact: <= 255 * 255
        total += int(cv2.sumElems(alpha)[0])
        weighted += 114 * int(b) + 587 * int(g) + 299 * int(r)
    on_white = total <= 0 or weighted <= 160_000 * total  # mean luminance of the drawing <= 160
    for r0, r1 in _bands(img):
        bgr, alpha = split(r0, r1)
        band = cv2.multiply(bgr, alpha, scale=1.0 / 255.0)
        out[r0:r1] = cv2.add(band, cv2.bitwise_not(alpha)) if on_white else band
    return out


def to_bgr8(img: np.ndarray) -> np.ndarray:
    """Any OpenCV-decoded array -> ``[H, W, 3]`` BGR ``uint8``; alpha composited on white
    (or on black when the content is light, see :func:`alpha_background`).

    16-bit, float and alpha images are converted in bands of rows (see :func:`as_uint8`),
    so the memory this takes beyond its input and output stays small.

    Example:
        >>> to_bgr8(np.full((2, 2), 65535, np.uint16))[0, 0].tolist()
        [255, 255, 255]
    """
    img = as_uint8(img)
    channels = 1 if img.ndim == 2 else img.shape[2]
    if channels == 1:
        return cv2.cvtColor(img if img.ndim == 2 else img[:, :, 0], cv2.COLOR_GRAY2BGR)
    if channels in (2, 4):
        return _composite(img)
    return img[:, :, :3]


def apply_orientation(img: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF/TIFF orientation value (1-8) so the image is upright.

    Example:
        >>> apply_orientation(np.arange(6).reshape(2, 3), 6).shape
        (3, 2)
    """
    if orientation == 2:
        return cv2.flip(img, 1)
    if orientation == 3:
        return cv2.rotate(img, cv2.ROTATE_180)
    if orientation == 4:
        return cv2.flip(img, 0)
    if orientation == 5:
        return cv2.transpose(img)
    if orientation == 6:
        return cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE)
    if orientation == 7:
        return cv2.rotate(cv2.transpose(img), cv2.ROTATE_180)
    if orientation == 8:
        return cv2.rotate(img, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return img
