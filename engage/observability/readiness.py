"""/readyz checks: the database answers, its schema is at this code's head, a process holds the
scheduler lock. Each gives a line of detail; any failure makes the whole answer 503."""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from engage import leadership, migrate
from engage.db import Database


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str


@functools.cache
def _head() -> str | None:
    return migrate.head()  # reads every migration file: once per process


def checks(database: Database) -> dict[str, dict]:
    """{"database": {"ok", "detail"}, "migrations": …, "scheduler": …}."""
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        results = {"database": Check(True, "reachable"), "migrations": _migrations(database),
                   "scheduler": _scheduler(database)}
    except SQLAlchemyError as error:
        unavailable = Check(False, "database unreachable")
        results = {"database": Check(False, _first_line(error)), "migrations": unavailable,
                   "scheduler": unavailable}
    return {name: asdict(check) for name, check in results.items()}


def _migrations(database: Database) -> Check:
    at, head = migrate.current(database.engine), _head()
    if at == head:
        return Check(True, f"at head {head}")
    return Check(False, f"at {at or 'no revision'}, this code needs {head}: run `engage db upgrade`")


def _scheduler(database: Database) -> Check:
    holder = leadership.holder(database)
    if holder is None:
        return Check(False, "no process holds the scheduler lock: start `engage worker`")
    return Check(True, f"led by {holder}")


def _first_line(error: BaseException) -> str:
    return (str(getattr(error, "orig", None) or error).strip().splitlines() or ["unknown error"])[0][:300]
