"""One scene from a seed and a split, and a folder of them with its ``pages.tsv``.

The kind of scene ``seed`` is ``KINDS[seed % len(KINDS)]``, so any run of ``len(KINDS)``
consecutive seeds draws every kind once. A scene's random streams come from its split and seed
only (``scenes:<split>:<seed>``): the same pair always gives the same scene, and the two splits
never share a stream.

``pages.tsv`` has the columns of the other page sets (``image``, ``line_no``, ``text``,
``provenance``, ``notes``, ``tags``): one row per truth line in reading order, provenance
``RENDER``, the notes ``kind=<kind> points=x,y;x,y;x,y;x,y`` (TL, TR, BR, BL) plus ``vertical``
for a column, and the tags (the same on every row of a scene): the kind first, then the language
(``zh`` when any line has Chinese, else ``en``), then what it shows (``spaced``, ``vertical``,
``white-on-colour``, ``dashed``, ``small``, ``bracket``, ``textured``, ``rot=90`` ...).

Example:
    >>> scene = render_scene(7)
    >>> scene.kind == KINDS[7], scene.image.dtype.name, 3 <= len(scene.lines) <= 30
    (True, 'uint8', True)
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from ocr_eval.datasets import guess_lang, write_tsv
from ocr_eval.scenes.book import book_photo
from ocr_eval.scenes.camera import photograph
from ocr_eval.scenes.columns import vertical_ad
from ocr_eval.scenes.labels import label
from ocr_eval.scenes.parts import Card
from ocr_eval.scenes.posters import boxes, poster
from ocr_eval.scenes.prints import price_tag, receipt, ticket
from ocr_eval.scenes.signs import road_sign, sign
from ocr_eval.scenes.texts import SPLITS, SceneText
from ocr_eval.scenes.truth import Scene, SceneLine

Builder = Callable[[SceneText, random.Random, np.random.Generator], Card]
KINDS = ("ticket", "receipt", "label", "sign", "poster", "book_photo", "ad_rotated", "vertical_ad", "boxes",
         "price_tag")
COLUMNS = ("image", "line_no", "text", "provenance", "notes", "tags")
MAX_LINES = 30


def ad_rotated(t: SceneText, rng: random.Random, nrng: np.random.Generator) -> Card:
    """A poster, a notice, a price tag or a road sign, the whole photo turned 90 degrees either way."""
    card = rng.choice((poster, boxes, price_tag, road_sign))(t, rng, nrng)
    card.turn = rng.choice((1, 3))
    return card


BUILDERS: dict[str, Builder] = {
    "ticket": ticket, "receipt": receipt, "label": label, "sign": sign, "poster": poster, "book_photo": book_photo,
    "ad_rotated": ad_rotated, "vertical_ad": vertical_ad, "boxes": boxes, "price_tag": price_tag,
}


def streams(seed: int, split: str) -> tuple[random.Random, np.random.Generator]:
    """The scene's two random streams (layout and text; pixels), from its split and seed only."""
    key = f"scenes:{split}:{int(seed)}"
    digest = hashlib.sha256(key.encode()).digest()
    return random.Random(key), np.random.default_rng(int.from_bytes(digest[:8], "little"))


def render_scene(seed: int, *, split: str = "bench") -> Scene:
    """The scene of ``seed`` in ``split`` (``bench``: the benchmark; ``train``: a detector's training data).

    Raises:
        ValueError: An unknown split.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    kind = KINDS[int(seed) % len(KINDS)]
    rng, nrng = streams(seed, split)
    card = BUILDERS[kind](SceneText(split, rng), rng, nrng)
    del card.canvas.lines[MAX_LINES:]  # never reached by the builders' sizes; a guard
    image, points, photo_tags = photograph(card, rng, nrng)
    lines = [SceneLine(p, ln.text, ln.vertical) for p, ln in zip(points, card.canvas.lines)]
    lang = guess_lang("".join(ln.text for ln in lines))
    tags = [kind, lang, *[tg for tg in card.tags if tg != kind], *photo_tags]
    if any(ln.vertical for ln in lines) and "vertical" not in tags:
        tags.append("vertical")
    return Scene(np.ascontiguousarray(image[..., ::-1]), lines, kind, tuple(dict.fromkeys(tags)))


def _notes(scene: Scene, line: SceneLine) -> str:
    pts = ";".join(f"{x:.1f},{y:.1f}" for x, y in line.points)
    return f"kind={scene.kind} points={pts}" + (" vertical" if line.vertical else "")


def build_scenes(out_dir: Path, *, count: int = 60, split: str = "bench", start: int = 0,
                 quality: int = 90, log: Callable[[str], None] | None = None) -> Path:
    """Render scenes ``start`` .. ``start + count - 1`` of ``split`` into ``out_dir`` (JPEG) and write its ``pages.tsv``.

    Returns:
        The path of ``pages.tsv``. Images are ``<seed>_<kind>.jpg``; files of the same name are overwritten.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for seed in range(start, start + count):
        scene = render_scene(seed, split=split)
        name = f"{seed:04d}_{scene.kind}.jpg"
        ok, buf = cv2.imencode(".jpg", scene.image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
        if not ok:
            raise ValueError(f"could not encode scene {seed}")
        (out_dir / name).write_bytes(buf.tobytes())
        tags = ";".join(scene.tags)
        rows += [(name, k + 1, line.text, "RENDER", _notes(scene, line), tags) for k, line in enumerate(scene.lines)]
        if log:
            log(f"{name}: {len(scene.lines)} lines, {scene.image.shape[1]}x{scene.image.shape[0]}")
    path = out_dir / "pages.tsv"
    write_tsv(path, rows, header=COLUMNS)
    return path
