"""Page layout: columns and gutters, reading order, paragraph blocks.

* :mod:`~.gutters`: the white strips between columns (no line is joined across one);
* :mod:`~.order`: the order lines are read in (:func:`reading_order`, :func:`column_order`);
* :mod:`~.leaders`: the dotted leaders of contents pages (an entry stays one line);
* :mod:`~.pictures`: photos among the text, which are not read;
* :mod:`~.blocks`: the paragraphs of :attr:`~ocr_engine.schema.OcrResult.blocks`.
"""

from ocr_engine.layout.gutters import Gutter, crosses, find_gutters
from ocr_engine.layout.order import column_order, reading_order

__all__ = ["Gutter", "column_order", "crosses", "find_gutters", "reading_order"]
