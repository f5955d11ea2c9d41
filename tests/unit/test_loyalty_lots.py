"""Lots: expiry instants, which lots are usable, FIFO consumption and expiry summaries."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engage.loyalty.lots import (
    InsufficientPoints,
    OpenLot,
    available_points,
    expires_at,
    next_expiry,
    plan_fifo,
    usable,
)

UTC = timezone.utc
AMS = ZoneInfo("Europe/Amsterdam")
NY = ZoneInfo("America/New_York")
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def lot(id: int, remaining: int, expires: datetime, lifetime: int = 365) -> OpenLot:
    return OpenLot(id=id, remaining=remaining, earned_at=expires - timedelta(days=lifetime), expires_at=expires)


def in_days(days: float) -> datetime:
    return NOW + timedelta(days=days)


# --- expires_at ----------------------------------------------------------------------------------

def test_expires_365_days_after_earning():
    earned = datetime(2025, 3, 10, 14, 30, tzinfo=UTC)
    assert expires_at(earned, 365) == datetime(2026, 3, 10, 14, 30, tzinfo=UTC)


def test_expiry_keeps_the_real_earning_date_and_leap_years_count_days():
    earned = datetime(2024, 1, 1, tzinfo=UTC)  # 2024 is a leap year
    assert expires_at(earned, 365) == datetime(2024, 12, 31, tzinfo=UTC)


def test_expiry_lifetime_is_a_setting():
    earned = datetime(2025, 1, 1, tzinfo=UTC)
    assert expires_at(earned, 30) == datetime(2025, 1, 31, tzinfo=UTC)


# --- usable / available --------------------------------------------------------------------------

def test_expired_lots_are_not_usable():
    lots = [lot(1, 10, in_days(-1)), lot(2, 20, in_days(1))]
    assert [l.id for l in usable(lots, NOW)] == [2]
    assert available_points(lots, NOW) == 20


def test_lot_expiring_exactly_now_is_not_usable():
    lots = [lot(1, 10, NOW), lot(2, 5, NOW + timedelta(microseconds=1))]
    assert [l.id for l in usable(lots, NOW)] == [2]


def test_empty_lots_are_not_usable():
    lots = [lot(1, 0, in_days(5)), lot(2, 7, in_days(6))]
    assert [l.id for l in usable(lots, NOW)] == [2]
    assert available_points(lots, NOW) == 7


def test_usable_sorted_by_expiry_then_id():
    lots = [lot(5, 1, in_days(30)), lot(3, 1, in_days(10)), lot(4, 1, in_days(10)), lot(1, 1, in_days(20))]
    assert [l.id for l in usable(lots, NOW)] == [3, 4, 1, 5]


def test_available_points_of_nothing():
    assert available_points([], NOW) == 0


# --- plan_fifo -----------------------------------------------------------------------------------

def test_fifo_takes_soonest_expiring_lots_first_regardless_of_input_order():
    lots = [lot(3, 100, in_days(300)), lot(1, 50, in_days(10)), lot(2, 80, in_days(100))]
    assert plan_fifo(lots, 100, NOW) == [(1, 50), (2, 50)]


def test_fifo_exact_single_lot():
    lots = [lot(1, 50, in_days(10)), lot(2, 80, in_days(100))]
    assert plan_fifo(lots, 50, NOW) == [(1, 50)]


def test_fifo_partial_first_lot():
    lots = [lot(1, 50, in_days(10)), lot(2, 80, in_days(100))]
    assert plan_fifo(lots, 30, NOW) == [(1, 30)]


def test_fifo_takes_everything():
    lots = [lot(1, 50, in_days(10)), lot(2, 80, in_days(100))]
    assert plan_fifo(lots, 130, NOW) == [(1, 50), (2, 80)]


def test_fifo_skips_expired_and_empty_lots():
    lots = [lot(1, 500, in_days(-1)), lot(2, 0, in_days(1)), lot(3, 40, in_days(2)), lot(4, 40, in_days(3))]
    assert plan_fifo(lots, 60, NOW) == [(3, 40), (4, 20)]


def test_fifo_tie_on_expiry_uses_lot_id():
    lots = [lot(9, 10, in_days(5)), lot(2, 10, in_days(5))]
    assert plan_fifo(lots, 15, NOW) == [(2, 10), (9, 5)]


def test_fifo_zero_points_is_an_empty_plan():
    assert plan_fifo([lot(1, 10, in_days(1))], 0, NOW) == []
    assert plan_fifo([], 0, NOW) == []


def test_fifo_insufficient_raises_with_needed_and_available():
    lots = [lot(1, 30, in_days(10)), lot(2, 20, in_days(20))]
    with pytest.raises(InsufficientPoints) as info:
        plan_fifo(lots, 51, NOW)
    assert info.value.needed == 51
    assert info.value.available == 50
    assert str(info.value) == "needs 51 points, 50 available"


def test_fifo_expired_points_do_not_count_as_available():
    lots = [lot(1, 1000, in_days(-0.5)), lot(2, 20, in_days(20))]
    with pytest.raises(InsufficientPoints) as info:
        plan_fifo(lots, 100, NOW)
    assert info.value.available == 20


def test_fifo_with_no_lots_raises():
    with pytest.raises(InsufficientPoints) as info:
        plan_fifo([], 1, NOW)
    assert (info.value.needed, info.value.available) == (1, 0)


def test_fifo_does_not_modify_lots():
    lots = [lot(1, 30, in_days(10))]
    plan_fifo(lots, 10, NOW)
    assert lots[0].remaining == 30


lot_specs = st.lists(
    st.tuples(st.integers(min_value=0, max_value=500), st.integers(min_value=-400, max_value=400)),
    max_size=12,
)


def build(specs) -> list[OpenLot]:
    return [lot(i + 1, remaining, NOW + timedelta(hours=hours)) for i, (remaining, hours) in enumerate(specs)]


@given(specs=lot_specs, data=st.data())
def test_fifo_plan_sums_to_request_and_respects_lots(specs, data):
    lots = build(specs)
    available = available_points(lots, NOW)
    points = data.draw(st.integers(min_value=0, max_value=available), label="points")
    plan = plan_fifo(lots, points, NOW)

    assert sum(take for _, take in plan) == points
    by_id = {l.id: l for l in lots}
    ids = [lot_id for lot_id, _ in plan]
    assert len(ids) == len(set(ids))  # each lot at most once
    for lot_id, take in plan:
        chosen = by_id[lot_id]
        assert 0 < take <= chosen.remaining
        assert chosen.expires_at > NOW  # never an expired lot
    # Oldest first: the plan is a prefix of the usable order, and only the last step may be partial.
    order = [l.id for l in usable(lots, NOW)]
    assert ids == order[: len(ids)]
    for lot_id, take in plan[:-1]:
        assert take == by_id[lot_id].remaining


@given(specs=lot_specs, extra=st.integers(min_value=1, max_value=1000))
def test_fifo_more_than_available_raises(specs, extra):
    lots = build(specs)
    available = available_points(lots, NOW)
    with pytest.raises(InsufficientPoints) as info:
        plan_fifo(lots, available + extra, NOW)
    assert info.value.needed == available + extra
    assert info.value.available == available


# --- next_expiry ---------------------------------------------------------------------------------

def test_next_expiry_none_without_usable_lots():
    assert next_expiry([], NOW, UTC) is None
    assert next_expiry([lot(1, 10, in_days(-1)), lot(2, 0, in_days(3))], NOW, UTC) is None


def test_next_expiry_sums_the_soonest_day():
    lots = [
        lot(1, 10, datetime(2025, 6, 10, 1, 0, tzinfo=UTC)),
        lot(2, 15, datetime(2025, 6, 10, 23, 0, tzinfo=UTC)),
        lot(3, 99, datetime(2025, 6, 11, 0, 30, tzinfo=UTC)),
    ]
    assert next_expiry(lots, NOW, UTC) == (25, date(2025, 6, 10))


def test_next_expiry_groups_by_local_date_in_the_zone():
    # 21:30 and 23:30 UTC on 10 June are 23:30 on 10 June and 01:30 on 11 June in Amsterdam (CEST, +2).
    lots = [
        lot(1, 10, datetime(2025, 6, 10, 21, 30, tzinfo=UTC)),
        lot(2, 15, datetime(2025, 6, 10, 23, 30, tzinfo=UTC)),
    ]
    assert next_expiry(lots, NOW, UTC) == (25, date(2025, 6, 10))
    assert next_expiry(lots, NOW, AMS) == (10, date(2025, 6, 10))


def test_next_expiry_local_date_can_be_the_previous_utc_day():
    # 02:00 and 05:00 UTC on 10 June are 22:00 and 01:00 in New York (EDT, -4): different local days.
    lots = [
        lot(1, 7, datetime(2025, 6, 10, 2, 0, tzinfo=UTC)),
        lot(2, 8, datetime(2025, 6, 10, 5, 0, tzinfo=UTC)),
    ]
    assert next_expiry(lots, NOW, NY) == (7, date(2025, 6, 9))
    assert next_expiry(lots, NOW, UTC) == (15, date(2025, 6, 10))


def test_next_expiry_ignores_expired_lots():
    lots = [lot(1, 1000, in_days(-1)), lot(2, 5, datetime(2025, 7, 1, tzinfo=UTC))]
    assert next_expiry(lots, NOW, UTC) == (5, date(2025, 7, 1))
