"""Alembic migrations and the models agree, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from engage.db import Base


def test_no_autogenerate_diff(db):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_migrated_database_has_default_program(api):
    program = api.get("/program", role="admin").get_json()
    assert program["name"] and program["currency"] == "EUR"
    assert program["action_points"]["signup"] == 100
