"""Capture what a process would log, through the production logging setup
(engage.observability.logs.configure_logging), and put the global logging state back after."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from engage.observability.logs import QUIET_LOGGERS, configure_logging


class Captured:
    def __init__(self, stream: io.StringIO, fmt: str):
        self.stream, self.fmt = stream, fmt

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list:
        """JSON lines as dicts (json format) or the text lines."""
        raw = [line for line in self.text.splitlines() if line.strip()]
        return [json.loads(line) for line in raw] if self.fmt == "json" else raw


@contextmanager
def captured_logs(fmt: str = "json", level: str = "INFO") -> Iterator[Captured]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, {name: logging.getLogger(name).level for name in QUIET_LOGGERS})
    stream = io.StringIO()
    handler = configure_logging(level, fmt, stream)
    try:
        yield Captured(stream, fmt)
    finally:
        root.removeHandler(handler)
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, level_before in saved[2].items():
            logging.getLogger(name).setLevel(level_before)
