"""`make faults`, short: real workers, gunicorn and the fake provider on PostgreSQL, under kill -9,
a flaky provider and a database outage. Each scenario must lose nothing and send nothing twice."""

from __future__ import annotations

import pytest

from faults import run_all
from faults.report import table
from tests.support import databases

pytestmark = [pytest.mark.postgres_only, pytest.mark.timeout(400)]


@pytest.fixture(scope="module")
def rows():
    why_not = databases.postgres_answers()
    if why_not:
        pytest.skip(f"PostgreSQL not available: {why_not}")
    rows = {row.scenario: row for row in run_all(short=True)}
    print(table(list(rows.values())))
    return rows


def _check(row) -> None:
    assert row.ok, table([row])


def test_kill_9_while_draining_sends_every_message_exactly_once(rows):
    row = rows["kill -9 workers"]
    _check(row)
    assert row.kills >= 1


def test_a_provider_failing_30_percent_still_delivers_each_message_once(rows):
    row = rows["provider fails 30%"]
    _check(row)
    assert row.reconciled > 0  # timeouts happened, and were settled with the provider


def test_a_postgres_restart_answers_2xx_or_503_and_loses_no_acknowledged_write(rows):
    _check(rows["postgres restart"])
