"""Lambda handlers: thin adapters from S3 / SQS / HTTP API events to the OCR core."""
