"""`engage worker`: the schedules and the dispatcher, built from the same app factory as the web.

Production runs `gunicorn wsgi:app` for the web and one or more `engage worker` processes beside
it; `engage serve` runs all of it in one process (engage.serving).
"""

from __future__ import annotations

import logging
import os
import signal
import threading

from flask import Flask

from engage.jobs import dispatcher_for
from engage.leadership import Lock, lock_for
from engage.observability import logs, metrics
from engage.scheduler import LOCK_RETRY_SECONDS, Schedules

log = logging.getLogger(__name__)

DISPATCHER_STOP_SECONDS = 30.0  # a provider call in flight has its own, shorter timeout


def configure_logging(app: Flask, default_format: str = "json") -> None:
    """ENGAGE_LOG_LEVEL (INFO) and ENGAGE_LOG_FORMAT, else `default_format`."""
    config = app.extensions["engage.config"]
    logs.configure_logging(config.log_level or "INFO", config.log_format or default_format)


class Background:
    """What runs beside the web app: the schedules (one process) and dispatcher threads (every one)."""

    def __init__(self, app: Flask, *, lock: Lock | None = None, retry_seconds: float = LOCK_RETRY_SECONDS):
        self.threads = app.extensions["engage.config"].dispatcher_threads
        self.schedules = Schedules(app, lock or lock_for(app.extensions["engage.db"]),
                                   retry_seconds=retry_seconds)
        self._stop_sending = threading.Event()
        self._dispatcher = threading.Thread(
            target=dispatcher_for(app).run_forever, args=(self._stop_sending, self.threads),
            name="dispatcher", daemon=True)

    def start(self) -> None:
        self._dispatcher.start()
        self.schedules.start()

    def stop(self) -> None:
        """Stop sending after the batches in flight, stop the schedules, release the lock."""
        self._stop_sending.set()
        self.schedules.stop()
        self._dispatcher.join(DISPATCHER_STOP_SECONDS)


def stop_on_signals(stop: threading.Event) -> None:
    """SIGINT/SIGTERM ask for a graceful stop; a second one ends the process at once."""

    def handle(signum, _frame) -> None:
        if stop.is_set():
            log.warning("second %s: exiting now", signal.Signals(signum).name)
            os._exit(130)
        log.info("%s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


def run(app: Flask) -> None:
    """Run until SIGINT/SIGTERM."""
    configure_logging(app)
    port = app.extensions["engage.config"].metrics_port
    if port is not None:
        log.info("metrics on port %d at /metrics", metrics.serve(port))
    stop = threading.Event()
    stop_on_signals(stop)
    background = Background(app)
    background.start()
    log.info("worker started: %d dispatcher threads; schedules fire in whichever worker holds the lock",
             background.threads)
    while not stop.wait(1.0):
        pass
    background.stop()
    log.info("worker stopped")
