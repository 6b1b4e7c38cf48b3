"""Image input: bytes in, an upright 8-bit BGR array out, every limit checked before decoding.

One concern per module:

* :mod:`~ocr_engine.image.limits`: :class:`DecodeLimits` and :func:`check_limits`, and OpenCV's
  own size limits (set at import, before cv2 loads: the module imports no cv2);
* :mod:`~ocr_engine.image.headers`: format, size and orientation read from the header;
* :mod:`~ocr_engine.image.jpeg_markers`: the JPEG marker walk (frame size, scan count);
* :mod:`~ocr_engine.image.png_stream`: PNG chunks checked, and cut to what the decoder needs;
* :mod:`~ocr_engine.image.gif_stream`: a GIF cut after its first image;
* :mod:`~ocr_engine.image.normalize`: bit depth, alpha, channels and EXIF orientation;
* :mod:`~ocr_engine.image.decode`: :func:`decode_image`, which runs the above in order.

Documents (:mod:`ocr_engine.document`) add :mod:`~ocr_engine.image.tiff_pages` (the pages of a
multi-page TIFF), :mod:`~ocr_engine.image.pdf` (PDF pages through PDFium, an optional extra),
:mod:`~ocr_engine.image.pdf_streams` (a PDF's streams measured before PDFium opens it) and
:mod:`~ocr_engine.image.isolate` (PDFium in a child process with its own limits).

This package's ``__init__`` imports nothing, so importing :mod:`~ocr_engine.image.limits`
loads no cv2.
"""
