"""PDF pages through PDFium (``pypdfium2``, the engine's optional ``pdf`` extra), one at a time.

``pypdfium2`` is imported here only, when a PDF is opened: without it a PDF is refused with
:class:`~ocr_engine.errors.UnsupportedImageType`. Before PDFium parses anything, the file's
streams are measured (:mod:`~ocr_engine.image.pdf_streams`), since PDFium ends the process
when an allocation fails. Encrypted files are refused: their streams cannot be measured.
Each page is loaded, checked (its drawing objects counted, its images' pixel sizes read) and
only then rendered. PDFium is not thread-safe, so every call into it holds one lock.

Example:
    >>> is_pdf(b"%PDF-1.7\\n..."), is_pdf(b"\\x89PNG...")
    (True, False)
    >>> with PdfPages(open("scan.pdf", "rb").read()) as pdf:  # doctest: +SKIP
    ...     len(pdf), pdf.size_inches(1)
    (3, (8.27, 11.69))
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from ocr_engine.errors import EncryptedDocument, PageTooLarge, UndecodableDocument, UnsupportedImageType
from ocr_engine.image.pdf_streams import StreamLimits, scan_streams

PDF_MAGIC = b"%PDF-"
# PDFium looks for the header in the first 1024 bytes, as Acrobat does.
HEADER_WINDOW = 1024
_LOCK = threading.RLock()


def is_pdf(data: bytes) -> bool:
    """Whether ``data`` starts like a PDF (``%PDF-`` in its first 1024 bytes)."""
    return PDF_MAGIC in data[:HEADER_WINDOW]


def _pdfium() -> Any:
    """The ``pypdfium2`` module, or the refusal that says how to install it."""
    try:
        import pypdfium2
        import pypdfium2.raw
    except ImportError as err:
        raise UnsupportedImageType("PDF input needs pypdfium2: install ocr-engine[pdf]") from err
    return pypdfium2


class PdfPages:
    """An open PDF: its page count, page sizes and rendered pages (use it in a ``with``).

    Args:
        data: The PDF's bytes.
        streams: What its streams may inflate to (checked before PDFium opens the file).

    Raises:
        UnsupportedImageType: pypdfium2 is not installed.
        DocumentTooLarge: Its streams inflate past ``streams``.
        EncryptedDocument: The file is encrypted (with a password or not).
        UndecodableDocument: PDFium cannot open it, or it has no pages.
    """

    def __init__(self, data: bytes, streams: StreamLimits | None = None) -> None:
        pdfium = _pdfium()
        self._pdfium = pdfium
        self._raw = pdfium.raw
        scan_streams(data, streams or StreamLimits())
        with _LOCK:
            try:
                self._doc = pdfium.PdfDocument(data)
            except pdfium.PdfiumError as err:
                raise _open_error(err, pdfium) from err
            if self._raw.FPDF_GetSecurityHandlerRevision(self._doc) != -1:
                self.close()
                raise EncryptedDocument("the PDF is encrypted: remove its protection and send it again")
            self.count = len(self._doc)

    def __enter__(self) -> PdfPages:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return self.count

    def close(self) -> None:
        with _LOCK:
            doc, self._doc = getattr(self, "_doc", None), None
            if doc is not None:
                doc.close()

    def size_inches(self, number: int) -> tuple[float, float]:
        """Width and height of page ``number`` (1-based) in inches, read without loading the page.

        Raises:
            UndecodableDocument: The page cannot be found (a broken page tree).
        """
        with _LOCK:
            try:
                w, h = self._doc.get_page_size(number - 1)
            except self._pdfium.PdfiumError as err:
                raise UndecodableDocument(f"PDF page {number} cannot be read (its page tree is broken)") from err
        return abs(w) / 72.0, abs(h) / 72.0

    def render(self, number: int, dpi: float, *, gray: bool = False, max_objects: int = 1_000_000,
               max_image_pixels: int = 100_000_000) -> np.ndarray:
        """Page ``number`` (1-based) rendered at ``dpi`` on white: ``[H, W, 3]`` BGR or ``[H, W]`` gray.

        Before it is drawn, the page's drawing objects are counted (forms counted as often as
        they are drawn) and each image's pixel size is read.

        Raises:
            PageTooLarge: More than ``max_objects`` objects, or an image over ``max_image_pixels``.
            UndecodableDocument: The page cannot be loaded or rendered.
        """
        with _LOCK:
            try:
                page = self._doc.get_page(number - 1)
            except self._pdfium.PdfiumError as err:
                raise UndecodableDocument(f"PDF page {number} cannot be loaded") from err
            try:
                self._check_objects(page, number, max_objects, max_image_pixels)
                try:
                    # pypdfium2 rounds the bitmap size up from PDFium's float32 page size: a hair
                    # under the scale keeps a page of 201.6 pt at 200 dpi 560 px wide, not 561
                    bitmap = page.render(scale=dpi / 72.0 * (1 - 1e-6), grayscale=gray,
                                         fill_color=(255, 255, 255, 255))
                except self._pdfium.PdfiumError as err:
                    raise UndecodableDocument(f"PDF page {number} cannot be rendered") from err
                try:
                    arr = np.array(bitmap.to_numpy(), np.uint8, copy=True)
                finally:
                    bitmap.close()
            finally:
                page.close()
        if arr.ndim == 3 and arr.shape[2] == 1:
            arr = arr[:, :, 0]
        elif arr.ndim == 3 and arr.shape[2] == 4:
            arr = np.ascontiguousarray(arr[:, :, :3])
        return arr

    def _check_objects(self, page: Any, number: int, max_objects: int, max_image_pixels: int) -> None:
        raw = self._raw
        width, height = raw.c_uint(), raw.c_uint()
        seen = 0
        todo: list[tuple[Any, bool]] = [(page, False)]
        while todo:
            holder, is_form = todo.pop()
            count = raw.FPDFFormObj_CountObjects(holder) if is_form else raw.FPDFPage_CountObjects(holder)
            seen += max(count, 0)
            if seen > max_objects:
                raise PageTooLarge(f"PDF page {number} has more than {max_objects} drawing objects; "
                                   f"the limit is {max_objects}")
            for i in range(max(count, 0)):
                obj = raw.FPDFFormObj_GetObject(holder, i) if is_form else raw.FPDFPage_GetObject(holder, i)
                kind = raw.FPDFPageObj_GetType(obj)
                if kind == raw.FPDF_PAGEOBJ_FORM:
                    todo.append((obj, True))
                elif kind == raw.FPDF_PAGEOBJ_IMAGE and raw.FPDFImageObj_GetImagePixelSize(obj, width, height):
                    if width.value * height.value > max_image_pixels:
                        raise PageTooLarge(f"PDF page {number} has a {width.value}x{height.value} image; "
                                           f"the limit is {max_image_pixels} pixels")


def _open_error(err: Exception, pdfium: Any) -> Exception:
    """The refusal for a file PDFium would not open."""
    code = getattr(err, "err_code", None)
    if code in (pdfium.raw.FPDF_ERR_PASSWORD, pdfium.raw.FPDF_ERR_SECURITY):
        return EncryptedDocument("the PDF is encrypted: remove its protection and send it again")
    if code in (None, pdfium.raw.FPDF_ERR_SUCCESS, pdfium.raw.FPDF_ERR_PAGE):
        return UndecodableDocument("the PDF has no pages (or its page tree cannot be read)")
    return UndecodableDocument("the PDF is corrupt or truncated")
