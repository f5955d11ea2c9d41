"""Which errors are a database outage (503, one warning line) and which are bugs (500)."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from psycopg import errors
from sqlalchemy import exc

from engage.observability.outages import unavailable_reason, unseen_by_pool


def _wrapped(orig: BaseException, cls=exc.OperationalError, invalidated=False) -> exc.DBAPIError:
    return cls("SELECT 1", {}, orig, connection_invalidated=invalidated)


def _real_sqlite_error(sql_setup) -> sqlite3.OperationalError:
    try:
        sql_setup()
    except sqlite3.OperationalError as error:
        return error
    raise AssertionError("no error")


def test_a_locked_sqlite_database_is_an_outage(tmp_path):
    path = tmp_path / "db.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, timeout=0)
    error = _real_sqlite_error(lambda: other.execute("SELECT * FROM t"))
    holder.rollback()
    assert unavailable_reason(_wrapped(error)) == "database is locked"


def test_an_unopenable_sqlite_file_is_an_outage(tmp_path):
    error = _real_sqlite_error(lambda: sqlite3.connect(tmp_path / "missing" / "db.sqlite"))
    assert unavailable_reason(_wrapped(error)) == "unable to open database file"


def test_our_own_sqlite_mistakes_are_not(tmp_path):
    connection = sqlite3.connect(tmp_path / "db.sqlite")
    error = _real_sqlite_error(lambda: connection.execute("SELECT * FROM no_such_table"))
    assert unavailable_reason(_wrapped(error)) is None


@pytest.mark.parametrize("error", [
    psycopg.OperationalError("connection failed: Connection refused"),
    psycopg.InterfaceError("the connection is closed"),
    errors.AdminShutdown("terminating connection due to administrator command"),
    errors.CannotConnectNow("the database system is starting up"),
    errors.TooManyConnections("sorry, too many clients already"),
    errors.DeadlockDetected("deadlock detected"),
])
def test_postgresql_outages_wrapped_or_raw(error):
    assert unavailable_reason(error) == str(error)
    assert unavailable_reason(_wrapped(error)) == str(error)
    assert unseen_by_pool(error) and not unseen_by_pool(_wrapped(error))


@pytest.mark.parametrize("error", [
    errors.ProgramLimitExceeded("statement is too complex"),
    errors.UndefinedTable('relation "members" does not exist'),
    errors.UniqueViolation("duplicate key"),
    ValueError("not a database error"),
])
def test_postgresql_bugs_are_not_outages(error):
    assert unavailable_reason(error) is None
    assert unavailable_reason(_wrapped(error, exc.DatabaseError)) is None


def test_pool_errors_and_invalidated_connections_are_outages():
    assert unavailable_reason(exc.TimeoutError("QueuePool limit of size 10 overflow 20 reached"))
    assert unavailable_reason(exc.DisconnectionError("gone"))
    assert unavailable_reason(_wrapped(ValueError("odd"), exc.DatabaseError, invalidated=True)) == "odd"
