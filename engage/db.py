"""Engine and sessions per app; the declarative Base and a UTC datetime column type."""

from __future__ import annotations

import threading
from collections import namedtuple
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import DateTime, MetaData, Table, create_engine, event, make_url
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on SQLite (naive storage) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def _sqlite_serialised_writes(engine: Engine) -> None:
    """Make every SQLite transaction BEGIN IMMEDIATE: writers queue instead of failing later.

    pysqlite's own transaction handling defers BEGIN; taking the write lock up front is what
    makes read-check-write services (redemptions) safe on SQLite, as row locks are on PostgreSQL.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs) -> Engine:
    """An engine for SQLite (file under instance/) or PostgreSQL (psycopg 3)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _sqlite_serialised_writes(engine)
        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    # No pre-ping (a round trip per checkout); recycle instead so idle connections that a
    # firewall or server restart killed are replaced. After a restart, the first statement on
    # a dead connection fails (503) and SQLAlchemy replaces every connection older than it.
    kwargs.setdefault("pool_recycle", 1800)
    # A server that drops packets would hold a connect for the OS's TCP timeout (minutes),
    # every request with it; give up after a few seconds instead, and answer 503. A
    # connect_timeout in the URL's query wins.
    if "connect_timeout" not in make_url(url).query:
        kwargs["connect_args"] = {"connect_timeout": 5, **kwargs.get("connect_args", {})}
    return create_engine(url, **kwargs)


class Database:
    """One engine and session factory; services get a Session and own its transaction."""

    def __init__(self, url: str, info: dict | None = None, **engine_kwargs):
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        # `info` travels with every session: deployment facts (the public URL) that flows need
        # deep inside a service, without services knowing about Flask or the config.
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, info=dict(info or {}))
        self._threads = threading.local()

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def session(self) -> Session:
        return self.sessions()

    def request_session(self) -> Session:
        """This thread's session for web requests, made once per thread; `end_request` closes it
        after each request (rolling back, emptying it, returning its connection) for the next.
        Making a Session costs about as much Python as a purchase's own statement. A request
        inside another on the same thread (an app context in a test) gets a session of its own."""
        threads = self._threads
        if getattr(threads, "busy", False):
            return self.sessions()
        held = getattr(threads, "session", None)
        if held is None:
            held = threads.session = self.sessions()
        threads.busy = True
        return held

    def end_request(self, session: Session) -> None:
        try:
            session.info.pop(_CURSOR, None)
            session.close()
        finally:
            if session is getattr(self._threads, "session", None):
                self._threads.busy = False

    def dispose(self) -> None:
        self.engine.dispose()


def on_postgres(session: Session) -> bool:
    """Whether this session's database is PostgreSQL (else SQLite)."""
    return session.get_bind().dialect.name == "postgresql"


PLAIN_PATHS = "plain_paths"  # Database(info={PLAIN_PATHS: True}): no one-statement fast paths


def fast_paths(session: Session) -> bool:
    """Whether the hot paths (a purchase, an inbound SMS) take their one-statement PostgreSQL form.

    Sessions made with `info={PLAIN_PATHS: True}` take the plain steps SQLite takes, on
    PostgreSQL too: the differential tests run both forms against one database and compare."""
    return on_postgres(session) and not session.info.get(PLAIN_PATHS)


def sql_strings(values: tuple[str, ...]) -> str:
    """Fixed string constants (statuses) as a SQL list for hand-written statements: 'a', 'b'."""
    if any("'" in value for value in values):
        raise ValueError("sql_strings takes constants without quotes")
    return ", ".join(f"'{value}'" for value in values)


class InsertIgnoring:
    """`INSERT … ON CONFLICT (columns) DO NOTHING RETURNING id`, in either database's dialect.

    `run` gives the new row's id, or None when the unique index already held the values. One
    statement and no savepoint, so it is cheap inside a purchase's or a webhook's transaction.
    Columns missing from `values` get their column defaults, as with any Core insert.
    """

    def __init__(self, table: Table, conflict: list[str]):
        self.statements = {
            name: dialect_insert(table).on_conflict_do_nothing(index_elements=conflict).returning(table.c.id)
            for name, dialect_insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))}

    def run(self, session: Session, values: dict) -> int | None:
        connection = session.connection()
        return connection.execute(self.statements[connection.dialect.name], values).scalar()


class HotStatement:
    """A `text()` statement of the hottest paths (a purchase, an inbound SMS, a dispatched
    message's hand-off), on PostgreSQL.

    SQLAlchemy compiles it once, as it would for `execute`; it then runs on one psycopg cursor
    kept per pooled connection, with psycopg adapting the parameters (plain values: no bind
    processors are involved, so give it none that need them). That skips what SQLAlchemy and
    psycopg redo on every execution: the execution context, a new cursor with its adapters, the
    result metadata: measured against plain `execute`, 0.06 of the earn bench's ratio to its floor
    and 0.10 of the inbound bench's (bench/RESULTS.md). Rows are named tuples.
    """

    # Called with (sql, params) before each run: SQLAlchemy's cursor events don't see these
    # statements, so bench/profile_* listen here too.
    observers: list = []

    def __init__(self, statement: TextClause):
        self.statement = statement
        self.sql: str | None = None
        self._row: type | None = None  # made from the first result's columns; they never change

    def run(self, session: Session, params: dict) -> list:
        return self._run(_transaction_cursor(session), session.get_bind().dialect, params)

    def run_alone(self, connection: Connection, params: dict) -> list:
        """On an AUTOCOMMIT connection: the statement is its own transaction, committed in its
        one round trip (no BEGIN or COMMIT of their own)."""
        return self._run(_pooled_cursor(connection.connection), connection.dialect, params)

    def _run(self, cursor, dialect, params: dict) -> list:
        if self.sql is None:
            self.sql = str(self.statement.compile(dialect=dialect))
        for observer in self.observers:
            observer(self.sql, params)
        cursor.execute(self.sql, params)
        if self._row is None:  # the first run: whether it returns rows, and their columns
            if cursor.description is None:
                return []
            self._row = namedtuple("Row", [column.name for column in cursor.description])
        return [self._row._make(row) for row in cursor.fetchall()]


_CURSOR = "engage.hot_cursor"


def _transaction_cursor(session: Session):
    """The psycopg cursor of the session's connection, remembered for its transaction.

    Each pooled psycopg connection keeps one cursor for its life (in the pool's per-connection
    `info`, emptied when the connection is replaced); every HotStatement fetches all its rows, so
    reusing it is safe. Asking the session for its connection again costs about as much as the
    statement, hence the per-transaction memo."""
    transaction = session.get_transaction()
    held = session.info.get(_CURSOR)
    if held is not None and transaction is not None and held[0] is transaction:
        return held[1]
    cursor = _pooled_cursor(session.connection().connection)
    session.info[_CURSOR] = (session.get_transaction(), cursor)
    return cursor


def _pooled_cursor(pooled):
    """The one psycopg cursor kept for a pooled connection's life."""
    cursor = pooled.info.get(_CURSOR)
    if cursor is None or cursor.closed:
        cursor = pooled.info[_CURSOR] = pooled.driver_connection.cursor()
    return cursor
