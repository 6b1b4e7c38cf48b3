"""Training fonts: which files, which face in a collection, and which characters each covers.

Fonts come from Debian packages (see ``models/README.md`` for the install command and
licences). Coverage is read from each face's cmap with fontTools, so the generator never asks a
font for a glyph it lacks (which would render a tofu box under a real label).

Example:
    >>> from crnn.fonts import load_fonts
    >>> fonts = load_fonts()           # doctest: +SKIP
    >>> [f.name for f in fonts if f.cjk][:2]    # doctest: +SKIP
    ['NotoSansCJK-Regular', 'NotoSansCJK-Bold']
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

FONT_ROOT = Path("/usr/share/fonts")

# (relative path under FONT_ROOT, face index in a .ttc). Index 2 of Noto CJK is Simplified Chinese.
TRAINING_FONTS: tuple[tuple[str, int], ...] = (
    ("opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("opentype/noto/NotoSansCJK-Bold.ttc", 2),
    ("opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("opentype/noto/NotoSerifCJK-Bold.ttc", 2),
    ("truetype/wqy/wqy-microhei.ttc", 0),
    ("truetype/wqy/wqy-zenhei.ttc", 0),
    ("truetype/arphic/ukai.ttc", 0),
    ("truetype/arphic/uming.ttc", 0),
    ("truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf", 0),
    ("truetype/lxgw-wenkai/LXGWWenKai-Bold.ttf", 0),
    ("truetype/lxgw-wenkai/LXGWWenKai-Light.ttf", 0),
    ("truetype/lxgw-wenkai/LXGWWenKaiMono-Regular.ttf", 0),
    ("truetype/dejavu/DejaVuSans.ttf", 0),
    ("truetype/dejavu/DejaVuSans-Bold.ttf", 0),
    ("truetype/dejavu/DejaVuSansCondensed.ttf", 0),
    ("truetype/dejavu/DejaVuSerif.ttf", 0),
    ("truetype/dejavu/DejaVuSerif-Italic.ttf", 0),
    ("truetype/dejavu/DejaVuSansMono.ttf", 0),
    ("truetype/liberation2/LiberationSans-Regular.ttf", 0),
    ("truetype/liberation2/LiberationSans-Bold.ttf", 0),
    ("truetype/liberation2/LiberationSans-Italic.ttf", 0),
    ("truetype/liberation2/LiberationSerif-Regular.ttf", 0),
    ("truetype/liberation2/LiberationSerif-Bold.ttf", 0),
    ("truetype/liberation2/LiberationSerif-Italic.ttf", 0),
    ("truetype/liberation2/LiberationSerif-BoldItalic.ttf", 0),
    ("truetype/liberation2/LiberationMono-Regular.ttf", 0),
    ("truetype/liberation2/LiberationSansNarrow-Regular.ttf", 0),
    ("truetype/noto/NotoSans-Regular.ttf", 0),
    ("truetype/noto/NotoSans-Bold.ttf", 0),
    ("truetype/noto/NotoSans-Italic.ttf", 0),
    ("truetype/noto/NotoSerif-Regular.ttf", 0),
    ("truetype/noto/NotoSerif-Italic.ttf", 0),
)

# Fonts deliberately kept out of training so that tests can read text the model never saw
# rendered in that face.
HELD_OUT_FONTS: tuple[tuple[str, int], ...] = (
    ("truetype/arphic-gbsn00lp/gbsn00lp.ttf", 0),
    ("truetype/arphic-gkai00mp/gkai00mp.ttf", 0),
)


@dataclass(frozen=True)
class FontSpec:
    """One font face and the set of code points it can draw."""

    path: str
    index: int
    name: str
    coverage: frozenset[str]

    @property
    def cjk(self) -> bool:
        """Whether the face draws Chinese (tested on a few very common hanzi)."""
        return all(ch in self.coverage for ch in "的一是中国")

    def covers(self, text: str) -> bool:
        """True when every character of ``text`` (spaces aside) has a glyph."""
        return all(ch == " " or ch in self.coverage for ch in text)


def read_coverage(path: str, index: int = 0) -> frozenset[str]:
    """Characters mapped by the face's cmap."""
    from fontTools.ttLib import TTFont

    font = TTFont(path, fontNumber=index, lazy=True)
    cmap = font.getBestCmap() or {}
    font.close()
    return frozenset(chr(cp) for cp in cmap)


@functools.lru_cache(maxsize=4)
def load_fonts(
    specs: tuple[tuple[str, int], ...] = TRAINING_FONTS, root: str = str(FONT_ROOT)
) -> tuple[FontSpec, ...]:
    """Load the fonts that exist on this machine; raise if none do."""
    fonts = []
    for rel, index in specs:
        path = Path(root) / rel
        if not path.exists():
            continue
        fonts.append(FontSpec(str(path), index, path.stem, read_coverage(str(path), index)))
    if not fonts:
        raise FileNotFoundError(
            f"no training fonts under {root}: run models/install_assets.sh first"
        )
    return tuple(fonts)
