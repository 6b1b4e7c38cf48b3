"""Static files of the upload page served at ``GET /``."""
