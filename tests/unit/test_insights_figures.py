"""The insight rules without a database: periods, late events, rates, the liability, the triangle."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from engage.insights import figures, tally
from engage.insights.periods import (
    BadRange,
    Period,
    changed_by_late_event,
    check_range,
    day_bounds,
    months_between,
    recompute_window,
)

AMS = ZoneInfo("Europe/Amsterdam")


def test_a_local_day_is_its_utc_instants_and_dst_days_are_23_or_25_hours():
    assert day_bounds(date(2026, 3, 2), AMS) == (datetime(2026, 3, 1, 23, tzinfo=timezone.utc),
                                                 datetime(2026, 3, 2, 23, tzinfo=timezone.utc))
    start, end = day_bounds(date(2026, 3, 29), AMS)
    assert (end - start).total_seconds() == 23 * 3600
    start, end = day_bounds(date(2026, 10, 25), AMS)
    assert (end - start).total_seconds() == 25 * 3600


def test_ranges_are_checked_and_compared_with_the_period_before():
    period = check_range(date(2026, 3, 1), date(2026, 3, 31), today=date(2026, 4, 2))
    assert period.days == 31 and period.previous() == Period(date(2026, 1, 29), date(2026, 2, 28))
    assert check_range(date(2025, 4, 1), date(2026, 4, 1), today=date(2026, 4, 2)).days == 366
    for first, last, field in ((date(2026, 3, 2), date(2026, 3, 1), "to"), (date(2026, 3, 1), date(2026, 4, 3), "to"),
                               (date(2025, 3, 31), date(2026, 4, 1), "to"), (date(1999, 1, 1), date(1999, 1, 2), "from")):
        with pytest.raises(BadRange) as bad:
            check_range(first, last, today=date(2026, 4, 2))
        assert field in bad.value.errors


def test_a_late_event_marks_a_week_before_it_through_yesterday():
    assert changed_by_late_event(date(2026, 3, 10), today=date(2026, 3, 20)) == Period(date(2026, 3, 3),
                                                                                       date(2026, 3, 19))
    assert changed_by_late_event(date(2026, 3, 20), today=date(2026, 3, 20)) is None
    assert recompute_window(date(2026, 3, 20)) == Period(date(2026, 3, 12), date(2026, 3, 19))


def test_rates_means_and_change_say_none_when_there_is_nothing_to_divide_by():
    assert figures.rate(1, 3) == 0.3333 and figures.rate(1, 0) is None
    assert figures.mean(9, 2) == 4.5 and figures.mean(0, 0) is None
    assert figures.change(15, 10) == 0.5 and figures.change(5, 0) is None and figures.change(None, 3) is None
    assert figures.redemption_rate(100, 50, 600) == 0.25


def test_the_liability_uses_the_best_value_a_point_can_buy():
    per_point = figures.point_value([(100, Decimal("10.00")), (150, None), (250, Decimal("30.00")), (0, None)])
    assert per_point == Decimal("0.12")
    assert figures.liability(1234, per_point) == Decimal("148.08")
    assert figures.point_value([]) == 0 and figures.liability(10, Decimal(0)) == Decimal("0.00")


def test_the_retention_triangle_counts_each_cohort_by_months_since_enrolment():
    jan, feb, mar = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)
    rows = figures.retention_triangle({jan: 10, feb: 4}, {(jan, jan): 5, (jan, mar): 2, (feb, feb): 1}, mar)
    assert [(r.month, r.members, r.active, r.rates) for r in rows] == [
        (jan, 10, [5, 0, 2], [0.5, 0.0, 0.2]), (feb, 4, [1, 0], [0.25, 0.0])]
    assert months_between(date(2025, 11, 30), date(2026, 2, 1)) == 3


def test_a_days_buyers_are_tallied_first_repeat_referred_and_by_cohort():
    enrolled = datetime(2026, 1, 31, 23, 30, tzinfo=timezone.utc)  # 1 Feb in Amsterdam
    rows = [(1, 1, 0, 0, enrolled, True),  # first purchase, referred
            (2, 2, 0, 0, enrolled, False),  # first and second the same day
            (3, 1, 1, 1, enrolled, False),  # second purchase, already bought this month
            (4, 1, 2, 0, enrolled, False)]  # a regular
    counts = tally.buyers(rows, AMS)
    assert (counts.purchases, counts.first_buyers, counts.repeat_buyers, counts.referred_buyers) == (5, 2, 2, 1)
    assert counts.cohorts == {date(2026, 2, 1): 3}
    assert tally.points({"earn": (500, 4), "redeem": (-100, 1), "donate": (-50, 1), "adjust": (-7, 1)}) == {
        "points_issued": 500, "points_redeemed": 100, "points_donated": 50, "points_expired": 0,
        "points_adjusted": -7, "redemptions": 2}
