"""Real-print training lines (crnn.reallines) and their share of the batches (crnn.data)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from crnn.charset import encode
from crnn.data import SyntheticBatches, real_per_batch
from crnn.reallines import REALPRINT_TRAIN, RealLines, check_training_path, ctc_frames_needed
from crnn.synth import HEIGHT, MAX_WIDTH

LABELS = ["\\usepackage{ctex} will follow", "第 3 节 宏包选项与 \\ctexset", "ＡＢ１２ user_name@host.org 50%",
          "Committee address: ~/.config/x"]


def _crop(text: str, h: int) -> np.ndarray:
    img = np.full((h, int(h * 0.45 * len(text)) + 2 * h), 255, np.uint8)
    cv2.putText(img, text.encode("ascii", "replace").decode(), (h // 2, int(h * 0.75)), cv2.FONT_HERSHEY_SIMPLEX,
                h / 40, 0, max(1, h // 20), cv2.LINE_AA)
    return img


@pytest.fixture(scope="module")
def real_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data") / "realprint" / "train"
    (root / "crops" / "doc").mkdir(parents=True)
    rows = ["image\ttext\tlang"]
    for i, (text, h) in enumerate(zip(LABELS * 3, (14, 23, 40, 56) * 3)):
        name = f"crops/doc/l{i:03d}.png"
        cv2.imwrite(str(root / name), _crop(text, h))
        rows.append(f"{name}\t{text}\ten")
    (root / "lines.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root


@pytest.mark.parametrize("path", ["data/realprint/dev", "data/realprint/dev/lines.tsv", "../shared/eval",
                                  "/w/shared/eval/lines.tsv", "/w/data/realprint/train/../dev"])
def test_dev_and_eval_paths_are_refused(path):
    with pytest.raises(ValueError, match="never for training"):
        check_training_path(path)


def test_the_train_split_is_allowed_wherever_the_checkout_lives():
    assert check_training_path("/home/dev/ocr/data/realprint/train").name == "train"
    assert check_training_path(REALPRINT_TRAIN) == REALPRINT_TRAIN.resolve()


def test_a_dev_folder_or_a_crop_pointing_into_dev_is_refused(tmp_path):
    dev = tmp_path / "realprint" / "dev"
    dev.mkdir(parents=True)
    (dev / "lines.tsv").write_text("image\ttext\tlang\n", encoding="utf-8")
    with pytest.raises(ValueError, match="never for training"):
        RealLines(dev)
    train = tmp_path / "realprint" / "train"
    train.mkdir()
    (train / "lines.tsv").write_text("image\ttext\tlang\n../dev/crops/a.png\tsome text\ten\n", encoding="utf-8")
    with pytest.raises(ValueError, match="never for training"):
        RealLines(train)


def test_real_samples_are_deterministic_height_32_uint8_and_encodable(real_root):
    real = RealLines(real_root)
    assert len(real) == len(LABELS) * 3
    assert "AB12 user_name@host.org 50%" in {label for _, label in real.items}  # folded like synthetic labels
    seen = set()
    for seed in range(120):
        a, b = real.sample(seed), real.sample(seed)
        assert np.array_equal(a.image, b.image) and a.label == b.label
        assert a.image.dtype == np.uint8 and a.image.shape[0] == HEIGHT and 8 <= a.image.shape[1] <= MAX_WIDTH
        assert a.image.shape[1] // 4 >= ctc_frames_needed(a.label)
        assert encode(a.label) and a.kind == "real"
        seen.add((a.label, a.image.tobytes()))
    assert len(seen) > 100  # the seed varies the line and its degradations
    assert not np.array_equal(real.sample(1).image, real.sample(2).image)


def test_scaling_keeps_the_aspect_as_the_recogniser_does(real_root):
    """Without the random stretch, a crop scales to height 32 keeping its width/height ratio."""
    import random

    from ocr_engine.recognition.recognizer import resize_to_height

    crop = _crop("aspect", 56)

    class NoDraw(random.Random):
        def random(self):  # every optional degradation off, the stretch at 1
            return 0.99

    out = RealLines.degrade(crop, NoDraw(0), np.random.default_rng(0))
    assert out.shape == resize_to_height(crop, HEIGHT, 8, MAX_WIDTH).shape


def test_batches_hold_the_real_share_and_stay_synthetic_without_it(real_root):
    assert real_per_batch(32, 0.25) == 8 and real_per_batch(32, 0) == 0
    with pytest.raises(ValueError):
        real_per_batch(32, 1.0)
    mixed = SyntheticBatches(start=0, batch_size=8, pool_batches=2, real_fraction=0.25, real_root=str(real_root))
    real_labels = {label for _, label in RealLines(real_root).items}
    it = iter(mixed)
    for _ in range(2):
        images, targets, lengths, labels = next(it)
        assert sum(label in real_labels for label in labels) == 2
        assert images.shape[:3] == (8, 1, HEIGHT) and int(lengths.sum()) == targets.numel()
    plain = next(iter(SyntheticBatches(start=0, batch_size=8, pool_batches=2)))
    again = next(iter(SyntheticBatches(start=0, batch_size=8, pool_batches=2, real_fraction=0.0)))
    assert plain[3] == again[3] and not set(plain[3]) & real_labels


@pytest.mark.skipif(not (REALPRINT_TRAIN / "lines.tsv").is_file(), reason="data/realprint/train not built")
def test_the_built_train_split_loads_and_its_lines_fit():
    real = RealLines()
    assert len(real) > 10000
    for seed in range(40):
        s = real.sample(seed)
        assert s.image.shape[0] == HEIGHT and encode(s.label)
