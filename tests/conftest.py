"""Fixtures: every database test runs on SQLite and, where PostgreSQL answers, on PostgreSQL.

With CI=true a missing PostgreSQL is an error, not a skip.
"""

from __future__ import annotations

import os

import pytest

from engage import create_app
from engage.config import Config
from tests.support import databases
from tests.support.api import ApiClient
from tests.support.clock import FakeClock

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
pytest_plugins = ["tests.fakes.fixtures"]


@pytest.fixture(scope="session")
def postgres_url(worker_id):
    why_not = databases.postgres_answers()
    if why_not:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and PostgreSQL does not answer: {why_not}")
        pytest.skip(f"PostgreSQL not available: {why_not}")
    url = databases.postgres_database(worker_id)
    yield url
    databases.drop_database(url)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    return databases.sqlite_template(tmp_path_factory.mktemp("template"))


# The ledger-totals check hangs on the database fixtures, not on an app fixture, so it runs after
# every test that gets a database, however the test builds its apps (fixture, create_app in the
# test, a CLI subprocess). Teardown runs after the apps built on the database are disposed.
@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path, sqlite_template):
    if request.param == "sqlite":
        url = databases.sqlite_copy(sqlite_template, tmp_path)
    else:
        url = request.getfixturevalue("postgres_url")
        databases.empty_postgres(url)
    yield url
    databases.check_member_totals(url)


@pytest.fixture
def postgres_only_url(postgres_url):
    databases.empty_postgres(postgres_url)
    yield postgres_url
    databases.check_member_totals(postgres_url)


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def config(database_url):
    return Config(database_url=database_url, public_url="https://engage.example.com", testing=True,
                  retry_base_seconds=1, max_attempts=3, provider_timeout_seconds=2)


@pytest.fixture
def app(config, clock):
    app = create_app(config, clock=clock)
    yield app
    app.extensions["engage.db"].dispose()


@pytest.fixture
def db(app):
    return app.extensions["engage.db"]


@pytest.fixture
def api(app):
    return ApiClient(app, app.test_client())
