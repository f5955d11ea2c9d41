"""Test databases: a migrated SQLite template copied per test, and a PostgreSQL database per
xdist worker, migrated once and emptied between tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import sqlalchemy as sa

from engage import migrate
from engage.db import Base, make_engine
from engage.defaults import insert_defaults

PG_SERVER = os.environ.get("ENGAGE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def postgres_answers() -> str | None:
    """None if PostgreSQL answers, else why not."""
    engine = sa.create_engine(PG_SERVER, poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        return None
    except Exception as error:  # noqa: BLE001 - any failure means "not available"
        return str(error).splitlines()[0]
    finally:
        engine.dispose()


def sqlite_template(directory: Path) -> Path:
    path = directory / "template.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


def sqlite_copy(template: Path, directory: Path) -> str:
    target = directory / "engage.sqlite"
    shutil.copy(template, target)
    return f"sqlite:///{target}"


def database_name(worker: str) -> str:
    """Unique per test run and worker, so parallel runs on one server never share a database."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", "")[:8] or str(os.getpid())
    return f"engage_test_{worker}_{run}"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"), {"name": name})
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def postgres_database(worker: str) -> str:
    """A fresh, migrated database for this worker."""
    name = database_name(worker)
    admin = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"), {"name": name})
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = PG_SERVER.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def empty_postgres(url: str) -> None:
    """Back to a just-migrated state: no rows but the default program."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        insert_defaults(connection)
    engine.dispose()


MEMBER_TOTALS_DRIFT = sa.text("""
    SELECT m.id, m.points_balance, m.points_earned, coalesce(l.balance, 0) AS balance, coalesce(l.earned, 0) AS earned
    FROM members AS m
    LEFT JOIN (SELECT member_id, sum(points) AS balance,
                      sum(CASE WHEN kind = 'earn' THEN points ELSE 0 END) AS earned
               FROM ledger_entries GROUP BY member_id) AS l ON l.member_id = m.id
    WHERE m.points_balance <> coalesce(l.balance, 0) OR m.points_earned <> coalesce(l.earned, 0)
""")


def check_member_totals(url: str) -> None:
    """After every test: each member's stored totals are the sums of its ledger (trigger, 0005)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            drift = connection.execute(MEMBER_TOTALS_DRIFT).all()
    finally:
        engine.dispose()
    assert not drift, ("members whose points_balance/points_earned differ from their ledger "
                       f"(id, balance, earned, ledger balance, ledger earned): {drift[:5]}")
