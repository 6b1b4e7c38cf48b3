"""Render the demo / test sample: a few Chinese + English lines on a white page.

``python -m infra.sample_image out.png`` re-renders ``infra/sample/sample_zh_en.png``
(committed, so the demo does not need CJK fonts). Needs Pillow and a CJK font
(Debian: fonts-noto-cjk or fonts-wqy-microhei).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

SAMPLE = Path(__file__).resolve().parent / "sample" / "sample_zh_en.png"
SAMPLE_LINES = (
    "欢迎使用中文识别服务",
    "Serverless OCR demo",
    "今天天气很好",
    "Total 128.50 元",
)
FONT_CANDIDATES = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
)


def find_cjk_font() -> tuple[str, int] | None:
    """A font file (and collection index) that has Chinese and Latin glyphs, or None."""
    for path, index in FONT_CANDIDATES:
        if Path(path).is_file():
            return path, index
    if shutil.which("fc-match"):
        out = subprocess.run(["fc-match", "-f", "%{file}", ":lang=zh-cn"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout and Path(out.stdout).is_file():
            return out.stdout, 0
    return None


def render_lines(lines: tuple[str, ...] | list[str] = SAMPLE_LINES, size: int = 40, fmt: str = "PNG") -> bytes:
    """Render ``lines`` black on white, one per row, and return the encoded image."""
    from PIL import Image, ImageDraw, ImageFont

    found = find_cjk_font()
    if found is None:
        raise RuntimeError("no CJK font found; install fonts-noto-cjk or fonts-wqy-microhei")
    font = ImageFont.truetype(found[0], size=size, index=found[1])
    pad, gap = 30, int(size * 0.9)
    widths = [int(font.getlength(line)) for line in lines]
    width = max(widths) + 2 * pad
    height = pad * 2 + len(lines) * size + (len(lines) - 1) * gap
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    y = pad
    for line in lines:
        draw.text((pad, y), line, fill=(20, 20, 20), font=font)
        y += size + gap
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else SAMPLE
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(render_lines())
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
