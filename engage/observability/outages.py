"""Which errors mean "the database is unreachable or restarting", so callers answer 503 and log
one line instead of a 500 with a traceback.

Both the errors SQLAlchemy wraps and psycopg's own (the hot paths run statements on a raw psycopg
cursor, engage.db.HotStatement) are recognised. Errors in our own statements (a missing table, a
constraint) are not: they are bugs and stay 500s.
"""

from __future__ import annotations

import sqlite3

import psycopg
from sqlalchemy import exc

# Seconds a client should wait before retrying: about what a PostgreSQL restart takes.
RETRY_AFTER_SECONDS = 5

# SQLSTATE classes of psycopg's OperationalError that pass with time: connection exceptions (08),
# insufficient resources (53), lock not available (55), operator intervention — shutdown,
# starting up, cancelled (57), system errors (58), and a deadlock or serialisation failure (40).
# Not 54 (a statement over a program limit: retrying the same statement cannot help).
_TRANSIENT_CLASSES = ("08", "40", "53", "55", "57", "58")

# SQLite has no error classes; these messages are the ones a retry can outlive.
_SQLITE_TRANSIENT = ("database is locked", "database table is locked", "unable to open database file",
                     "disk i/o error")


def unavailable_reason(error: BaseException) -> str | None:
    """One line saying why the database is unavailable, or None when `error` is something else."""
    if isinstance(error, (exc.TimeoutError, exc.DisconnectionError)):
        return _first_line(error)  # pool exhausted or a connection refused by a pool listener
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated:
            return _first_line(error.orig or error)
        return _driver_reason(error.orig) if error.orig is not None else None
    return _driver_reason(error)


def _driver_reason(error: BaseException) -> str | None:
    if isinstance(error, psycopg.InterfaceError):
        return _first_line(error)
    if isinstance(error, psycopg.OperationalError):
        state = getattr(error, "sqlstate", None)
        return _first_line(error) if state is None or state.startswith(_TRANSIENT_CLASSES) else None
    if isinstance(error, sqlite3.OperationalError):
        text = str(error).lower()
        return _first_line(error) if any(text.startswith(m) for m in _SQLITE_TRANSIENT) else None
    return None


def unseen_by_pool(error: BaseException) -> bool:
    """Whether SQLAlchemy never saw this error (a raw psycopg cursor's), so it invalidated no
    pooled connection: after a restart, every connection in the pool would fail once."""
    return isinstance(error, psycopg.Error)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return (text.splitlines() or [type(error).__name__])[0][:300]
