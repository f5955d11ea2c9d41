"""`engage serve`: web app, schedules and dispatcher in one process (the embedded default).

Werkzeug's threaded server keeps it to one process, so the schedules and the sender threads live
beside the app with no fork to work around. Production runs `gunicorn wsgi:app` for the web and
`engage worker` for the rest.
"""

from __future__ import annotations

import logging
import signal

from flask import Flask
from werkzeug.serving import make_server

from engage.worker import Background, configure_logging

log = logging.getLogger(__name__)


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt  # SIGTERM takes the same way out as Ctrl-C


def serve(app: Flask, host: str, port: int) -> None:
    """Serve until Ctrl-C or SIGTERM, then stop the background work and release the lock."""
    configure_logging(app, default_format="text")  # a console someone reads (make run)
    server = make_server(host, port, app, threaded=True)
    background = Background(app)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)  # even where the shell started us with SIGINT ignored
    background.start()
    log.info("serving on http://%s:%d with %d dispatcher threads; Ctrl-C stops. "
             "(Production: gunicorn wsgi:app and engage worker.)", host, server.port, background.threads)
    try:
        server.serve_forever()  # returns on KeyboardInterrupt
    finally:
        log.info("stopping")
        background.stop()
        log.info("stopped")
