"""Choosing the line finder per image (``detector=auto``).

Documents, scans and screenshots have a flat background: most of the page is one shade of
paper (or of a screen), and the OpenCV line finder reads their layout best. Photos (signs,
tickets, labels, posters, book pages shot with a phone) have no such background, and the
learned detector finds their lines. The rule is one number, :func:`flat_share`, against
:data:`DOCUMENT_SHARE`, chosen by measurement: every image of the harness's page sets (56
rendered pages, 51 real typeset pages, 9 ../shared/eval pages, 60 rendered photo scenes) read
with both finders (the harness's ``pagebench`` and ``photobench`` with ``--detectors opencv learned``),
then the share that serves each set best. Line recall / mean page CER in reading order:

=================  ===========  ===========  ============  ============
share at least     rendered     real         shared/eval   scenes
=================  ===========  ===========  ============  ============
(opencv always)    63.3 / 17.8  56.8 / 4.0   49.3 / 14.1   46.7 / 53.5
0.5                72.1 / 14.2  56.8 / 4.0   56.2 / 10.8   71.5 / 29.6
**0.6**            72.1 / 14.2  56.8 / 4.0   57.5 / 10.7   73.6 / 28.3
0.7                73.0 / 18.7  56.9 / 4.0   58.9 / 11.1   73.6 / 28.3
(learned always)   73.1 / 59.0  58.9 / 3.9   69.9 / 10.7   73.6 / 28.3
=================  ===========  ===========  ============  ============

(The learned finder alone loses the rendered pages' reading order: columns, contents pages.)

Example:
    >>> page = np.full((400, 300), 250, np.uint8)
    >>> page[50:60, 20:280] = 0
    >>> round(flat_share(page), 2)
    0.98
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ocr_engine.detection.base import TextBox, TextDetector

# An image whose share of background-shade pixels reaches this is a document.
DOCUMENT_SHARE = 0.6
# Pixels within this many gray levels of the commonest shade are background.
SHADE_TOLERANCE = 12
SAMPLE_SIDE = 256  # the share is measured on a copy this size at most


def flat_share(image: np.ndarray) -> float:
    """The share of an image's pixels within :data:`SHADE_TOLERANCE` of its commonest gray level."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape[:2]
    scale = min(1.0, SAMPLE_SIDE / max(h, w, 1))
    if scale < 1.0:
        gray = cv2.resize(gray, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    hist = np.bincount(gray.ravel(), minlength=256).astype(np.float64)
    peak = int(hist.argmax())
    near = hist[max(0, peak - SHADE_TOLERANCE):peak + SHADE_TOLERANCE + 1].sum()
    return float(near / max(hist.sum(), 1.0))


def looks_like_document(image: np.ndarray, share: float = DOCUMENT_SHARE) -> bool:
    """Whether ``image`` has a document's flat background (:func:`flat_share` >= ``share``)."""
    return flat_share(image) >= share


@dataclass
class DetectorChoice(TextDetector):
    """The ``document`` finder for document-like images, the ``photo`` finder for the rest.

    The engine asks :meth:`pick` once per image (before preprocessing: the two finders want
    the page deskewed or not) and runs the finder picked.
    """

    document: TextDetector
    photo: TextDetector
    share: float = DOCUMENT_SHARE
    name = "auto"

    def pick(self, image: np.ndarray) -> TextDetector:
        """The finder for ``image`` (gray or BGR)."""
        return self.document if looks_like_document(image, self.share) else self.photo

    def detect(self, gray: np.ndarray) -> list[TextBox]:
        return self.pick(gray).detect(gray)
