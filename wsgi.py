"""WSGI entry point: `gunicorn wsgi:app`. The scheduler runs in `engage worker`, not here."""

import sys

from engage import create_app
from engage.config import ConfigError
from engage.observability.logs import configure_logging

try:
    app = create_app()
except ConfigError as error:
    sys.exit(f"engage: configuration error: {error}")
settings = app.extensions["engage.config"]
configure_logging(settings.log_level or "INFO", settings.log_format or "json")  # JSON unless told text
