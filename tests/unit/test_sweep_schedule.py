"""Which day's sweep is due, and whether a missed one is still within its grace."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from engage.config import Config
from engage.scheduler import latest_sweep_day, missed_sweep, sweep_at

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def test_sweep_day_and_grace():
    at = sweep_at(Config(database_url="sqlite://", sweep_time="00:05"))
    local = lambda *args: datetime(*args, tzinfo=AMSTERDAM)  # noqa: E731
    assert latest_sweep_day(local(2026, 3, 2, 0, 4), AMSTERDAM, at) == date(2026, 3, 1)
    assert latest_sweep_day(local(2026, 3, 2, 0, 5), AMSTERDAM, at) == date(2026, 3, 2)
    assert missed_sweep(local(2026, 3, 2, 0, 10), AMSTERDAM, at) == date(2026, 3, 2)
    assert missed_sweep(local(2026, 3, 2, 0, 4), AMSTERDAM, at) is None  # yesterday's grace is over
    assert missed_sweep(local(2026, 3, 2, 21, 0), AMSTERDAM, at) is None
