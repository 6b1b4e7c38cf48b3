"""``python -m ocr_service.evaluation``: see :mod:`ocr_service.evaluation.cli`."""

from ocr_service.evaluation.cli import main

raise SystemExit(main())
