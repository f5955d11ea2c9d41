"""`engage serve`: one process with the web app (and, once present, scheduler and dispatcher)."""

from __future__ import annotations

from flask import Flask
from werkzeug.serving import run_simple


def serve(app: Flask, host: str, port: int) -> None:
    """Threaded HTTP server for trying Engage out; production runs gunicorn + `engage worker`."""
    run_simple(host, port, app, threaded=True, use_reloader=False)
