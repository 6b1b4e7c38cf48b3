"""The page schedule of the rendered benchmark and the writer of its ``pages.tsv``.

The default set is 56 pages: the 7 kinds (:data:`~ocr_eval.rendered.kinds.KINDS`) x 2 languages
x 4 variants. Rotations, degradations and tilts follow cycles whose lengths are prime to the number of
kinds (the seed shifts them), so every kind is drawn at every rotation and most degradations; headers
and footers are drawn at random on any kind.

Example:
    >>> specs = schedule(0)
    >>> len(specs), sorted({s.rot for s in specs}), sorted({s.kind for s in specs if s.rot == 270})[:3]
    (56, [0, 90, 180, 270], ['code', 'cols1', 'cols2'])
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ocr_eval.rendered.draw import encode, phone_photo, render, scan, tilt, turn
from ocr_eval.rendered.kinds import KINDS, layout_page
from ocr_eval.rendered.layout import Page
from ocr_eval.rendered.text import load_corpus

LANGS = ("zh", "en")
VARIANTS = 4
ROTATIONS = (0, 90, 0, 180, 0, 270, 0, 0)
DEGRADATIONS = ("clean", "scan", "clean", "jpeg", "clean", "photo")
TILTS = (False, False, True, False, False)
HEADER_SHARE, FOOTER_SHARE = 0.55, 0.6
TAG_ORDER = ("zh", "en", "toc", "cols=1", "cols=2", "cols=3", "cols=4", "title", "heading", "figure", "caption",
             "code", "rule", "header", "footer")
COLUMNS = ("image", "line_no", "text", "provenance", "notes", "tags")


@dataclass(frozen=True)
class PageSpec:
    """What one page of the set is: its kind, language and variant."""

    index: int
    kind: str
    lang: str
    rot: int
    tilt: float
    degrade: str
    header: bool
    footer: bool

    @property
    def image(self) -> str:
        ext = "png" if self.degrade == "clean" else "jpg"
        return f"{self.index + 1:02d}_{self.lang}_{self.kind}.{ext}"


def schedule(seed: int = 0, pages: int | None = None) -> list[PageSpec]:
    """The page specs of the set for ``seed`` (the first ``pages`` of them if given)."""
    rng = random.Random(f"rendered-pages:{seed}")
    off_r, off_d, off_t = rng.randrange(len(ROTATIONS)), rng.randrange(len(DEGRADATIONS)), rng.randrange(len(TILTS))
    n_combo = len(KINDS) * len(LANGS)
    out = []
    for i in range(n_combo * VARIANTS):
        v, j = divmod(i, n_combo)
        kind = KINDS[j % len(KINDS)]
        lang = LANGS[(j + j // len(KINDS) + v) % len(LANGS)]
        angle = rng.uniform(1.0, 3.0) * rng.choice((-1, 1))
        out.append(PageSpec(i, kind, lang, ROTATIONS[(i + off_r) % len(ROTATIONS)],
                            round(angle, 1) if TILTS[(i + off_t) % len(TILTS)] else 0.0,
                            DEGRADATIONS[(i + off_d) % len(DEGRADATIONS)],
                            rng.random() < HEADER_SHARE, rng.random() < FOOTER_SHARE))
    return out if pages is None else out[: max(0, pages)]


def page_tags(page: Page, spec: PageSpec) -> list[str]:
    """The page's tags: language and structure, then ``rot=N``, ``tilt``, ``clean`` or ``degraded=X``."""
    known = [t for t in TAG_ORDER if t in page.tags] + [t for t in page.tags if t not in TAG_ORDER]
    tags = [*known, f"rot={spec.rot}"]
    if spec.tilt:
        tags.append("tilt")
    tags.append("clean" if spec.degrade == "clean" else f"degraded={spec.degrade}")
    return tags


def lay_out(spec: PageSpec, seed: int = 0) -> Page:
    """The upright layout of one page (its truth lines and boxes), as :func:`build_pages` draws it."""
    rng = random.Random(f"rendered-page:{seed}:{spec.index}:{spec.kind}:{spec.lang}")
    return layout_page(spec.kind, spec.lang, rng, load_corpus(), header=spec.header, footer=spec.footer)


def render_spec(spec: PageSpec, seed: int = 0) -> tuple[Page, np.ndarray, bytes]:
    """Layout, final RGB image and encoded file of one page."""
    page = lay_out(spec, seed)
    nrng = np.random.default_rng([seed & 0xFFFFFFFF, spec.index])
    paper = (255, 255, 255) if nrng.random() < 0.6 else (252, 251, 246)
    img = render(page, nrng, paper)
    if spec.tilt:
        img = tilt(img, spec.tilt, paper)
    if spec.degrade == "scan":
        img = scan(img, nrng)
    elif spec.degrade == "photo":
        img = phone_photo(img, nrng)
    img = turn(img, spec.rot)
    if spec.degrade == "clean":
        data = encode(img, "png")
    else:
        quality = {"scan": 88, "photo": 85}.get(spec.degrade) or int(nrng.integers(30, 51))
        data = encode(img, "jpg", quality)
    return page, img, data


def _notes(page: Page, k: int, spec: PageSpec) -> str:
    line = page.lines[k]
    b = line.box
    out = f"role={line.role} col={line.col} box={b.x0},{b.y0},{b.x1},{b.y1}"
    return out + (f" tilt={spec.tilt:+.1f}" if spec.tilt else "")


def build_pages(out_dir: Path, *, seed: int = 0, pages: int | None = None) -> Path:
    """Render the set into ``out_dir`` and write ``out_dir/pages.tsv``; return its path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for spec in schedule(seed, pages):
        page, _, data = render_spec(spec, seed)
        (out_dir / spec.image).write_bytes(data)
        tags = ";".join(page_tags(page, spec))
        for k, line in enumerate(page.lines):
            rows.append((spec.image, k + 1, line.text, "RENDER", _notes(page, k, spec), tags))
    path = out_dir / "pages.tsv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\", lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return path
