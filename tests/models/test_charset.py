from crnn.charset import CHARSET, CHAR_TO_CLASS, NUM_CLASSES, build_charset, decode_greedy, encode, gb2312_hanzi, normalize_label


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
