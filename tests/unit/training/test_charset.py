import pytest

from crnn.charset import (
    CHAR_TO_CLASS,
    CHARSET,
    NUM_CLASSES,
    build_charset,
    decode_greedy,
    encode,
    gb2312_hanzi,
    normalize_label,
)


def test_charset_covers_gb2312_ascii_and_cjk_punctuation():
    hanzi = gb2312_hanzi()
    assert len(hanzi) == 6763 and len(set(hanzi)) == 6763
    assert hanzi[0] == "啊" and "齄" in hanzi  # first of level 1, last of level 2
    chars = set(CHARSET)
    assert set(hanzi) <= chars
    assert {chr(c) for c in range(0x20, 0x7F)} <= chars  # printable ASCII, space included
    assert set("，。：；！？（）【】《》“”、—…￥") <= chars
    assert len(CHARSET) == len(chars) == NUM_CLASSES - 1
    assert build_charset() == CHARSET  # computed deterministically


def test_encode_decode_round_trip_with_blank_zero():
    text = "电话：159 AB"
    classes = encode(text)
    assert 0 not in classes and all(CHARSET[c - 1] == ch for c, ch in zip(classes, text))
    # CTC path: repeats collapse, blanks separate a real double letter.
    path = []
    for c in classes:
        path += [c, c, 0]
    assert decode_greedy(path) == text
    assert decode_greedy([CHAR_TO_CLASS["l"], CHAR_TO_CLASS["l"]]) == "l"
    assert decode_greedy([CHAR_TO_CLASS["l"], 0, CHAR_TO_CLASS["l"]]) == "ll"


def test_normalize_label_folds_fullwidth_alnum_and_drops_unknown():
    assert normalize_label("ＡＢ１２") == "AB12"
    assert normalize_label("价格：￥５") == "价格：￥5"
    assert normalize_label("a\u3000\u3000b") == "a b"
    assert normalize_label("𠀀x") == "x"  # outside GB2312: dropped


def test_symbols_are_appended_so_earlier_classes_keep_their_numbers():
    from crnn.charset import CJK_PUNCTUATION, SYMBOLS

    earlier = list(dict.fromkeys([chr(c) for c in range(0x20, 0x7F)] + list(CJK_PUNCTUATION) + gb2312_hanzi()))
    assert CHARSET[: len(earlier)] == earlier and len(earlier) == 6897
    assert CHARSET[len(earlier):] == list(SYMBOLS)
    assert normalize_label("¥12 25℃ 3×4cm β-葡聚糖 µm 二〇二四年") == "￥12 25℃ 3×4cm β-葡聚糖 μm 二〇二四年"


def test_a_checkpoint_of_the_earlier_charset_gains_the_new_classes(tmp_path):
    import torch

    from crnn.model import CRNN, CRNNConfig
    from crnn.train import load_model

    old = CHARSET[:6897]
    small = CRNNConfig(num_classes=len(old) + 1, channels=(8, 8, 8, 8, 8, 16), lstm_hidden=8)
    torch.manual_seed(0)
    before = CRNN(config=small).eval()
    torch.save({"config": small.to_dict(), "charset": old, "model": before.state_dict(), "optimizer": {}},
               tmp_path / "old.pt")
    after, ckpt = load_model(tmp_path / "old.pt")
    assert ckpt["extended_from"] == len(old) + 1 and ckpt["charset"] == CHARSET and "optimizer" not in ckpt
    x = torch.rand(2, 1, 32, 96)
    with torch.no_grad():
        a, b = before(x), after.eval()(x)
    assert b.shape[-1] == NUM_CLASSES
    assert torch.equal(a, b[..., : len(old) + 1])  # the trained classes read as before
    assert torch.equal(a.argmax(-1), b.argmax(-1))  # and the new ones are not emitted untrained
    assert float(b.softmax(-1)[..., len(old) + 1:].sum(-1).max()) < 0.01
    with_other = dict(torch.load(tmp_path / "old.pt", weights_only=False), charset=["x", *old[1:]])
    torch.save(with_other, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="charset differs"):
        load_model(tmp_path / "other.pt")
