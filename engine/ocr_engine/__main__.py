"""``python -m ocr_engine``: the OCR command line (see :mod:`ocr_engine.cli`)."""

from ocr_engine.cli import main

raise SystemExit(main())
