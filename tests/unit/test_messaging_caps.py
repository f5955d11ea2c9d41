"""Frequency caps (local day, rolling 7 days) and multi-message slot planning for one member."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engage.messaging.caps import (PRIORITY, Pending, flow_priority, next_capped_slot, plan_sms_slots,
                                  slot_still_holds)
from engage.messaging.quiet_hours import in_quiet_hours

UTC = timezone.utc
AMS = ZoneInfo("Europe/Amsterdam")
NY = ZoneInfo("America/New_York")
WEEK = timedelta(days=7)


def local(zone: ZoneInfo, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=zone).replace(fold=fold).astimezone(UTC)


def ams(*args: int) -> datetime:
    return local(AMS, *args)


def pending(key: str, flow: str, created: datetime, not_before: datetime | None = None) -> Pending:
    return Pending(key=key, flow=flow, created_at=created, not_before=not_before)


# --- next_capped_slot -------------------------------------------------------------------


def test_free_member_goes_at_the_candidate_time() -> None:
    assert next_capped_slot(ams(2024, 6, 3, 10), [], AMS) == ams(2024, 6, 3, 10)
    assert next_capped_slot(ams(2024, 6, 3, 10), [ams(2024, 6, 3, 9)], AMS) == ams(2024, 6, 3, 10)


def test_third_sms_of_the_day_waits_for_local_midnight() -> None:
    sent = [ams(2024, 6, 3, 9), ams(2024, 6, 3, 10)]
    assert next_capped_slot(ams(2024, 6, 3, 11), sent, AMS) == ams(2024, 6, 4, 0)


def test_the_day_is_the_members_local_day_not_utc() -> None:
    # 23:30 and 00:30 Amsterdam are different local days though both fall on one UTC date.
    sent = [ams(2024, 6, 3, 9), ams(2024, 6, 3, 23, 30)]
    assert next_capped_slot(ams(2024, 6, 4, 0, 30), sent, AMS) == ams(2024, 6, 4, 0, 30)


def test_sixth_sms_waits_until_the_oldest_leaves_the_rolling_week() -> None:
    sent = [ams(2024, 6, day, 10) for day in range(3, 8)]  # Mon..Fri, one a day
    assert next_capped_slot(ams(2024, 6, 8, 10), sent, AMS) == ams(2024, 6, 10, 10)


def test_a_window_is_exactly_seven_times_24_hours_across_dst() -> None:
    sent = [ams(2024, 3, 24, 20, 30)] + [ams(2024, 3, day, 10) for day in range(25, 29)]
    # 168 h after 20:30 CET is 21:30 CEST: the clock change does not stretch the window.
    assert next_capped_slot(ams(2024, 3, 29, 10), sent, AMS) == local(AMS, 2024, 3, 31, 21, 30)


def test_future_bookings_count_as_well_as_past_sends() -> None:
    yesterday = ams(2024, 6, 2, 10)
    booked = [ams(2024, 6, 4, 10), ams(2024, 6, 4, 11), ams(2024, 6, 5, 10), ams(2024, 6, 6, 10)]
    # Now would make six inside [yesterday, yesterday + 7 d).
    assert next_capped_slot(ams(2024, 6, 3, 10), [yesterday, *booked], AMS) == yesterday + WEEK


def test_a_day_full_of_future_bookings_is_skipped() -> None:
    booked = [ams(2024, 6, 4, 9), ams(2024, 6, 4, 10)]
    assert next_capped_slot(ams(2024, 6, 4, 8), booked, AMS) == ams(2024, 6, 5, 0)


def test_custom_caps() -> None:
    sent = [ams(2024, 6, 3, 9)]
    assert next_capped_slot(ams(2024, 6, 3, 10), sent, AMS, daily_cap=1) == ams(2024, 6, 4, 0)
    assert next_capped_slot(ams(2024, 6, 3, 10), sent, AMS, 5, weekly_cap=1) == sent[0] + WEEK


def test_short_and_long_dst_days_are_counted_on_the_wall_calendar() -> None:
    # 2024-11-03 in New York has 25 hours; 00:30 and 23:30 are the same local day.
    sent = [local(NY, 2024, 11, 3, 0, 30), local(NY, 2024, 11, 3, 23, 0)]
    assert next_capped_slot(local(NY, 2024, 11, 3, 23, 30), sent, NY) == local(NY, 2024, 11, 4, 0)
    spring = [local(NY, 2024, 3, 10, 1, 0), local(NY, 2024, 3, 10, 3, 0)]  # 23-hour day
    assert next_capped_slot(local(NY, 2024, 3, 10, 4), spring, NY) == local(NY, 2024, 3, 11, 0)


def test_next_day_starts_at_0100_when_midnight_is_skipped() -> None:
    santiago = ZoneInfo("America/Santiago")  # 2024-09-08 jumps 00:00 -> 01:00
    sent = [local(santiago, 2024, 9, 7, 9), local(santiago, 2024, 9, 7, 10)]
    result = next_capped_slot(local(santiago, 2024, 9, 7, 11), sent, santiago)
    assert result == datetime(2024, 9, 8, 4, 0, tzinfo=UTC)
    assert result.astimezone(santiago).replace(tzinfo=None) == datetime(2024, 9, 8, 1, 0)


def test_invalid_input_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        next_capped_slot(ams(2024, 6, 3), [], AMS, daily_cap=0)
    with pytest.raises(ValueError, match="timezone-aware"):
        next_capped_slot(datetime(2024, 6, 3), [], AMS)
    with pytest.raises(ValueError, match="timezone-aware"):
        next_capped_slot(ams(2024, 6, 3), [datetime(2024, 6, 3)], AMS)


# --- Pending and priority ---------------------------------------------------------------


def test_priority_order_matches_the_spec() -> None:
    assert PRIORITY[0] == "tier_congratulations" and PRIORITY[-1] == "feedback_request"
    assert flow_priority("welcome") < flow_priority("expiry_warning")


def test_pending_refuses_unknown_flows_and_naive_times() -> None:
    with pytest.raises(ValueError, match="unknown flow"):
        pending("m1", "birthday", ams(2024, 6, 3))
    with pytest.raises(ValueError, match="timezone-aware"):
        pending("m1", "welcome", datetime(2024, 6, 3))


# --- plan_sms_slots ---------------------------------------------------------------------


def test_three_the_same_day_third_moves_to_next_day_0800() -> None:
    now = ams(2024, 6, 3, 10)
    items = [pending(f"m{i}", "redemption_reminder", now - timedelta(minutes=i)) for i in range(3)]
    slots = [slot for _, slot in plan_sms_slots(items, [], AMS, 2, 5, now=now)]
    assert slots == [now, now, ams(2024, 6, 4, 8)]


def test_highest_priority_first_then_oldest() -> None:
    now = ams(2024, 6, 3, 12)
    feedback = pending("f", "feedback_request", ams(2024, 6, 1))
    old_reminder = pending("r1", "redemption_reminder", ams(2024, 6, 2))
    new_reminder = pending("r2", "redemption_reminder", ams(2024, 6, 3))
    tier = pending("t", "tier_congratulations", ams(2024, 6, 3, 11))
    plan = plan_sms_slots([feedback, new_reminder, tier, old_reminder], [], AMS, now=now)
    assert [(p.key, slot) for p, slot in plan] == [
        ("t", now), ("r1", now), ("r2", ams(2024, 6, 4, 8)), ("f", ams(2024, 6, 4, 8)),
    ]


def test_higher_priority_waiting_for_later_keeps_its_slot() -> None:
    now = ams(2024, 6, 3, 10)
    tier = pending("t", "tier_congratulations", now, not_before=ams(2024, 6, 3, 15))
    feedback = pending("f", "feedback_request", now)
    booked = [ams(2024, 6, 3, 9)]
    plan = {p.key: slot for p, slot in plan_sms_slots([feedback, tier], booked, AMS, now=now)}
    assert plan == {"t": ams(2024, 6, 3, 15), "f": ams(2024, 6, 4, 8)}


def test_quiet_hours_hold_a_message_and_then_caps_apply() -> None:
    now = ams(2024, 6, 3, 22)
    booked = [ams(2024, 6, 4, 8), ams(2024, 6, 4, 9)]  # tomorrow morning already full
    [(_, slot)] = plan_sms_slots([pending("w", "welcome", now)], booked, AMS, now=now)
    assert slot == ams(2024, 6, 5, 8)


def test_weekly_cap_then_quiet_hours() -> None:
    booked = [ams(2024, 3, 24, 20, 30)] + [ams(2024, 3, day, 10) for day in range(25, 29)]
    now = ams(2024, 3, 29, 10)
    [(_, slot)] = plan_sms_slots([pending("x", "expiry_warning", now)], booked, AMS, now=now)
    # Freed at 21:30 CEST (168 h after 20:30 CET) which is quiet: next 08:00 local.
    assert slot == local(AMS, 2024, 4, 1, 8)


def test_plan_over_a_dst_weekend_in_new_york() -> None:
    now = local(NY, 2024, 3, 9, 20, 0)
    items = [pending(f"r{i}", "redemption_reminder", now - timedelta(hours=i)) for i in range(4)]
    slots = [slot for _, slot in plan_sms_slots(items, [], NY, 2, 5, now=now)]
    first_morning = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)  # 08:00 EDT, the day clocks jump
    assert slots == [now, now, first_morning, first_morning]


def test_custom_quiet_window_and_not_before_in_the_past() -> None:
    now = ams(2024, 6, 3, 12, 30)
    item = pending("w", "welcome", now, not_before=ams(2024, 6, 1))
    [(_, slot)] = plan_sms_slots([item], [], AMS, quiet=(time(12), time(14)), now=now)
    assert slot == ams(2024, 6, 3, 14)


def test_empty_plan() -> None:
    assert plan_sms_slots([], [ams(2024, 6, 3)], AMS, now=ams(2024, 6, 3)) == []


# --- slot_still_holds -------------------------------------------------------------------


def test_a_slot_holds_on_time_and_later_the_same_local_day() -> None:
    slot = ams(2024, 6, 3, 8)
    assert slot_still_holds(slot, slot, AMS)
    assert slot_still_holds(slot, ams(2024, 6, 3, 20, 59), AMS)


def test_a_late_sender_does_not_send_in_quiet_hours() -> None:
    slot = ams(2024, 6, 3, 20, 59)
    assert not slot_still_holds(slot, ams(2024, 6, 3, 21, 0), AMS)
    assert not slot_still_holds(slot, ams(2024, 6, 4, 1, 34), AMS)
    assert slot_still_holds(slot, ams(2024, 6, 3, 21, 0), AMS, quiet=(time(22), time(7)))


def test_a_slot_from_an_earlier_local_day_does_not_hold() -> None:
    # Two messages planned for Monday and one for Tuesday must not all go on Wednesday.
    assert not slot_still_holds(ams(2024, 6, 3, 8), ams(2024, 6, 5, 10), AMS)
    # The member's local day, not UTC's: both instants fall on 2024-06-04 in UTC.
    assert not slot_still_holds(local(NY, 2024, 6, 3, 20, 30), local(NY, 2024, 6, 4, 8, 0), NY)


def test_slot_still_holds_refuses_naive_times() -> None:
    with pytest.raises(ValueError):
        slot_still_holds(datetime(2024, 6, 3, 8), ams(2024, 6, 3, 9), AMS)


# --- properties -------------------------------------------------------------------------

BASE = datetime(2024, 3, 20, tzinfo=UTC)  # spans the European and US spring changes
minutes = st.integers(min_value=0, max_value=21 * 24 * 60)
ZONES = st.sampled_from(["Europe/Amsterdam", "America/New_York", "Asia/Kolkata", "UTC"])


def _at(offset: int) -> datetime:
    return BASE + timedelta(minutes=offset)


def _fits(moment: datetime, sent: list[datetime], zone: ZoneInfo, daily: int, weekly: int) -> bool:
    """Reference check, written differently from the rule: brute force over all runs."""
    day = moment.astimezone(zone).date()
    if sum(s.astimezone(zone).date() == day for s in sent) >= daily:
        return False
    times = sorted([*sent, moment])
    runs = (times[i : i + weekly + 1] for i in range(len(times) - weekly))
    return not any(moment in run and run[-1] - run[0] < WEEK for run in runs)


@given(minutes, st.lists(minutes, max_size=12), ZONES, st.integers(1, 3), st.integers(1, 6),
       st.floats(0, 1))
def test_property_next_slot_fits_and_is_earliest(
    start: int, sent_offsets: list[int], name: str, daily: int, weekly: int, fraction: float
) -> None:
    zone, sent = ZoneInfo(name), [_at(o) for o in sent_offsets]
    candidate = _at(start)
    result = next_capped_slot(candidate, sent, zone, daily, weekly)
    assert result >= candidate
    assert _fits(result, sent, zone, daily, weekly)
    if result > candidate:
        assert not _fits(result - timedelta(microseconds=1), sent, zone, daily, weekly)
        between = candidate + (result - candidate) * fraction * 0.999
        assert not _fits(between, sent, zone, daily, weekly)


@given(st.lists(st.tuples(st.sampled_from(PRIORITY), minutes), max_size=8), minutes, ZONES,
       st.integers(1, 3), st.integers(1, 6))
def test_property_plan_respects_everything(
    specs: list[tuple[str, int]], now_offset: int, name: str, daily: int, weekly: int
) -> None:
    zone, now = ZoneInfo(name), _at(now_offset)
    items = [pending(f"k{i}", flow, _at(o)) for i, (flow, o) in enumerate(specs)]
    plan = plan_sms_slots(items, [], zone, daily, weekly, now=now)
    slots = [slot for _, slot in plan]
    assert sorted(p.key for p, _ in plan) == sorted(i.key for i in items)
    assert all(s >= now for s in slots)
    assert not any(in_quiet_hours(s.astimezone(zone).time(), time(21), time(8)) for s in slots)
    assert slots == sorted(slots)  # same earliest time for all: priority order is send order
    ranks = [flow_priority(p.flow) for p, _ in plan]
    assert ranks == sorted(ranks)
    assert max(Counter(s.astimezone(zone).date() for s in slots).values(), default=0) <= daily
    assert all(sum(a <= s < a + WEEK for s in slots) <= weekly for a in slots)
