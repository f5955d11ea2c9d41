"""The scheduler lock: which one of several processes fires the schedules.

PostgreSQL: a session-level advisory lock on a connection of its own, held while leading. When
the process dies its connection closes and the server releases the lock, so another takes over.
SQLite (a single-machine try-out): an flock on a file beside the database does the same.
"""

from __future__ import annotations

import fcntl
import logging
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from engage.db import Database, make_engine

log = logging.getLogger(__name__)

ADVISORY_KEY = int.from_bytes(b"engage", "big")  # one constant for every Engage process


class Lock(Protocol):
    def acquire(self) -> bool:
        """Take the lock if free; never blocks."""

    def alive(self) -> bool:
        """Whether a lock taken earlier is still held."""

    def release(self) -> None:
        """Give the lock up (harmless when not held)."""


class AdvisoryLock:
    """`pg_try_advisory_lock` on a dedicated autocommit connection (no transaction left open)."""

    def __init__(self, url: str, key: int = ADVISORY_KEY):
        self.key = key
        self.engine = make_engine(url, poolclass=NullPool, connect_args={
            "connect_timeout": 5, "application_name": "engage scheduler lock"})
        self.connection: Connection | None = None

    def acquire(self) -> bool:
        try:
            if self.connection is None:
                self.connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            return bool(self.connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}))
        except SQLAlchemyError as error:
            log.warning("scheduler lock unavailable: %s", str(error).splitlines()[0])
            self._close()
            return False

    def alive(self) -> bool:
        try:
            return self.connection is not None and self.connection.scalar(text("SELECT 1")) == 1
        except SQLAlchemyError:
            self._close()
            return False

    def release(self) -> None:
        if self.connection is not None:
            try:
                self.connection.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            except SQLAlchemyError:
                pass  # a dead connection has released it already
            self._close()
        self.engine.dispose()

    def _close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except SQLAlchemyError:
                pass
            self.connection = None


class FileLock:
    """An exclusive flock; the kernel drops it when the process exits."""

    def __init__(self, path: Path):
        self.path = path
        self.file: IO[str] | None = None

    def acquire(self) -> bool:
        if self.file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.file = open(self.path, "a")  # noqa: SIM115 - held open for the lock's lifetime
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def alive(self) -> bool:
        return self.file is not None

    def release(self) -> None:
        if self.file is not None:
            fcntl.flock(self.file, fcntl.LOCK_UN)
            self.file.close()
            self.file = None


class SoleProcess:
    """An in-memory database has one process by definition."""

    def acquire(self) -> bool:
        return True

    def alive(self) -> bool:
        return True

    def release(self) -> None:
        pass


def lock_for(database: Database) -> Lock:
    """The right lock for the database the schedules run against."""
    if database.is_postgres:
        return AdvisoryLock(database.url)
    path = database.engine.url.database
    if not path or path == ":memory:":
        return SoleProcess()
    return FileLock(Path(path).with_name(Path(path).name + ".scheduler-lock"))
