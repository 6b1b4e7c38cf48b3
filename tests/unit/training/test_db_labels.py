"""DB targets (models/db/labels.py): the shrunk text region, the threshold band and the masks,
for a known rectangle, a tilted line, a vertical column and a line too small to learn."""

from __future__ import annotations

import cv2
import numpy as np

from db.labels import SHRINK_RATIO, THRESH_MAX, THRESH_MIN, db_targets, shrink_distance


def _inside(poly: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    cv2.fillPoly(m, [np.round(poly).astype(np.int32)], 1)
    return m.astype(bool)


def test_rectangle_shrinks_by_the_db_distance():
    box = np.array([[20, 10], [220, 10], [220, 50], [20, 50]], float)  # 200 x 40
    d = shrink_distance(box)
    assert abs(d - 8000 * (1 - SHRINK_RATIO**2) / 480) < 1e-6  # A (1 - r^2) / L = 14
    t = db_targets([box], (64, 256))
    ys, xs = np.nonzero(t.gt)
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (34, 206, 24, 36)  # 14 px in on every side
    assert set(np.unique(t.gt)) == {0.0, 1.0}
    assert (t.gt <= _inside(box, t.gt.shape)).all()  # the text region lies inside the polygon
    assert (t.mask == 1).all()


def test_threshold_map_peaks_on_the_outline_and_fades_within_d():
    box = np.array([[20, 30], [220, 30], [220, 70], [20, 70]], float)  # D = 14
    t = db_targets([box], (100, 256))
    col = t.thresh[:, 120]
    assert abs(col[30] - THRESH_MAX) < 1e-5 and abs(col[70] - THRESH_MAX) < 1e-5  # on the outline
    assert abs(col[50] - THRESH_MIN) < 1e-5  # the centre is further than D from every edge
    assert THRESH_MIN < col[37] < THRESH_MAX and col[32] > col[37]  # decreasing inward
    assert THRESH_MIN < col[23] < col[28] < THRESH_MAX  # and outward
    assert abs(col[10] - THRESH_MIN) < 1e-5
    assert t.thresh.min() >= THRESH_MIN - 1e-6 and t.thresh.max() <= THRESH_MAX + 1e-6
    # The threshold loss is taken inside the polygon dilated by D (rows 16..84 here).
    assert t.thresh_mask[14, 120] == 0 and t.thresh_mask[18, 120] == 1 and t.thresh_mask[50, 120] == 1
    assert t.thresh_mask[82, 120] == 1 and t.thresh_mask[86, 120] == 0
    assert (t.thresh_mask >= t.gt).all()


def test_tilted_line_and_vertical_column():
    angle = np.deg2rad(30)
    u, v = np.array([np.cos(angle), np.sin(angle)]), np.array([-np.sin(angle), np.cos(angle)])
    c = np.array([150.0, 150.0])
    tilted = np.array([c - 100 * u - 15 * v, c + 100 * u - 15 * v, c + 100 * u + 15 * v, c - 100 * u + 15 * v])
    column = np.array([[260, 20], [290, 20], [290, 280], [260, 280]], float)  # TL, TR, BR, BL of a column
    t = db_targets([tilted, column], (300, 300))
    n, labels = cv2.connectedComponents(t.gt.astype(np.uint8))
    assert n == 3  # background + one region per line
    for poly in (tilted, column):
        region = labels == labels[tuple(np.round(poly.mean(0)[::-1]).astype(int))]
        assert region.any() and (region <= _inside(poly, t.gt.shape)).all()
        (_, _), (w, h), _ = cv2.minAreaRect(np.argwhere(region)[:, ::-1].astype(np.float32))
        d = shrink_distance(poly)
        assert abs(min(w, h) - (30 - 2 * d)) <= 2  # shrunk across the line by D on both sides
        assert abs(max(w, h) - (np.linalg.norm(poly[1] - poly[0]) if poly is tilted else 260) + 2 * d) <= 2


def test_small_and_ignored_lines_are_masked_out():
    tiny = np.array([[10, 10], [60, 10], [60, 14], [10, 14]], float)  # 4 px high
    ok = np.array([[10, 30], [110, 30], [110, 50], [10, 50]], float)
    skipped = np.array([[10, 60], [110, 60], [110, 80], [10, 80]], float)
    t = db_targets([tiny, ok, skipped], (96, 128), ignore=[False, False, True])
    assert t.mask[12, 30] == 0 and t.gt[12, 30] == 0
    assert t.mask[70, 60] == 0 and t.gt[70, 60] == 0 and t.thresh_mask[70, 60] == 0
    assert t.mask[40, 60] == 1 and t.gt[40, 60] == 1
    assert t.mask[90, 60] == 1  # background stays in the loss
