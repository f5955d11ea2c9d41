"""Logging for every Engage process: one line per event, as JSON or readable text.

- A request id per web request and a message id per dispatched message ride along on every line
  (context variables set by engage.observability.web and engage.channels.instrumented).
- Phone numbers and email addresses are masked (+3161234****, d***@example.com) wherever they
  appear: message, arguments, exception text.
- A database outage logged with a traceback (a dispatcher batch, a scheduler tick, the pool)
  becomes one warning line: the traceback says nothing an operator can act on.
- Third-party loggers stay at WARNING: the Twilio SDK logs every request at INFO, phone numbers
  and bodies included.

`ENGAGE_LOG_FORMAT` picks json or text; each entry point has its default (engage serve: text,
gunicorn and engage worker: json).
"""

from __future__ import annotations

import logging
import re
import sys
from contextvars import ContextVar
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

from engage.observability.outages import unavailable_reason

request_id: ContextVar[str | None] = ContextVar("engage_request_id", default=None)
message_id: ContextVar[int | None] = ContextVar("engage_message_id", default=None)

QUIET_LOGGERS = ("twilio", "twilio.http_client", "urllib3", "sendgrid", "python_http_client",
                 "apscheduler", "requests", "alembic.runtime.migration")  # (2 lines per /readyz)
FORMATS = ("json", "text")

# An E.164 number, also URL-encoded (%2B, as in a logged form body). The last four digits go.
_PHONE = re.compile(r"(\+|%2B)(\d{2,11})(\d{4})(?![\d*])", re.IGNORECASE)  # not masked twice
_EMAIL = re.compile(r"(?<![\w.%+-])([\w%+-])[\w.%+-]*?(@|%40)([\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,})")


def mask(text: str) -> str:
    """`text` with phone numbers and email addresses masked."""
    if "@" not in text and "%40" not in text and "+" not in text and "%2" not in text:
        return text  # the usual line: nothing to look for
    text = _PHONE.sub(lambda m: f"{m[1]}{m[2]}****", text)
    return _EMAIL.sub(lambda m: f"{m[1]}***{m[2]}{m[3]}", text)


class ContextFilter(logging.Filter):
    """Puts the current request id and message id on the record (only those that are set)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if (rid := request_id.get()) is not None:
            record.request_id = rid
        if (mid := message_id.get()) is not None:
            record.message_id = mid
        return True


class OutageFilter(logging.Filter):
    """A logged exception that is a database outage becomes one warning line, no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        reason = _outage_in_chain(error) if error is not None else None
        if reason is not None:
            record.msg, record.args = f"{record.getMessage()}: database unavailable: {reason}", None
            record.exc_info, record.exc_text = None, None
            if record.levelno > logging.WARNING:
                record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def _outage_in_chain(error: BaseException) -> str | None:
    for _ in range(5):  # an outage re-raised as another error still is one
        reason = unavailable_reason(error)
        if reason is not None or (error := error.__cause__ or error.__context__) is None:
            return reason
    return None


class PersonalDataFilter(logging.Filter):
    """Masks phone numbers and email addresses in the message and its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.msg, str) or record.args:
            record.msg, record.args = record.getMessage(), None
        record.msg = mask(record.msg)
        return True


class _Masked:
    """Masks the finished line too: exception text, stack and extra fields are covered."""

    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))  # type: ignore[misc]


class TextFormatter(_Masked, logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        parts = [f"{name}={value}" for name in ("request_id", "message_id")
                 if (value := getattr(record, name, None)) is not None]
        record.context = f" [{' '.join(parts)}]" if parts else ""
        return super().format(record)


class JsonLineFormatter(_Masked, JsonFormatter):
    def __init__(self) -> None:
        super().__init__("%(levelname)s %(name)s %(message)s", timestamp="time",
                         rename_fields={"levelname": "level", "name": "logger"},
                         reserved_attrs=[*logging.LogRecord("", 0, "", 0, "", None, None).__dict__,
                                         "message", "asctime", "context"])


def configure_logging(level: str = "INFO", fmt: str = "text",
                      stream: TextIO | None = None) -> logging.Handler:
    """One handler on the root logger (replacing one installed earlier); returns it."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "engage", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.engage = True  # type: ignore[attr-defined]
    for installed in (ContextFilter(), OutageFilter(), PersonalDataFilter()):
        handler.addFilter(installed)
    handler.setFormatter(JsonLineFormatter() if fmt == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler
