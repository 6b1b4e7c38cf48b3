"""The Recognizer against a tiny hand-built ONNX model (see toy_model.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from ocr_engine.errors import ModelError
from ocr_engine.recognition import CharResult, LineResult, Recognizer
from ocr_engine.recognition.results import line_result
from support.toy_model import build_toy_model, draw_line


def reads_once(model: Path, **kwargs: Any) -> Recognizer:
    """A recogniser that reads each line once: no 180° or dense second readings (on by default)."""
    return Recognizer(model, rotate_below=0.0, dense_below=0.0, **kwargs)


@pytest.fixture(scope="module")
def rec(toy_model_path: Path) -> Recognizer:
    return reads_once(toy_model_path, intra_op_threads=1, bucket_width=8, max_batch=2)


def test_reads_metadata(rec: Recognizer) -> None:
    assert rec.meta.charset == ("a", "b", "c")
    assert rec.input_height == 32
    assert (rec.meta.model_name, rec.meta.model_version) == ("toy_ctc", "0.0.1")


def test_reads_a_line_with_positions(rec: Recognizer) -> None:
    res = rec.recognize_one(draw_line("aa.a.bbb"))  # one white frame of padding left
    assert res.text == "aab"
    assert res.confidence > 0.95 and not res.rotated_180
    # frames (1-2), (4), (6-8) -> centres 2, 4.5, 7.5 frames of 4 px
    assert [c.x for c in res.chars] == pytest.approx([8.0, 18.0, 30.0])


def test_scales_taller_crops_and_maps_x_back(rec: Recognizer) -> None:
    small = draw_line("a..b")
    big = cv2.resize(small, (small.shape[1] * 2, 64), interpolation=cv2.INTER_NEAREST)
    res = rec.recognize_one(big)
    assert res.text == "ab"
    assert [c.x for c in res.chars] == pytest.approx([12.0, 36.0])


def test_batching_matches_single_reads_and_keeps_order(rec: Recognizer) -> None:
    texts = ["a", "b.b.b.b.b.b.b.b", "ab", "a.a.a", "bbbbbbbbbbbbbbbbbbbbba", "c"]
    crops = [draw_line(t) for t in texts]
    batched = [r.text for r in rec.recognize(crops)]
    single = [rec.recognize_one(c).text for c in crops]
    assert batched == single == ["a", "bbbbbbbb", "ab", "aaa", "ba", "c"]


def test_padding_adds_no_characters(toy_model_path: Path) -> None:
    # A short line padded to a very long one must still read alone.
    rec = reads_once(toy_model_path, bucket_width=4096, max_batch=8)
    res = rec.recognize([draw_line("a"), draw_line("b" * 200)])
    assert res[0].text == "a"
    assert len(res[0].chars) == 1


def test_bgr_input(rec: Recognizer) -> None:
    crop = cv2.cvtColor(draw_line("ab"), cv2.COLOR_GRAY2BGR)
    assert rec.recognize_one(crop).text == "ab"


def test_upside_down_line_is_turned_and_read(toy_model_path: Path) -> None:
    line = draw_line("a.aa.b")
    upside = cv2.rotate(line, cv2.ROTATE_180)
    plain = reads_once(toy_model_path).recognize_one(upside)
    assert plain.text == "bcc" and plain.confidence < 0.8  # weak wrong reading
    smart = Recognizer(toy_model_path, rotate_below=0.8, dense_below=0.0)
    res = smart.recognize_one(upside)
    assert res.text == "aab" and res.rotated_180 and res.confidence > 0.95
    # x is given in the coordinates of the crop as passed in (upside down): the
    # first character read lies at the right end.
    xs = [c.x for c in res.chars]
    assert xs == sorted(xs, reverse=True)
    assert smart.recognize_one(line).rotated_180 is False


def _stub_reads(rec: Recognizer, reading: Callable[[np.ndarray, np.ndarray, bool], tuple[str, float]]) -> list[int]:
    """Make ``rec`` read each crop as ``reading(gray, model_input, turned)``; returns the input widths it saw."""
    seen: list[int] = []

    def read(grays, inputs, rotated):  # noqa: ANN001, ANN202 (a stand-in for Recognizer._read)
        out = []
        for g, x in zip(grays, inputs):
            seen.append(x.shape[1])
            text, conf = reading(g, x, rotated)
            out.append(LineResult(text, conf, tuple(CharResult(c, conf, 4.0 * i) for i, c in enumerate(text)),
                                  rotated))
        return out

    rec._read = read  # type: ignore[method-assign]
    return seen


def _readings_by_width(rec: Recognizer, readings: dict[int, tuple[str, float]]) -> list[int]:
    """Read an input of width w as ``readings[w]``."""
    return _stub_reads(rec, lambda g, x, turned: readings[x.shape[1]])


def test_a_dense_hesitant_line_is_read_again_wider(toy_model_path: Path) -> None:
    from ocr_engine.recognition.recognizer import DENSE_STRETCH

    rec = Recognizer(toy_model_path, rotate_below=0.0, dense_below=0.95)
    crop = np.full((32, 100), 255, np.uint8)
    wide = round(100 * DENSE_STRETCH)
    # 25 frames for 8 characters: dense (about 3 frames each), and hesitant (0.8)
    seen = _readings_by_width(rec, {100: ("abababab", 0.8), wide: ("abbabababa", 0.9)})
    assert rec.recognize_one(crop).text == "abbabababa" and seen == [100, wide]
    # the wider reading is kept only when it is more confident
    seen = _readings_by_width(rec, {100: ("abababab", 0.8), wide: ("ab", 0.7)})
    assert rec.recognize_one(crop).text == "abababab" and seen == [100, wide]


@pytest.mark.parametrize("first", [("abababab", 0.97), ("abc", 0.5)])
def test_confident_or_sparse_lines_are_read_once(toy_model_path: Path, first: tuple[str, float]) -> None:
    rec = Recognizer(toy_model_path, rotate_below=0.0, dense_below=0.95)
    seen = _readings_by_width(rec, {100: first})
    assert rec.recognize_one(np.full((32, 100), 255, np.uint8)).text == first[0] and seen == [100]
    off = reads_once(toy_model_path)
    seen = _readings_by_width(off, {100: ("abababab", 0.5)})
    assert off.recognize_one(np.full((32, 100), 255, np.uint8)).text == "abababab" and seen == [100]


def _readings_by_shade(rec: Recognizer, readings: dict[tuple[int, bool], tuple[str, float]]) -> None:
    """Read a crop of gray level v as ``readings[(v, turned)]``."""
    _stub_reads(rec, lambda g, x, turned: readings[(int(g.mean()), turned)])


@pytest.mark.parametrize("weak_lines", [2, 1])
def test_most_lines_upside_down_turn_the_rest_of_the_page(toy_model_path: Path, weak_lines: int) -> None:
    rec = Recognizer(toy_model_path, rotate_below=0.65, dense_below=0.0)
    crops = [np.full((32, 200), v, np.uint8) for v in (10, 20, 30)]
    upright = {10: ("xx", 0.5 if weak_lines >= 1 else 0.8), 20: ("yy", 0.5 if weak_lines >= 2 else 0.8),
               30: ("zz", 0.8)}
    turned = {10: ("XX", 0.9), 20: ("YY", 0.9), 30: ("ZZ", 0.85)}
    _readings_by_shade(rec, {**{(v, False): r for v, r in upright.items()}, **{(v, True): r for v, r in turned.items()}})
    assert [r.text for r in rec.recognize(crops)] == ["XX", "YY" if weak_lines == 2 else "yy", "zz"]  # not one page
    texts = [r.text for r in rec.recognize(crops, one_page=True)]
    if weak_lines == 2:  # two of three lines read upside down: the page is, so is its third line
        assert texts == ["XX", "YY", "ZZ"]
    else:  # one of three: the others keep their upright readings
        assert texts == ["XX", "yy", "zz"]


def test_missing_file_is_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        Recognizer(tmp_path / "nope.onnx")


def test_missing_charset_is_model_error(tmp_path: Path) -> None:
    path = build_toy_model(tmp_path / "nocharset.onnx", with_charset=False)
    with pytest.raises(ModelError, match="charset"):
        Recognizer(path)


def test_empty_list(rec: Recognizer) -> None:
    assert rec.recognize([]) == []


def test_blank_crop_reads_nothing(rec: Recognizer) -> None:
    res = rec.recognize_one(np.full((32, 40), 255, np.uint8))
    assert res.text == "" and res.chars == ()


def test_gated_model_reads_like_the_plain_one(toy_model_path: Path, gated_toy_model_path: Path) -> None:
    """A model that skips sure-blank frames gives the same text, confidences and positions."""
    plain = reads_once(toy_model_path, bucket_width=8, max_batch=3)
    gated = reads_once(gated_toy_model_path, bucket_width=8, max_batch=3)
    assert gated.gated and not plain.gated
    texts = ["aa.a.bbb", "a", "b.b.b.b", "", "ab..c", "bbbbbbbbbbbbbbbba"]
    crops = [draw_line(t) for t in texts]
    got, want = gated.recognize(crops), plain.recognize(crops)
    assert [r.text for r in got] == [r.text for r in want] == ["aab", "a", "bbbb", "", "abc", "ba"]
    for g, w in zip(got, want):
        assert [c.x for c in g.chars] == pytest.approx([c.x for c in w.chars])
        assert [c.confidence for c in g.chars] == pytest.approx([c.confidence for c in w.chars], abs=1e-6)
        assert g.confidence == pytest.approx(w.confidence, abs=1e-3)


def test_gated_model_skips_frames(gated_toy_model_path: Path) -> None:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(gated_toy_model_path), providers=["CPUExecutionProvider"])
    x = (draw_line("a...b").astype(np.float32) / 255.0 - 0.5) / 0.5
    probs, index, blank = sess.run(None, {"image": x[None, None]})
    assert blank.shape == (1, 7) and index.tolist() == [1, 5] and probs.shape == (2, 4)


def test_stretched_lines_read_the_same_with_positions_in_the_crop(toy_model_path: Path) -> None:
    rec = reads_once(toy_model_path, line_stretch=2.0)
    res = rec.recognize_one(draw_line("aa.a.bbb"))
    assert rec.prepare(draw_line("aa.a.bbb")).shape == (32, 2 * 4 * 10)
    assert res.text == "aab"
    assert [c.x for c in res.chars] == pytest.approx([8.0, 18.0, 30.0])


def test_gated_model_with_every_frame_skipped(gated_toy_model_path: Path) -> None:
    rec = reads_once(gated_toy_model_path)
    res = rec.recognize([draw_line("...."), draw_line("")])
    assert [r.text for r in res] == ["", ""] and all(r.confidence > 0.9 for r in res)


def test_a_reading_neither_starts_nor_ends_with_a_space() -> None:
    from ocr_engine.recognition.ctc import CtcChar, CtcDecoded

    chars = (CtcChar(" ", 0.5, 0, 0), CtcChar("a", 0.9, 2, 2), CtcChar(" ", 0.8, 4, 4),
             CtcChar("b", 0.7, 6, 6), CtcChar(" ", 0.2, 8, 9))
    read = line_result(CtcDecoded(" a b ", 0.62, chars), 40, 40, 4.0, rotated=False)
    assert read.text == "a b" and [c.char for c in read.chars] == ["a", " ", "b"]
    assert read.confidence == pytest.approx((0.9 + 0.8 + 0.7) / 3)
    assert [c.x for c in read.chars] == [10.0, 18.0, 26.0]
    blank = line_result(CtcDecoded(" ", 0.3, chars[:1]), 40, 40, 4.0, rotated=False)
    assert blank.text == "" and blank.chars == () and blank.confidence == 0.0


@pytest.mark.parametrize(("text", "kept"), [
    ("（ 成品包材）", "（成品包材）"),
    ("《 诗经  》", "《诗经》"),
    ("（成品） ODM", "（成品） ODM"),       # outside the brackets a space may be meant
    ("( a )", "( a )"),                     # ASCII brackets: as read
    ("正品 促销", "正品 促销"),            # a gap between two phrases stays
])
def test_no_space_just_inside_full_width_brackets(text: str, kept: str) -> None:
    from ocr_engine.recognition.ctc import CtcChar, CtcDecoded

    chars = tuple(CtcChar(ch, 0.9, 2 * i, 2 * i) for i, ch in enumerate(text))
    read = line_result(CtcDecoded(text, 0.9, chars), 400, 400, 4.0, rotated=False)
    assert read.text == kept and "".join(c.char for c in read.chars) == kept


@pytest.mark.parametrize(("text", "frames", "kept"), [
    ("回落落到", [0, 4, 5, 9], "回落到"),      # one glyph read twice, a quarter glyph apart
    ("谢谢你", [0, 4, 8], "谢谢你"),          # a real pair, a glyph apart
    ("all", [0, 1, 2], "all"),                # narrow letters may stand that close
])
def test_a_wide_character_read_twice_within_its_glyph_is_one(text: str, frames: list[int], kept: str) -> None:
    from ocr_engine.recognition.ctc import CtcChar, CtcDecoded

    chars = tuple(CtcChar(ch, 0.9, f, f) for ch, f in zip(text, frames))
    # 4 crop pixels per frame, a crop 24 px high: a CJK glyph is about 16 px (4 frames) wide.
    read = line_result(CtcDecoded(text, 0.9, chars), 200, 200, 4.0, rotated=False, crop_h=24)
    assert read.text == kept and len(read.chars) == len(kept)


def _toy_lm(path: Path, bigrams: dict[str, float], floor: float = -9.0) -> Path:
    """An LM file for the toy charset: ``{"ab": logp}`` bigrams (``^``/``$``: line ends), ``floor`` elsewhere."""
    from ocr_engine.recognition.lm import charset_sha256

    index = {"^": 0, "$": 0, "a": 1, "b": 2, "c": 3}
    keys = sorted((index[g[0]] * 4 + index[g[1]], lp) for g, lp in bigrams.items())
    np.savez(path, keys=np.array([k for k, _ in keys], np.int64), logp=np.array([lp for _, lp in keys], np.float32),
             backoff=np.zeros(4, np.float32), unigram=np.full(4, floor, np.float32),
             charset_sha256=np.array(charset_sha256(["a", "b", "c"])))
    return path


def test_the_lm_prefix_search_corrects_within_the_recogniser(toy_model_path: Path, gated_toy_model_path: Path,
                                                             tmp_path: Path) -> None:
    from ocr_engine.recognition.beam import BeamSettings

    lm = _toy_lm(tmp_path / "lm.npz", {"^a": -0.1, "ab": -0.1, "ba": -0.1, "a$": -0.1})
    crop = draw_line("aa.c.a")                 # the weak c frame: c 0.58, b and the blank 0.21 each
    for model in (toy_model_path, gated_toy_model_path):
        greedy = reads_once(model).recognize_one(crop)
        assert greedy.text == "aca"
        got = reads_once(model, lm_path=lm, lm_beam=BeamSettings(weight=1.0, prior=0.0)).recognize_one(crop)
        assert got.text == "aba"
        assert [c.x for c in got.chars] == [c.x for c in greedy.chars]
        assert got.chars[0] == greedy.chars[0] and got.chars[1].confidence == pytest.approx(0.21, abs=0.01)
        # sure lines are left as they are
        sure = draw_line("aa.bb.a")
        assert reads_once(model, lm_path=lm, lm_beam=True).recognize_one(sure) == reads_once(model).recognize_one(sure)


def test_the_prefix_search_is_switched_by_the_config(toy_model_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ocr_engine.config import OcrConfig
    from ocr_engine.engine import OcrEngine
    from ocr_engine.recognition.beam import BeamSettings

    assert Recognizer(toy_model_path).lm_beam == BeamSettings()  # on by default
    assert Recognizer(toy_model_path, lm_beam=False).lm_beam is None
    assert Recognizer(toy_model_path, lm_beam=True).lm_beam == BeamSettings()
    assert Recognizer(toy_model_path, lm_beam=BeamSettings(width=3)).lm_beam == BeamSettings(width=3)
    monkeypatch.setenv("OCR_MODEL_PATH", str(toy_model_path))
    monkeypatch.delenv("OCR_LM_BEAM", raising=False)
    assert OcrConfig.from_env().lm_beam is True
    assert OcrEngine.from_config(OcrConfig.from_env()).recognizer.lm_beam == BeamSettings()
    monkeypatch.setenv("OCR_LM_BEAM", "false")
    assert OcrConfig.from_env().lm_beam is False
    assert OcrEngine.from_config(OcrConfig.from_env()).recognizer.lm_beam is None


def test_the_defaults_are_the_named_constants(toy_model_path: Path) -> None:
    from ocr_engine.orientation import ROTATE_BELOW, ROTATE_MARGIN
    from ocr_engine.recognition import batching, decoding, recognizer
    from ocr_engine.recognition.beam import BeamSettings

    rec = Recognizer(toy_model_path)
    assert (rec.rotate_below, rec.rotate_margin) == (ROTATE_BELOW, ROTATE_MARGIN) == (0.65, 0.1)
    assert (rec.dense_below, rec.trim_margins) == (recognizer.DENSE_BELOW, recognizer.TRIM_MARGINS) == (0.95, True)
    assert (rec.max_batch, rec.line_stretch, rec.max_width) == (batching.MAX_BATCH, batching.LINE_STRETCH,
                                                                 batching.MAX_WIDTH) == (8, 1.0, 2400)
    assert rec.bucket_width == batching.BUCKET_WIDTH and rec.lm_weight == decoding.LM_WEIGHT == 0.35
    assert rec.lm is None and rec.lm_beam == BeamSettings() and rec.lm_beam.weight == 0.1


def test_the_session_reads_each_line_of_a_padded_batch_over_its_own_frames(
        toy_model_path: Path, gated_toy_model_path: Path) -> None:
    from ocr_engine.recognition.batching import normalise, pad_batch, width_batches
    from ocr_engine.recognition.ctc import decode_best_path
    from ocr_engine.recognition.session import ModelSession

    for path in (toy_model_path, gated_toy_model_path):
        session = ModelSession(path)
        inputs = [normalise(draw_line(t), session.meta) for t in ("a.b", "bbbbbbbbbbbbbbbba", "c")]
        widths = [x.shape[1] for x in inputs]
        texts: dict[int, str] = {}
        for idx, padded in width_batches(widths, 16, 2):
            lines = session.run(pad_batch([inputs[i] for i in idx], padded), [widths[i] for i in idx])
            for i, line in zip(idx, lines):
                assert line.px_per_frame == session.meta.width_stride
                texts[i] = decode_best_path(line.best, line.best_p, session.meta.charset).text
        assert [texts[i] for i in range(3)] == ["ab", "ba", "c"]
    with pytest.raises(ModelError, match="not found"):
        ModelSession(toy_model_path.with_name("missing.onnx"))
