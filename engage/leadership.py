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
    return FileLock(_lock_file(path))


def holder(database: Database) -> str | None:
    """Who holds the scheduler lock, seen from any process (a web worker's /readyz): None when no
    process does. Raises SQLAlchemyError when the database cannot say."""
    if database.is_postgres:
        with database.engine.connect() as connection:
            row = connection.execute(_ADVISORY_HOLDER, {"high": ADVISORY_KEY >> 32,
                                                        "low": ADVISORY_KEY & 0xFFFFFFFF}).first()
        return None if row is None else f"process {row.pid} on {row.client_addr or 'a local socket'}"
    path = database.engine.url.database
    if not path or path == ":memory:":
        return "this process"
    return "a process on this machine" if _flock_held(_lock_file(path)) else None


def _lock_file(database_path: str) -> Path:
    return Path(database_path).with_name(Path(database_path).name + ".scheduler-lock")


# A bigint advisory key shows in pg_locks as its two halves (classid, objid) with objsubid 1.
_ADVISORY_HOLDER = text("""
    SELECT l.pid, a.client_addr FROM pg_locks AS l LEFT JOIN pg_stat_activity AS a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND l.classid::bigint = :high AND l.objid::bigint = :low
""")


def _flock_held(path: Path) -> bool:
    """Whether another open file holds the exclusive flock; a shared probe never blocks a taker
    for longer than this call."""
    try:
        probe = open(path)  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        probe.close()  # closing drops the probe's own shared lock
    return False
