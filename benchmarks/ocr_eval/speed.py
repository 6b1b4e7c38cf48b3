"""Latency benchmark of the full pipeline on given images or a synthetic A4-like page.

Example:
    >>> page = synthetic_a4_page(lines=5)
    >>> page.shape
    (1754, 1240)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from ocr_eval.metrics import percentile_ms

_WORDS = (
    "invoice total amount payment account number date address street room tax price "
    "quantity unit service delivery order customer reference contact phone email office"
).split()


def synthetic_a4_page(lines: int = 40, seed: int = 0) -> np.ndarray:
    """A white 1240x1754 page (A4 at 150 dpi) with ``lines`` lines of 11-pt-like text.

    Drawn with OpenCV's built-in font so it needs no font files; for latency only.
    """
    rng = np.random.default_rng(seed)
    page = np.full((1754, 1240), 250, np.uint8)
    y = 120
    for _ in range(lines):
        words = []
        while len(" ".join(words)) < 70:
            w = str(rng.choice(_WORDS))
            words.append(w if rng.random() > 0.2 else f"{rng.integers(10, 99999)}")
        cv2.putText(page, " ".join(words), (100, y), cv2.FONT_HERSHEY_DUPLEX, 0.75, 20, 1, cv2.LINE_AA)
        y += 38
    return page


@dataclass
class SpeedRow:
    """Latency of one image over several runs (milliseconds)."""

    name: str
    lines: int
    median_ms: float
    p95_ms: float
    stages_ms: dict[str, float]

    def format(self) -> str:
        """One human-readable line."""
        stages = ", ".join(f"{k} {v:.0f}" for k, v in self.stages_ms.items())
        return (f"{self.name:40s} {self.lines:3d} lines  median {self.median_ms:6.0f} ms  "
                f"p95 {self.p95_ms:6.0f} ms  ({stages})  {self.median_ms / max(self.lines, 1):.1f} ms/line")


def time_image(engine: Any, name: str, data: bytes, repeat: int = 5) -> SpeedRow:
    """Run ``engine.run(data)`` once to warm up, then ``repeat`` times; median stage times."""
    result = engine.run(data)
    runs = [engine.run(data).timings_ms for _ in range(max(1, repeat))]
    totals = [r["total"] for r in runs]
    stages = {k: float(np.median([r.get(k, 0.0) for r in runs])) for k in runs[0] if k != "total"}
    return SpeedRow(name, len(result.lines), percentile_ms(totals, 50), percentile_ms(totals, 95), stages)
