"""``python -m ocr_eval``: see :mod:`ocr_eval.cli`."""

from ocr_eval.cli import main

raise SystemExit(main())
