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

# Extra monospace faces drawn only for code lines (``crnn.corpus`` kind ``code``), from the same
# Debian packages as the training fonts. The monospace faces of TRAINING_FONTS (DejaVu Sans Mono,
# Liberation Mono, LXGW WenKai Mono) serve code lines too. A third element names a face of a
# collection whose file already gives another face its name. (fonts-noto-mono, with Noto Sans
# Mono, is not installed by models/install_assets.sh; Noto Sans Mono CJK SC is in fonts-noto-cjk.)
CODE_FONTS: tuple[tuple, ...] = (
    ("opentype/noto/NotoSansCJK-Regular.ttc", 7, "NotoSansMonoCJK-Regular"),
    ("opentype/noto/NotoSansCJK-Bold.ttc", 7, "NotoSansMonoCJK-Bold"),
    ("truetype/wqy/wqy-microhei.ttc", 1, "wqy-microhei-mono"),
    ("truetype/lxgw-wenkai/LXGWWenKaiMono-Bold.ttf", 0),
    ("truetype/dejavu/DejaVuSansMono-Bold.ttf", 0),
    ("truetype/liberation2/LiberationMono-Bold.ttf", 0),
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
    mono: bool = False

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


# Printable ASCII that a monospace face draws in equal cells.
_MONO_PROBE = "iImW0_.{"


def is_monospace(path: str, index: int = 0) -> bool:
    """Whether the face's ASCII letters, digits and marks all advance by one width (its cmap and hmtx).

    Example:
        >>> is_monospace("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")  # doctest: +SKIP
        True
    """
    from fontTools.ttLib import TTFont

    font = TTFont(path, fontNumber=index, lazy=True)
    cmap = font.getBestCmap() or {}
    hmtx = font["hmtx"]
    widths = {hmtx[cmap[ord(ch)]][0] for ch in _MONO_PROBE if ord(ch) in cmap}
    font.close()
    return len(widths) == 1


@functools.lru_cache(maxsize=4)
def load_fonts(
    specs: tuple[tuple, ...] = TRAINING_FONTS, root: str = str(FONT_ROOT), required: bool = True
) -> tuple[FontSpec, ...]:
    """Load the fonts that exist on this machine; raise if none do (unless not ``required``).

    Each spec is ``(path under root, face index)`` or ``(path, index, name)``; the name is the
    file's stem by default.
    """
    fonts = []
    for rel, index, *name in specs:
        path = Path(root) / rel
        if not path.exists():
            continue
        fonts.append(FontSpec(str(path), index, name[0] if name else path.stem, read_coverage(str(path), index),
                              is_monospace(str(path), index)))
    if not fonts and required:
        raise FileNotFoundError(
            f"no training fonts under {root}: run models/install_assets.sh first"
        )
    return tuple(fonts)
