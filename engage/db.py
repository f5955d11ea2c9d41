"""Engine and sessions per app; the declarative Base and a UTC datetime column type."""

from __future__ import annotations

import re
import threading
from collections import namedtuple
from datetime import datetime, timezone
from pathlib import Path

from psycopg.pq import ExecStatus

from sqlalchemy import DateTime, MetaData, Table, create_engine, event
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
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
    # firewall or server restart killed are replaced.
    kwargs.setdefault("pool_recycle", 1800)
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
    """Whether this session's database is PostgreSQL (else SQLite): the hot paths that have a
    one-statement or driver-level form there ask this."""
    return session.get_bind().dialect.name == "postgresql"


def sql_strings(values: tuple[str, ...]) -> str:
    """Fixed string constants (statuses) as a SQL list for hand-written statements: 'a', 'b'."""
    if any("'" in value for value in values):
        raise ValueError("sql_strings takes constants without quotes")
    return ", ".join(f"'{value}'" for value in values)


class InsertIgnoring:
    """`INSERT … ON CONFLICT (columns) DO NOTHING RETURNING id`.

    `run` gives the new row's id, or None when the unique index already held the values. One
    statement and no savepoint, so it is cheap inside a purchase's or a webhook's transaction.
    Columns missing from `values` get their column defaults, as with any Core insert.

    On PostgreSQL it runs as a DriverStatement, one per set of column names: it writes outbox
    rows inside purchases, where SQLAlchemy's per-execution work cost as much as the insert. The
    values still go through SQLAlchemy's bind processors for their column types (UTC datetimes,
    JSON), so what is stored is what the Core insert stores on SQLite.
    """

    def __init__(self, table: Table, conflict: list[str]):
        self.table, self.conflict = table, conflict
        self.sqlite = sqlite_insert(table).on_conflict_do_nothing(index_elements=conflict).returning(table.c.id)
        self._driven: dict[tuple[str, ...], _DrivenInsert] = {}  # PostgreSQL, by the columns given

    def run(self, session: Session, values: dict) -> int | None:
        if not on_postgres(session):
            return session.connection().execute(self.sqlite, values).scalar()
        names = tuple(values)
        driven = self._driven.get(names)
        if driven is None:
            driven = self._driven[names] = _DrivenInsert(self, session.get_bind().dialect, names)
        return driven.run(session, values)


class _DrivenInsert:
    """An InsertIgnoring for one set of given columns on PostgreSQL: the SQL, the bind processors
    and the Python-side defaults of the columns not given, all worked out once."""

    def __init__(self, insert: InsertIgnoring, dialect, names: tuple[str, ...]):
        table, quote = insert.table, dialect.identifier_preparer.quote
        self.defaults = {}
        for column in table.columns:
            default = column.default
            if column.key in names or default is None:
                continue
            if not (default.is_scalar or default.is_callable):
                raise NotImplementedError(f"{table.name}.{column.key}: only scalar and callable defaults")
            self.defaults[column.key] = default
        columns = [table.c[name] for name in (*names, *self.defaults)]
        self.processors = {column.key: processor for column in columns
                           if (processor := column.type.dialect_impl(dialect).bind_processor(dialect))}
        self.statement = DriverStatement(
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(column.name) for column in columns)}) "
            f"VALUES ({', '.join(':' + column.key for column in columns)}) "
            f"ON CONFLICT ({', '.join(quote(name) for name in insert.conflict)}) DO NOTHING RETURNING id")

    def run(self, session: Session, values: dict) -> int | None:
        params = dict(values)
        for key, default in self.defaults.items():
            params[key] = default.arg if default.is_scalar else default.arg(None)
        for key, processor in self.processors.items():
            params[key] = processor(params[key])
        rows = self.statement.run(session, params)
        return rows[0][0] if rows else None


class DriverStatement:
    """A fixed PostgreSQL statement run straight through psycopg on the session's connection.

    For the few statements on the hottest paths (a purchase, an inbound SMS): there SQLAlchemy's
    per-execution work (compiled-cache lookup, result metadata) costs about as much CPU as the
    database round trip itself. Written with `:name` parameters like `text()`; rows are named
    tuples. The statement still runs inside the session's transaction.
    """

    # Called with (sql, params) before each run; SQLAlchemy's cursor events don't see these
    # statements, so bench/profile_* listen here too.
    observers: list = []

    def __init__(self, sql: str):
        # A literal % (LIKE 'reply:%') is doubled first: psycopg reads % as a placeholder.
        self.sql = re.sub(r"(?<![:\w]):([A-Za-z_]\w*)", r"%(\1)s", sql.replace("%", "%%"))
        self._row: type | None = None  # the row type, made from the first result's columns

    def run(self, session: Session, params: dict) -> list:
        for observer in self.observers:
            observer(self.sql, params)
        cursor = _transaction_cursor(session)
        cursor.execute(self.sql, params)
        result = cursor.pgresult
        if result is None or result.status != ExecStatus.TUPLES_OK:
            return []
        # psycopg's namedtuple_row reads the columns anew for every result; they never change.
        if self._row is None:
            self._row = namedtuple("Row", [column.name for column in cursor.description])
        return [self._row._make(row) for row in cursor.fetchall()]


_CURSOR = "engage.driver_cursor"


def _transaction_cursor(session: Session):
    """The psycopg cursor that the session's transaction's DriverStatements share.

    Asking the session for its connection again costs about as much Python as a statement's own
    execution, so the cursor is remembered for the transaction (a later transaction may hold
    another pooled connection). Each psycopg connection keeps one cursor for its whole life, in
    the pool's per-connection `info` (emptied when the connection is replaced): a new cursor
    would look up the dumpers and loaders of every parameter and column type again. Every
    statement fetches all its rows, so reuse is safe."""
    transaction = session.get_transaction()
    held = session.info.get(_CURSOR)
    if held is not None and transaction is not None and held[0] is transaction:
        return held[1]
    pooled = session.connection().connection
    cursor = pooled.info.get(_CURSOR)
    if cursor is None or cursor.closed:
        cursor = pooled.info[_CURSOR] = pooled.driver_connection.cursor()
    session.info[_CURSOR] = (session.get_transaction(), cursor)
    return cursor
