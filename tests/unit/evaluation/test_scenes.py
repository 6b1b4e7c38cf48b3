"""The rendered photo scenes: determinism, every kind, truth inside the image and on the ink, disjoint splits."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

pytest.importorskip("PIL")

from ocr_eval.metrics import normalize  # noqa: E402
from ocr_eval.rendered.layout import Face, font_spec  # noqa: E402
from ocr_eval.scenes import KINDS, Scene, render_scene, split_of  # noqa: E402
from ocr_eval.scenes.camera import turn_points, warp_points  # noqa: E402
from ocr_eval.scenes.canvas import Canvas, Run  # noqa: E402
from ocr_eval.scenes.texts import LABELS  # noqa: E402

SEEDS = range(len(KINDS))  # every kind once


@pytest.fixture(scope="module")
def scenes() -> dict[str, list[Scene]]:
    return {split: [render_scene(s, split=split) for s in SEEDS] for split in ("bench", "train")}


def _contrast(gray: np.ndarray, points: np.ndarray) -> tuple[float, float]:
    """Mean distance from the local background shade inside the polygon, and in a thin ring around it."""
    side = min(np.linalg.norm(points[3] - points[0]), np.linalg.norm(points[1] - points[0]))
    ring_px = max(2, int(round(side * 0.25)))
    inside = np.zeros(gray.shape, np.uint8)
    cv2.fillPoly(inside, [np.round(points).astype(np.int32)], 1)
    near = cv2.dilate(inside, np.ones((3, 3), np.uint8))
    ring = cv2.dilate(inside, np.ones((2 * ring_px + 1,) * 2, np.uint8)) - near
    background = float(np.median(gray[ring > 0]))
    return float(np.abs(gray[inside > 0] - background).mean()), float(np.abs(gray[ring > 0] - background).mean())


def test_same_seed_and_split_same_scene(scenes: dict[str, list[Scene]]) -> None:
    again = render_scene(3)
    first = scenes["bench"][3]
    assert np.array_equal(again.image, first.image) and again.kind == first.kind and again.tags == first.tags
    assert [(ln.text, ln.vertical) for ln in again.lines] == [(ln.text, ln.vertical) for ln in first.lines]
    assert all(np.array_equal(a.points, b.points) for a, b in zip(again.lines, first.lines))
    other = scenes["train"][3]
    assert other.kind == first.kind and [ln.text for ln in other.lines] != [ln.text for ln in first.lines]
    with pytest.raises(ValueError, match="split"):
        render_scene(0, split="test")


def test_every_kind_with_its_truth_inside_the_image(scenes: dict[str, list[Scene]]) -> None:
    for split, drawn in scenes.items():
        assert {s.kind for s in drawn} == set(KINDS)
        for seed, scene in zip(SEEDS, drawn):
            h, w = scene.image.shape[:2]
            assert scene.kind == KINDS[seed % len(KINDS)] and scene.tags[0] == scene.kind
            assert scene.image.dtype == np.uint8 and scene.image.shape[2] == 3
            assert 640 <= max(h, w) <= 1600, (split, seed)
            assert 3 <= len(scene.lines) <= 30, (split, seed, len(scene.lines))
            for line in scene.lines:
                assert line.points.shape == (4, 2) and line.points.dtype == np.float64
                assert (line.points >= 0).all() and (line.points[:, 0] <= w).all() and (line.points[:, 1] <= h).all()
                assert line.text == " ".join(line.text.split()) and normalize(line.text)
                assert not set(line.text) & set('\t\\"')
    kinds = {s.kind: s for s in scenes["bench"]}
    assert any(ln.vertical for ln in kinds["vertical_ad"].lines)
    assert {t for t in kinds["ad_rotated"].tags if t.startswith("rot=")} <= {"rot=90", "rot=270"}
    assert "spaced" in kinds["ticket"].tags


def test_truth_polygons_lie_on_the_ink(scenes: dict[str, list[Scene]]) -> None:
    """Inside a polygon the pixels stand out from the local background; a polygon moved off its line does not."""
    held = moved = total = 0
    for scene in scenes["bench"]:
        gray = cv2.cvtColor(scene.image, cv2.COLOR_BGR2GRAY).astype(np.float32)
        for line in scene.lines:
            inside, ring = _contrast(gray, line.points)
            held += inside > ring
            off = line.points + (line.points[3] - line.points[0]) * 1.5  # one and a half line heights away
            inside, ring = _contrast(gray, off)
            moved += inside > ring
            total += 1
    assert total > 100
    assert held >= 0.97 * total, (held, total)  # a frame drawn close round a line may outweigh it
    assert moved <= 0.8 * total, (moved, total)


def test_the_splits_share_no_line_text(scenes: dict[str, list[Scene]]) -> None:
    texts = {split: {normalize(ln.text) for s in drawn for ln in s.lines} for split, drawn in scenes.items()}
    assert len(texts["bench"]) > 120 and len(texts["train"]) > 120
    assert not texts["bench"] & texts["train"]
    for split, drawn in scenes.items():
        assert {split_of(ln.text) for s in drawn for ln in s.lines} == {split}
    for name, options in LABELS.items():  # every fixed vocabulary can serve both splits
        assert {split_of(o) for o in options} == {"bench", "train"}, name


def test_a_written_line_box_is_its_ink_box() -> None:
    face = Face(font_spec("NotoSansCJK-Bold"), 37)
    for runs in ([Run("出口 Exit", face, (0, 0, 0))],
                 [Run("北京南站", face, (0, 0, 0), tracking=14.5)],
                 [Run("￥", face.at(15), (0, 0, 0)), Run("5.8", face.at(60), (0, 0, 0), stroke=3,
                                                        stroke_fill=(90, 90, 90))]):
        c = Canvas.blank(520, 140, (255, 255, 255))
        line = c.write(20.4, 100.6, runs)
        ys, xs = np.nonzero(c.array().min(axis=2) < 255)
        assert line.box == (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    c = Canvas.blank(120, 400, (255, 255, 255))
    col = c.column(60.5, 10.0, "山高水长", face, (0, 0, 0))
    ys, xs = np.nonzero(c.array().min(axis=2) < 255)
    assert col.vertical and col.box == (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)


def test_points_follow_the_warp_and_the_quarter_turns() -> None:
    h = np.array([[0.9, 0.05, 12.0], [-0.03, 1.1, 7.0], [1e-4, -2e-4, 1.0]])
    pts = np.array([[10.0, 20.0], [300.0, 25.0], [290.0, 80.0], [5.0, 60.0]])
    expected = cv2.perspectiveTransform(pts[None].astype(np.float64), h)[0]
    assert np.allclose(warp_points(h, pts), expected)
    img = np.zeros((50, 80), np.uint8)
    img[12, 30] = 255  # the pixel whose centre is (30.5, 12.5)
    for k in range(4):
        turned = np.rot90(img, k)
        y, x = np.argwhere(turned == 255)[0]
        assert np.allclose(turn_points(np.array([[30.5, 12.5]]), k, 80, 50)[0], (x + 0.5, y + 0.5)), k
