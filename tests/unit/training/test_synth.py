import numpy as np
import pytest

from crnn.charset import CHAR_TO_CLASS
from crnn.data import collate
from crnn.synth import HEIGHT, LineGenerator, render_text_mask


@pytest.fixture(scope="module")
def gen():
    return LineGenerator()


def test_same_seed_same_sample_different_seed_different(gen):
    a, b, c = gen.sample(123), gen.sample(123), gen.sample(124)
    assert a.label == b.label and a.font == b.font
    assert np.array_equal(a.image, b.image)
    assert a.label != c.label or not np.array_equal(a.image, c.image)


def test_labels_match_charset_fonts_and_images(gen):
    fonts = {f.name: f for f in gen.all_fonts}
    assert len(fonts) == len(gen.all_fonts), "font names must be unique"
    for seed in range(60):
        s = gen.sample(seed)
        assert s.label and s.label == s.label.strip() and "  " not in s.label
        assert all(ch in CHAR_TO_CLASS for ch in s.label)
        assert fonts[s.font].covers(s.label), (s.font, s.label)  # never a tofu glyph under a label
        assert s.image.dtype == np.uint8 and s.image.shape[0] == HEIGHT
        assert s.image.std() > 3, "the line must show something"
        # CTC needs at least one output step per label character (stride 4).
        assert s.image.shape[1] // 4 >= len(s.label)


def test_rendered_ink_grows_with_text_and_is_where_the_text_is(gen):
    font = next(f for f in gen.fonts if f.cjk)
    short = render_text_mask("中文", font, 32)
    long = render_text_mask("中文中文中文", font, 32)
    assert short.shape[0] == long.shape[0]
    assert 2.5 < long.shape[1] / short.shape[1] < 3.5
    assert short[:, 0].max() > 0.05 and short[:, -1].max() > 0.05  # cropped to the ink
    assert render_text_mask("   ", font, 32).max() == 0.0


def test_collate_pads_to_stride_with_edge_values(gen):
    samples = [gen.sample(s) for s in range(4)]
    images, targets, lengths, labels = collate([s.image for s in samples], [s.label for s in samples])
    assert images.shape[0] == 4 and images.shape[1:3] == (1, HEIGHT) and images.shape[3] % 4 == 0
    assert int(lengths.sum()) == targets.numel() == sum(len(s.label) for s in samples)
    assert float(images.min()) >= -1.0 and float(images.max()) <= 1.0
    narrow = min(range(4), key=lambda i: samples[i].image.shape[1])
    w = samples[narrow].image.shape[1]
    if w < images.shape[3]:
        assert np.allclose(images[narrow, 0, :, w:].numpy(), images[narrow, 0, :, w - 1 : w].numpy())


def test_word_gaps_scale_only_the_spaces(gen):
    from crnn.synth import word_space_factor

    font = next(f for f in gen.fonts if not f.cjk)
    normal = render_text_mask("to its", font, 32)
    narrow = render_text_mask("to its", font, 32, word_space=0.4)
    wide = render_text_mask("to its", font, 32, word_space=2.0)
    assert narrow.shape[1] < normal.shape[1] < wide.shape[1]
    assert render_text_mask("toits", font, 32, word_space=2.0).shape == render_text_mask("toits", font, 32).shape
    factors = [word_space_factor(s) for s in range(2000)]
    assert 0.5 < sum(f == 1.0 for f in factors) / len(factors) < 0.7
    assert min(factors) >= 0.35 and max(factors) <= 2.5 and any(f < 0.6 for f in factors)


def test_label_text_carries_the_symbols_of_labels_and_receipts():
    import random

    from crnn.charset import SYMBOLS
    from crnn.corpus import Corpus

    corpus, rng = Corpus.load(), random.Random(0)
    seen = {ch for _ in range(20000) for ch in corpus.sample(rng) if ch in SYMBOLS}
    assert seen == set(SYMBOLS), sorted(set(SYMBOLS) - seen)


def _code_seeds(gen, n):
    """Seeds whose label is a code line (the kind is the first draw of a sample's generator)."""
    import random

    seeds, seed = [], 0
    while len(seeds) < n:
        if gen.corpus.sample_kind(random.Random(seed))[0] == "code":
            seeds.append(seed)
        seed += 1
    return seeds


def test_code_lines_are_set_in_monospace_faces_most_of_the_time(gen):
    import random

    from crnn.synth import CODE_MONO_SHARE

    mono_names = {f.name for f in gen.mono_fonts}
    assert {"DejaVuSansMono", "LiberationMono-Regular", "LXGWWenKaiMono-Regular"} <= mono_names
    assert "NotoSansMonoCJK-Regular" in mono_names  # fonts-noto-cjk's monospace face
    assert not any(f.mono for f in gen.all_fonts if f.name in ("DejaVuSans", "NotoSerif-Regular", "LiberationSans-Regular"))
    rng = random.Random(5)
    labels = []
    while len(labels) < 400:
        kind, label = gen.corpus.sample_kind(rng)
        if kind == "code":
            labels.append(label)
    picked = [gen.pick_font(label, rng, "code") for label in labels]
    share = sum(f.mono for f in picked) / len(picked)
    assert CODE_MONO_SHARE - 0.05 < share < 0.97, share  # mostly monospace, sometimes proportional
    assert all(f.covers(label) for f, label in zip(picked, labels))
    # Prose keeps its faces: monospace only as often as the general pool has them.
    prose = [gen.pick_font("will follow the committee", rng).mono for _ in range(400)]
    assert sum(prose) / len(prose) < 0.3

    fonts = {f.name: f for f in gen.all_fonts}
    samples = [gen.sample(s) for s in _code_seeds(gen, 24)]
    assert all(s.kind == "code" for s in samples)
    assert sum(fonts[s.font].mono for s in samples) >= 14
    for s in samples:
        assert s.image.dtype == np.uint8 and s.image.shape[0] == HEIGHT
        assert all(ch in CHAR_TO_CLASS for ch in s.label) and fonts[s.font].covers(s.label)
        assert s.image.shape[1] // 4 >= len(s.label)


def test_dense_print_tightens_letters_and_gaps(gen):
    font = next(f for f in gen.fonts if f.name == "LiberationSerif-Regular")
    normal = render_text_mask("address will follow", font, 32)
    dense = render_text_mask("address will follow", font, 32, spacing=-0.05, word_space=0.6)
    assert 0.75 < dense.shape[1] / normal.shape[1] < 0.95
