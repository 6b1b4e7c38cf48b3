"""Image input: header checks and size limits before any pixel is decoded, then decoding.

:mod:`~ocr_engine.image.limits` sets OpenCV's own size limits (imported before cv2),
:mod:`~ocr_engine.image.headers` reads the size a file declares in its header,
:mod:`~ocr_engine.image.png_stream` walks PNG chunks, :mod:`~ocr_engine.image.decode` turns
the bytes into a BGR/gray array.
"""
