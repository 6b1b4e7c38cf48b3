"""The result schema: one :class:`OcrResult` per image (or page), one :class:`DocumentResult`
per multi-page document (PDF, multi-page TIFF), both serialisable to JSON.

Versioned by :data:`SCHEMA_VERSION` (``major.minor``; a new minor only adds
fields). Boxes are 4 ``[x, y]`` points (top-left, top-right, bottom-right,
bottom-left of the text as read) in original image pixel coordinates.

1.1 added :class:`Block` (``OcrResult.blocks``): paragraphs, each a list of indexes into
``lines``. A result without blocks (a 1.0 document, or a producer that does not group
lines) reads as one block holding all its lines: read the groups with
:meth:`OcrResult.block_lines` (or :meth:`OcrResult.reading_blocks` for their boxes too),
never from ``blocks`` directly.

1.2 added ``OcrResult.detector``: the line finder that found the lines (``opencv``,
``learned``, ``whole``; empty when not known), the one picked for the image when the
service chose (``detector=auto``).

Example:
    >>> r = OcrResult(width=100, height=40, lines=[
    ...     Line("你好 world", 0.97, [[2, 3], [90, 3], [90, 30], [2, 30]])])
    >>> OcrResult.from_json(r.to_json()) == r
    True
    >>> r.text
    '你好 world'
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = "1.2"

Point = list[float]


def _readable_version(d: dict[str, Any]) -> str:
    """The ``schema_version`` of a serialised result, if this reader can read it (same major).

    Raises:
        ValueError: Another major version.
    """
    version = str(d.get("schema_version", SCHEMA_VERSION))
    if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise ValueError(f"unsupported result schema version {version} (reader: {SCHEMA_VERSION})")
    return version


@dataclass
class Char:
    """One character of a line.

    Attributes:
        text: The character.
        confidence: Probability in ``[0, 1]``.
        x: Horizontal position of its centre, image pixels.
        y: Vertical position of its centre (on the line's mid-line), image pixels.
    """

    text: str
    confidence: float
    x: float
    y: float


@dataclass
class Line:
    """One text line.

    Attributes:
        text: Recognised text.
        confidence: Line confidence in ``[0, 1]``.
        box: 4 points ``[[x, y], ...]``: top-left, top-right, bottom-right,
            bottom-left in reading direction, original image coordinates.
        chars: Characters in reading order.
    """

    text: str
    confidence: float
    box: list[Point]
    chars: list[Char] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Line:
        """Inverse of ``asdict``."""
        return cls(
            text=str(d["text"]),
            confidence=float(d["confidence"]),
            box=[[float(p[0]), float(p[1])] for p in d["box"]],
            chars=[Char(**c) for c in d.get("chars", [])],
        )


def _bounds(boxes: list[list[Point]]) -> list[Point]:
    """The axis-aligned rectangle around all points of ``boxes`` (4 points, clockwise from top-left)."""
    xs = [float(p[0]) for box in boxes for p in box]
    ys = [float(p[1]) for box in boxes for p in box]
    x0, y0, x1, y1 = min(xs), min(ys), max(xs), max(ys)
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


@dataclass
class Block:
    """A paragraph: lines that belong together, in reading order.

    Attributes:
        box: 4 points ``[[x, y], ...]`` as :attr:`Line.box` (top-left, top-right,
            bottom-right, bottom-left), original image coordinates.
        lines: Indexes into :attr:`OcrResult.lines`, in reading order.
    """

    box: list[Point]
    lines: list[int] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: dict[str, Any], line_count: int) -> Block:
        """Inverse of ``asdict``, checked against the result's ``line_count`` lines.

        Raises:
            ValueError: Not an object, a box that is not 4 ``[x, y]`` points, or a line index
                that is not an int in ``[0, line_count)``.
        """
        if not isinstance(d, dict):
            raise ValueError(f"a block is an object, not {d!r}")
        box = d.get("box")
        if not (isinstance(box, list) and len(box) == 4
                and all(isinstance(p, list) and len(p) == 2 for p in box)):
            raise ValueError(f"a block box is a list of 4 [x, y] points, not {box!r}")
        indexes = d.get("lines", [])
        if not isinstance(indexes, list):
            raise ValueError(f"block lines is a list of line indexes, not {indexes!r}")
        for i in indexes:
            if isinstance(i, bool) or not isinstance(i, int):
                raise ValueError(f"block line index {i!r} is not an integer")
            if not 0 <= i < line_count:
                raise ValueError(f"block line index {i} is out of range (the result has {line_count} lines)")
        return cls(box=[[float(p[0]), float(p[1])] for p in box], lines=list(indexes))


def blocks_from_groups(lines: list[Line], groups: list[list[int]]) -> list[Block]:
    """Blocks of the given line groups, each boxed by the axis-aligned bounds of its lines' boxes.

    For producers (the layout stage's paragraphs). Empty groups are left out.

    Args:
        lines: The result's lines.
        groups: Indexes into ``lines``, one list a block, blocks and their lines in reading order.

    Raises:
        ValueError: An index out of range, or a line in more than one place.

    Example:
        >>> lines = [Line("a", 0.9, [[0, 0], [50, 0], [50, 10], [0, 10]]),
        ...          Line("b", 0.9, [[5, 12], [40, 12], [40, 20], [5, 20]])]
        >>> blocks_from_groups(lines, [[0, 1]])
        [Block(box=[[0.0, 0.0], [50.0, 0.0], [50.0, 20.0], [0.0, 20.0]], lines=[0, 1])]
    """
    seen: set[int] = set()
    out: list[Block] = []
    for group in groups:
        for i in group:
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(lines):
                raise ValueError(f"line index {i!r} is out of range ({len(lines)} lines)")
            if i in seen:
                raise ValueError(f"line {i} is in more than one place")
            seen.add(i)
        if group:
            out.append(Block(box=_bounds([lines[i].box for i in group]), lines=list(group)))
    return out


@dataclass
class ModelInfo:
    """Name and version of the recognition model (from its metadata)."""

    name: str = "unknown"
    version: str = "0"


@dataclass
class OcrResult:
    """The OCR result of one image.

    Attributes:
        width: Image width after EXIF orientation.
        height: Image height after EXIF orientation.
        lines: Lines in reading order.
        blocks: Paragraphs in reading order, each line in at most one (schema 1.1). Empty:
            one block holding all lines (see :meth:`block_lines`).
        model: Recognition model name and version.
        timings_ms: Milliseconds per stage (``decode``, ``preprocess``,
            ``detect``, ``recognize``, ``total``; ``sideways`` when the page was
            also read turned 90°, see :func:`ocr_engine.orientation.try_sideways`).
        schema_version: :data:`SCHEMA_VERSION` of the writer.
        detector: The line finder that found the lines (schema 1.2; empty: not known).
    """

    width: int
    height: int
    lines: list[Line] = field(default_factory=list)
    model: ModelInfo = field(default_factory=ModelInfo)
    timings_ms: dict[str, float] = field(default_factory=dict)
    schema_version: str = SCHEMA_VERSION
    blocks: list[Block] = field(default_factory=list)
    detector: str = ""

    def _groups(self) -> list[tuple[Block | None, list[int]]]:
        """Each block read (the :class:`Block` it comes from, ``None`` for one made up) and its lines."""
        n = len(self.lines)
        if not self.blocks:
            return [(None, list(range(n)))] if n else []
        used: set[int] = set()
        out: list[tuple[Block | None, list[int]]] = []
        for block in self.blocks:
            kept = []
            for i in block.lines:
                if isinstance(i, int) and 0 <= i < n and i not in used:
                    kept.append(i)
                    used.add(i)
            if kept:
                out.append((block, kept))
        return out + [(None, [i]) for i in range(n) if i not in used]

    def block_lines(self) -> list[list[int]]:
        """The line indexes of each block as every consumer reads them, in reading order.

        ``blocks`` (leaving out empty ones, and indexes out of range or already used), then
        each line in no block as a group of its own, in line order, so that no line is dropped
        or repeated. Without ``blocks``: ``[[0, ..., n-1]]`` (one block holding all lines);
        ``[]`` without lines.

        Example:
            >>> box = [[0, 0], [9, 0], [9, 9], [0, 9]]
            >>> r = OcrResult(width=9, height=9, lines=[Line(t, 0.9, box) for t in "abc"])
            >>> r.block_lines()
            [[0, 1, 2]]
            >>> r.blocks = [Block(box, [1])]
            >>> r.block_lines()
            [[1], [0], [2]]
        """
        return [lines for _, lines in self._groups()]

    def reading_blocks(self) -> list[Block]:
        """The blocks of :meth:`block_lines`, with their boxes: a block's own, or, for one made
        up (all lines when there are no blocks, a line in no block), its lines' bounds.

        Example:
            >>> r = OcrResult(width=9, height=9, lines=[Line("a", 0.9, [[0, 0], [9, 0], [9, 4], [0, 4]]),
            ...                                         Line("b", 0.9, [[1, 5], [8, 5], [8, 9], [1, 9]])])
            >>> r.reading_blocks()
            [Block(box=[[0.0, 0.0], [9.0, 0.0], [9.0, 9.0], [0.0, 9.0]], lines=[0, 1])]
        """
        out = []
        for block, lines in self._groups():
            if block is None:
                out += blocks_from_groups(self.lines, [lines])
            else:
                out.append(block if lines == block.lines else Block(block.box, lines))
        return out

    @property
    def text(self) -> str:
        """Plain text in reading order: a block's lines joined with newlines, blocks separated
        by a blank line."""
        return "\n\n".join("\n".join(self.lines[i].text for i in group) for group in self.block_lines())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (includes ``text`` for convenience)."""
        d = asdict(self)
        d["text"] = self.text
        return d

    def to_json(self, indent: int | None = None) -> str:
        """Serialise to JSON (UTF-8 characters kept as is)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> OcrResult:
        """Rebuild from :meth:`to_dict` output (``text`` is ignored: it is derived).

        Reads 1.0 documents (no ``blocks``) and 1.1 (no ``detector``) as well as 1.2.

        Raises:
            ValueError: If the major schema version differs from this reader's, a block is
                malformed (see :meth:`Block.from_dict`), or a line is in two blocks.
        """
        version = _readable_version(d)
        lines = [Line.from_dict(x) for x in d.get("lines", [])]
        raw_blocks = d.get("blocks", [])
        if not isinstance(raw_blocks, list):
            raise ValueError(f"blocks is a list, not {raw_blocks!r}")
        blocks = [Block.from_dict(b, len(lines)) for b in raw_blocks]
        indexes = [i for block in blocks for i in block.lines]
        if len(set(indexes)) != len(indexes):
            repeated = sorted(i for i, count in Counter(indexes).items() if count > 1)
            raise ValueError(f"lines {repeated} are in more than one block (or twice in one)")
        return cls(
            width=int(d["width"]),
            height=int(d["height"]),
            lines=lines,
            model=ModelInfo(**d.get("model", {})),
            timings_ms={str(k): float(v) for k, v in d.get("timings_ms", {}).items()},
            schema_version=version,
            blocks=blocks,
            detector=str(d.get("detector", "")),
        )

    @classmethod
    def from_json(cls, text: str) -> OcrResult:
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))


@dataclass
class DocumentResult:
    """The OCR result of a document: one :class:`OcrResult` per page read, in page order.

    A single image is not a document: it keeps its :class:`OcrResult`. A document read in
    part (a page range, a fan-out slice) says which pages it holds with ``first_page``.

    Attributes:
        pages: The pages read, each today's page schema (``width``/``height`` in the rendered
            page's pixels).
        source_type: ``pdf`` or ``tiff``.
        page_count: Pages in the source document (may exceed ``len(pages)``).
        first_page: 1-based number of ``pages[0]`` in the source.
        dpi: Resolution each page was rendered at (PDF; ``None`` for raster sources).
        model: Recognition model name and version.
        timings_ms: Milliseconds per stage (``render``, ``ocr``, ``total``).
        schema_version: :data:`SCHEMA_VERSION` of the writer.

    Example:
        >>> page = OcrResult(width=10, height=10, lines=[Line("你好", 0.9, [[0, 0], [9, 0], [9, 9], [0, 9]])])
        >>> doc = DocumentResult(pages=[page, OcrResult(width=10, height=10)], source_type="pdf", page_count=2)
        >>> DocumentResult.from_json(doc.to_json()) == doc
        True
        >>> doc.text == "你好" + chr(10) + chr(12)  # pages end with a form feed line
        True
    """

    pages: list[OcrResult]
    source_type: str
    page_count: int
    first_page: int = 1
    dpi: list[float | None] = field(default_factory=list)
    model: ModelInfo = field(default_factory=ModelInfo)
    timings_ms: dict[str, float] = field(default_factory=dict)
    schema_version: str = SCHEMA_VERSION

    @property
    def text(self) -> str:
        """Plain text: each page's text, pages separated by a form feed on its own line."""
        return "\n\f".join(page.text for page in self.pages)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (each page as :meth:`OcrResult.to_dict`, plus the document ``text``)."""
        return {
            "schema_version": self.schema_version,
            "source_type": self.source_type,
            "page_count": self.page_count,
            "first_page": self.first_page,
            "dpi": list(self.dpi),
            "model": asdict(self.model),
            "timings_ms": dict(self.timings_ms),
            "pages": [page.to_dict() for page in self.pages],
            "text": self.text,
        }

    def to_json(self, indent: int | None = None) -> str:
        """Serialise to JSON (UTF-8 characters kept as is)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DocumentResult:
        """Rebuild from :meth:`to_dict` output.

        Raises:
            ValueError: If the major schema version differs from this reader's.
        """
        version = _readable_version(d)
        return cls(
            pages=[OcrResult.from_dict(p) for p in d.get("pages", [])],
            source_type=str(d["source_type"]),
            page_count=int(d["page_count"]),
            first_page=int(d.get("first_page", 1)),
            dpi=[None if x is None else float(x) for x in d.get("dpi", [])],
            model=ModelInfo(**d.get("model", {})),
            timings_ms={str(k): float(v) for k, v in d.get("timings_ms", {}).items()},
            schema_version=version,
        )

    @classmethod
    def from_json(cls, text: str) -> DocumentResult:
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))
