"""The AWS app: the Lambda handlers (S3/SQS objects, HTTP API), their settings and
observability, and the result store, on top of the :mod:`ocr_engine` library.

Nothing in :mod:`ocr_engine` imports this package.
"""

import ocr_engine  # noqa: F401  (first: sets OpenCV's size limits before cv2 loads)

__version__ = "0.2.0"
