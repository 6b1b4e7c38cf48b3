"""The result schema: one :class:`OcrResult` per image (or page), one :class:`DocumentResult`
per multi-page document (PDF, multi-page TIFF), both serialisable to JSON.

Versioned by :data:`SCHEMA_VERSION` (``major.minor``; a new minor only adds
fields). Boxes are 4 ``[x, y]`` points (top-left, top-right, bottom-right,
bottom-left of the text as read) in original image pixel coordinates.

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
from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = "1.0"

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
        model: Recognition model name and version.
        timings_ms: Milliseconds per stage (``decode``, ``preprocess``,
            ``detect``, ``recognize``, ``total``; ``sideways`` when the page was
            also read turned 90°, see :func:`ocr_engine.orientation.try_sideways`).
        schema_version: :data:`SCHEMA_VERSION` of the writer.
    """

    width: int
    height: int
    lines: list[Line] = field(default_factory=list)
    model: ModelInfo = field(default_factory=ModelInfo)
    timings_ms: dict[str, float] = field(default_factory=dict)
    schema_version: str = SCHEMA_VERSION

    @property
    def text(self) -> str:
        """Plain text: the lines joined with newlines, in reading order."""
        return "\n".join(line.text for line in self.lines)

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

        Raises:
            ValueError: If the major schema version differs from this reader's.
        """
        version = _readable_version(d)
        return cls(
            width=int(d["width"]),
            height=int(d["height"]),
            lines=[Line.from_dict(x) for x in d.get("lines", [])],
            model=ModelInfo(**d.get("model", {})),
            timings_ms={str(k): float(v) for k, v in d.get("timings_ms", {}).items()},
            schema_version=version,
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
