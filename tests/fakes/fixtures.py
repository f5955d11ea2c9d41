"""Pytest fixtures for the fake provider.

Use with `pytest_plugins = ["tests.fakes.fixtures"]` in the root conftest, or import
`fake_provider` and `fake_provider_server` into a test module.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.provider import FakeProvider, running_fake_provider

# "timeout" mode answers after this long; give channels a client timeout well below it.
FAKE_TIMEOUT_DELAY = 1.5
CLIENT_TIMEOUT = 0.5


@pytest.fixture(scope="session")
def fake_provider_server() -> Iterator[FakeProvider]:
    """One fake provider per test session (per xdist worker)."""
    with running_fake_provider(timeout_delay=FAKE_TIMEOUT_DELAY) as provider:
        yield provider


@pytest.fixture
def fake_provider(
    fake_provider_server: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeProvider]:
    """The shared fake provider, reset before and after each test."""
    # requests honours proxy variables; a proxy would swallow calls to 127.0.0.1.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    # Either makes the Twilio SDK rebuild the host by splitting on dots.
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    fake_provider_server.timeout_delay = FAKE_TIMEOUT_DELAY
    fake_provider_server.reset()
    yield fake_provider_server
    fake_provider_server.reset()
