"""WSGI entry point: `gunicorn wsgi:app`. The scheduler runs in `engage worker`, not here."""

import sys

from engage import create_app
from engage.config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    sys.exit(f"engage: configuration error: {error}")
