"""Alembic migrations and the models agree, on SQLite and PostgreSQL."""

from __future__ import annotations

import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from engage.db import Base


def test_no_autogenerate_diff(db):
    # The models' expression indexes are PostgreSQL's only (ddl_if); Alembic warns that it cannot
    # compare them on SQLite, and compares them on PostgreSQL.
    warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


@pytest.mark.postgres_only
def test_indexes_include_the_same_columns_as_the_models(postgres_only_url):
    # Alembic's comparison does not look at INCLUDE columns (PostgreSQL): compare them here.
    engine = create_engine(postgres_only_url, poolclass=NullPool)
    with engine.connect() as connection:
        migrated = {name: definition.partition(" INCLUDE ")[2] for name, definition in connection.execute(
            text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"))}
    engine.dispose()
    modelled = {index.name: index.dialect_options["postgresql"]["include"] or []
                for table in Base.metadata.tables.values() for index in table.indexes}
    assert migrated["ix_ledger_entries_member_kind_occurred"] == "(points)"
    for name, include in modelled.items():
        assert migrated[name] == (f"({', '.join(include)})" if include else ""), name


def test_migrated_database_has_default_program(api):
    program = api.get("/program", role="admin").get_json()
    assert program["name"] and program["currency"] == "EUR"
    assert program["action_points"]["signup"] == 100
