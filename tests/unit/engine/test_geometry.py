"""Rectangles, spans and the affine maps that carry boxes back to the image as given."""

from __future__ import annotations

import cv2
import numpy as np

from ocr_engine.geometry import (
    apply_affine,
    bounding,
    centre_y,
    from_clockwise,
    from_counterclockwise,
    map_line,
    span_distance,
    span_overlap,
    transposed,
    union,
    x_span,
    y_span,
)
from ocr_engine.schema import Char, Line


def test_rectangle_algebra() -> None:
    a, b = (10, 20, 30, 40), (35, 0, 10, 10)
    assert union(a, b) == union(b, a) == (10, 0, 35, 60)
    assert bounding([a]) == a and bounding([a, b]) == union(a, b)
    assert x_span(a) == (10, 40) and y_span(a) == (20, 60) and centre_y(a) == 40.0
    assert transposed(transposed(a)) == a


def test_spans_take_numbers_and_arrays() -> None:
    assert span_overlap(0, 10, 10, 20) == 0 and span_overlap(0, 10, 12, 20) == -2
    assert span_distance(0, 10, 12, 20) == 2 and span_distance(0, 10, 3, 5) == -5
    tops, bottoms = np.array([0, 5, 30]), np.array([10, 15, 40])
    assert span_overlap(tops, bottoms, 8, 12).tolist() == [2, 4, -18]
    matrix = span_overlap(tops[:, None], bottoms[:, None], tops[None, :], bottoms[None, :])
    assert matrix.shape == (3, 3) and np.array_equal(matrix, matrix.T)


def test_maps_back_from_a_quarter_turn_match_opencv() -> None:
    img = np.zeros((30, 50), np.uint8)
    img[7, 11] = 255  # (x, y) = (11, 7)
    for turn, back in ((cv2.ROTATE_90_CLOCKWISE, from_clockwise(30)),
                       (cv2.ROTATE_90_COUNTERCLOCKWISE, from_counterclockwise(50))):
        turned = cv2.rotate(img, turn)
        y, x = np.argwhere(turned)[0]
        # pixel centres: the maps act on coordinates, where pixel (x, y) spans [x, x + 1)
        corner = apply_affine(np.array([[x, y], [x + 1.0, y + 1.0]]), back)
        assert np.array_equal(corner.min(axis=0), [11, 7])


def test_map_line_rounds_to_a_tenth_of_a_pixel() -> None:
    line = Line("a", 0.9, [[0.0, 0.0], [10.0, 0.0], [10.0, 5.0], [0.0, 5.0]], [Char("a", 0.9, 1.234, 2.0)])
    shift = np.array([[1.0, 0.0, 0.333], [0.0, 1.0, 0.0]])
    moved = map_line(line, shift)
    assert moved.box[0] == [0.3, 0.0] and moved.chars[0].x == 1.6 and moved.text == "a"
    assert map_line(line, np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])).chars[0].x == 1.2
