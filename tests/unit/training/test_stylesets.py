import numpy as np
import pytest

from crnn.charset import CHAR_TO_CLASS
from crnn.stylesets import STYLES, build_style_set, style_line
from crnn.synth import HEIGHT, VALIDATION_SEED_BASE, LineGenerator
from ocr_eval.datasets import read_line_labels


@pytest.fixture(scope="module")
def gen():
    return LineGenerator()


def test_each_style_draws_its_own_kind_of_line_and_the_same_seed_the_same_line(gen):
    for style in STYLES:
        for seed in range(5):
            image, label = style_line(gen, style, seed)
            again, same = style_line(gen, style, seed)
            assert label == same and np.array_equal(image, again)
            assert image.dtype == np.uint8 and image.shape[0] == HEIGHT and image.std() > 3
            assert label and all(ch in CHAR_TO_CLASS for ch in label)
            if style == "italic":
                assert label.isascii()
    with pytest.raises(ValueError, match="unknown style"):
        style_line(gen, "bold", 0)


def test_a_built_set_reads_back_through_the_harness_with_unseen_seeds(gen, tmp_path):
    from crnn import stylesets

    assert stylesets.STYLE_SEED_BASE > VALIDATION_SEED_BASE + 10**6  # never a training or validation seed
    table = build_style_set(tmp_path, "monospace", 3, gen)
    labels = read_line_labels(table)
    assert [lab.image for lab in labels] == ["crops/00000.png", "crops/00001.png", "crops/00002.png"]
    assert all(lab.path.is_file() and lab.text for lab in labels)
    # a label with backslashes (TeX) survives the file's escaping
    first = style_line(gen, "monospace", stylesets.STYLE_SEED_BASE + STYLES.index("monospace") * 10**6)[1]
    assert labels[0].text == first
