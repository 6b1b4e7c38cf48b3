"""Evaluation and benchmark harness over ``shared/eval``-style label folders.

Line mode (``lines.tsv``): recognise crops. Page mode (``pages.tsv``): the full
pipeline, scored in reading order (one edit distance over the page's text) and
order free (found lines matched to the expected ones as a set), per page tag too.
Peers (Tesseract, PP-OCRv4 via RapidOCR) are scored in the same run when available.
The page benchmark (``pagebench``) runs page mode on several sets: rendered pages
(:mod:`ocr_eval.rendered_pages`), real typeset pages (:mod:`ocr_eval.real_pages`)
and ``shared/eval``.

Example:
    >>> from ocr_eval import evaluate_lines  # doctest: +SKIP
    >>> evaluate_lines("../shared/eval/lines.tsv", recognizer).summary()  # doctest: +SKIP

Command line::

    python -m ocr_eval lines --labels ../shared/eval/lines.tsv \\
        --model engine/ocr_engine/weights/crnn_zh_en.onnx [--predictions out.tsv]
    python -m ocr_eval pagebench --sets data/pagebench/real/pages.tsv ../shared/eval/pages.tsv
"""

from ocr_eval.lines import LinePrediction, LineReader, LinesReport, evaluate_lines
from ocr_eval.metrics import Score, cer, edit_distance, normalize, score_pairs

__all__ = [
    "LinePrediction",
    "LineReader",
    "LinesReport",
    "Score",
    "cer",
    "edit_distance",
    "evaluate_lines",
    "normalize",
    "score_pairs",
]
