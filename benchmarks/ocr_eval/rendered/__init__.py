"""Implementation of :mod:`ocr_eval.rendered_pages`: rendered full pages with known truth.

* :mod:`~ocr_eval.rendered.text`: the text (the training corpora, mapped onto the charset) and line wrapping;
* :mod:`~ocr_eval.rendered.layout`: faces, truth lines with their boxes, and the column flow;
* :mod:`~ocr_eval.rendered.kinds`: the page kinds, in the true reading order;
* :mod:`~ocr_eval.rendered.draw`: drawing a layout, photo-like figures, tilt, rotation and degradations;
* :mod:`~ocr_eval.rendered.build`: the page schedule and the ``pages.tsv`` writer.
"""
