"""``python -m ocr_service``: the OCR command line (see :mod:`ocr_service.cli`)."""

from ocr_service.cli import main

raise SystemExit(main())
