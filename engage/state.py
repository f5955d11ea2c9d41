"""Per-app state reached from edges: the database, the clock, the channels."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from flask import current_app, g
from sqlalchemy.orm import Session

from engage.config import Config
from engage.db import Database

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def database() -> Database:
    return current_app.extensions["engage.db"]


def config() -> Config:
    return current_app.extensions["engage.config"]


def now() -> datetime:
    return current_app.extensions["engage.clock"]()


def session() -> Session:
    """One session per request, closed at teardown; services open its transactions."""
    held = g.get("db_session")
    if held is None:
        held = g.db_session = database().request_session()
    return held


def close_session(_error=None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        database().end_request(db_session)


def drop_connections(*, forget_pool: bool = False) -> None:
    """After a database outage: this request's connection is not given back (a dead one would
    fail its reset), and with `forget_pool` neither is any idle one (dead too after a restart,
    and SQLAlchemy did not see the error that says so), so the next requests connect afresh."""
    held = g.get("db_session")
    if held is not None:
        held.invalidate()
    if forget_pool:
        database().engine.dispose()
