"""Keeping the rollups: two runs computing the same day at once (the sweep and the hourly job)
both finish, and the day has one set of rows."""

from __future__ import annotations

import threading
from datetime import date, datetime, timezone

from sqlalchemy import func, select

from engage import create_app
from engage.config import Config
from engage.models import InsightDay, InsightRevenueDay
from engage.services import insight_rollups
from tests.support.api import ApiClient
from tests.support.clock import FakeClock


def test_two_runs_of_the_same_day_at_once_both_finish(postgres_only_url):
    clock = FakeClock(datetime(2026, 3, 2, 10, tzinfo=timezone.utc))
    app = create_app(Config(database_url=postgres_only_url, public_url="https://engage.example.com", testing=True),
                     clock=clock)
    try:
        api = ApiClient(app, app.test_client())
        for n in range(3):
            assert api.purchase(api.enrol(f"both-{n}")["id"], "10.00").status_code == 201
        start, errors = threading.Barrier(4), []

        def compute() -> None:
            try:
                with app.extensions["engage.db"].session() as session:
                    start.wait()
                    for _ in range(5):
                        insight_rollups.compute_day(session, date(2026, 3, 2), clock(), snapshot=True)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
        threads = [threading.Thread(target=compute) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        with app.extensions["engage.db"].session() as session:
            assert session.scalar(select(func.count()).select_from(InsightDay)) == 1
            assert session.scalar(select(InsightRevenueDay.purchases)) == 3
    finally:
        app.extensions["engage.db"].dispose()
