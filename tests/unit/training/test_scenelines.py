import random

import numpy as np
import pytest

from crnn.charset import CHAR_TO_CLASS
from crnn.data import SyntheticBatches
from crnn.scenelines import LINES_PER_SCENE, SceneLines, cut_line
from crnn.synth import HEIGHT
from ocr_eval.scenes import SceneLine, render_scene


def test_a_line_is_cut_flat_from_its_quadrilateral_with_a_margin():
    image = np.full((100, 300, 3), 255, np.uint8)
    image[40:60, 50:250] = 0  # a dark bar where the "line" is
    line = SceneLine(np.array([[50, 40], [250, 40], [250, 60], [50, 60]], float), "abc")
    crop = cut_line(image, line, random.Random(0))
    assert crop.dtype == np.uint8 and crop.shape[0] == HEIGHT
    # margins: 0-25 % of the height above and below, 5-45 % beside: the aspect stays near the line's
    assert 200 / (20 * 1.5) * HEIGHT <= crop.shape[1] <= (200 + 20 * 0.9) / 20 * HEIGHT
    assert crop[HEIGHT // 2, crop.shape[1] // 2] < 60  # the line's middle is the bar
    tiny = SceneLine(np.array([[0, 0], [2, 0], [2, 2], [0, 2]], float), "a")
    assert cut_line(image, tiny, random.Random(0)) is None


def test_scene_samples_are_the_train_split_s_lines_deterministic_and_encodable():
    lines = SceneLines()
    samples = [lines.sample(s) for s in range(LINES_PER_SCENE)]
    again = SceneLines().sample(3)
    assert again.label == samples[3].label and np.array_equal(again.image, samples[3].image)
    texts = {ln.text for ln in render_scene(0, split="train").lines}
    bench = {ln.text for ln in render_scene(0, split="bench").lines}
    for s in samples:
        assert s.kind == "scene" and s.image.shape[0] == HEIGHT and s.image.dtype == np.uint8
        assert s.label and all(ch in CHAR_TO_CLASS for ch in s.label)
        assert s.label in texts and s.label not in bench - texts
    assert len({s.label for s in samples}) > 1  # one scene gives several of its lines


def test_batches_hold_the_scene_share():
    it = iter(SyntheticBatches(start=0, batch_size=8, pool_batches=2, scene_fraction=0.25))
    # the scene lines are a pool's last indices: 12-15 of 16 here, lines of scene 12 // 8 = 1
    texts = {ln.text for ln in render_scene(12 // LINES_PER_SCENE, split="train").lines}
    images, targets, lengths, labels = next(it)
    assert images.shape[:3] == (8, 1, HEIGHT) and int(lengths.sum()) == targets.numel()
    assert sum(label in texts for label in labels) >= 1
    with pytest.raises(ValueError, match="no synthetic line"):
        SyntheticBatches(start=0, batch_size=8, real_fraction=0.5, scene_fraction=0.5)
