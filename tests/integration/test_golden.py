"""Golden test: the committed model reads clean lines rendered in a font it never trained on.

Lines are rendered with AR PL SungtiL GB (``fonts-arphic-gbsn00lp``), which
``crnn.fonts.HELD_OUT_FONTS`` keeps out of training. ``GOLDEN`` must be read exactly;
``HARDER`` lines (model 0.1.0 still confuses 0/O, 1/l, ￥/Y and a few hanzi on them) only
count toward a character-error bound over all lines, so a regression on either shows here.
"""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from crnn.fonts import FONT_ROOT, HELD_OUT_FONTS
from ocr_engine.recognition import Recognizer
from ocr_eval.metrics import edit_distance, normalize

WEIGHTS = Path(__file__).resolve().parents[2] / "engine" / "ocr_engine" / "weights"
FONT = FONT_ROOT / HELD_OUT_FONTS[0][0]

GOLDEN = [
    "中华人民共和国",
    "北京大学",
    "上海市人民政府",
    "联系我们",
    "2024年5月1日",
    "Hello World",
    "Good morning",
    "Invoice No. 2048",
    "www.example.com",
]
HARDER = [
    "电话：13912345678",
    "Total 356.00",
    "欢迎光临",
    "价格：￥128.00",
    "OPEN 24 HOURS",
    "今天天气很好",
    "中国银行",
]


def render(text: str, size: int = 40) -> np.ndarray:
    font = ImageFont.truetype(str(FONT), size)
    left, top, right, bottom = font.getbbox(text)
    pad = size // 4
    img = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 255)
    ImageDraw.Draw(img).text((pad - left, pad - top), text, font=font, fill=0)
    return np.asarray(img)


@pytest.mark.skipif(not FONT.exists(), reason="held-out font missing: apt-get install fonts-arphic-gbsn00lp")
@pytest.mark.parametrize("model", ["crnn_zh_en.onnx", "crnn_zh_en.int8.onnx"])
def test_committed_model_reads_clean_lines(model):
    rec = Recognizer(WEIGHTS / model, intra_op_threads=1)
    lines = GOLDEN + HARDER
    preds = [r.text for r in rec.recognize([render(t) for t in lines])]
    assert preds[: len(GOLDEN)] == GOLDEN
    edits = sum(edit_distance(normalize(t), normalize(p)) for t, p in zip(lines, preds))
    chars = sum(len(normalize(t)) for t in lines)
    print(f"{model}: CER over {len(lines)} clean lines = {edits / chars:.3f}")
    assert edits / chars <= 0.10, list(zip(lines, preds))
