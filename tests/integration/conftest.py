"""Fixtures: an app wired to the fake provider; lifecycle flows off unless a module turns them on,
so an outbox test sees only the messages it queues."""

from __future__ import annotations

import pytest

from engage import create_app
from engage.config import Config
from tests.support.api import ApiClient
from tests.support.messaging import disable_flows, provider_config


@pytest.fixture
def provider_overrides() -> dict:
    """Config values a test module wants changed (override this fixture in the module)."""
    return {}


@pytest.fixture
def flows_on() -> bool:
    """Whether lifecycle flows run (override with True in conversation tests)."""
    return False


@pytest.fixture
def papp(database_url, fake_provider, clock, provider_overrides, flows_on):
    app = create_app(provider_config(database_url, fake_provider, **provider_overrides), clock=clock)
    if not flows_on:
        disable_flows(app)
    yield app
    app.extensions["engage.db"].dispose()


@pytest.fixture
def papi(papp):
    return ApiClient(papp, papp.test_client())


@pytest.fixture
def pdb(papp):
    return papp.extensions["engage.db"]


@pytest.fixture
def pg_api(postgres_only_url, clock):
    """An API client on an app on real PostgreSQL only (races, the one-statement paths)."""
    app = create_app(Config(database_url=postgres_only_url, testing=True), clock=clock)
    yield ApiClient(app, app.test_client())
    app.extensions["engage.db"].dispose()


@pytest.fixture
def people(app):
    """One console user per role: role -> email (tests.support.console.add_users)."""
    from tests.support.console import add_users

    return add_users(app)
