"""Quiet hours on the member's wall clock, including DST nights and unusual windows."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from engage.messaging.quiet_hours import in_quiet_hours, sms_send_time
from engage.messaging.zones import parse_hhmm

UTC = timezone.utc
AMS = ZoneInfo("Europe/Amsterdam")
NY = ZoneInfo("America/New_York")


def local(zone: ZoneInfo, *args: int, fold: int = 0) -> datetime:
    """A wall-clock moment in `zone`, returned as the UTC instant the rule receives."""
    return datetime(*args, tzinfo=zone).replace(fold=fold).astimezone(UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("wall", "expected"),
    [
        ((2024, 6, 1, 12, 0), None),
        ((2024, 6, 1, 20, 59, 59), None),
        ((2024, 6, 1, 8, 0), None),
        ((2024, 6, 1, 21, 0), (2024, 6, 2, 8, 0)),
        ((2024, 6, 1, 23, 30), (2024, 6, 2, 8, 0)),
        ((2024, 6, 2, 0, 0), (2024, 6, 2, 8, 0)),
        ((2024, 6, 2, 7, 59, 59), (2024, 6, 2, 8, 0)),
        ((2024, 12, 31, 22, 0), (2025, 1, 1, 8, 0)),
    ],
)
def test_default_window_in_amsterdam_summer(
    wall: tuple[int, ...], expected: tuple[int, ...] | None
) -> None:
    now = local(AMS, *wall)
    want = now if expected is None else local(AMS, *expected)
    assert sms_send_time(now, AMS) == want


def test_result_is_utc_and_zone_may_be_a_name() -> None:
    now = local(AMS, 2024, 6, 1, 22, 0)
    result = sms_send_time(now, "Europe/Amsterdam")
    assert result.tzinfo is UTC and result == utc(2024, 6, 2, 6, 0)


def test_now_in_another_offset_is_read_on_the_members_clock() -> None:
    # 23:00 in Tokyo is 16:00 in Amsterdam: not quiet for this member.
    now = datetime(2024, 6, 1, 23, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert sms_send_time(now, AMS) == now


def test_naive_now_and_unknown_zone_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sms_send_time(datetime(2024, 6, 1, 22, 0), AMS)
    with pytest.raises(ZoneInfoNotFoundError):
        sms_send_time(utc(2024, 6, 1), "Mars/Olympus_Mons")


def test_amsterdam_spring_forward_night_waits_until_0800_summer_time() -> None:
    now = local(AMS, 2024, 3, 30, 22, 0)  # 21:00 UTC, clocks jump 02:00 -> 03:00
    assert sms_send_time(now, AMS) == utc(2024, 3, 31, 6, 0)


def test_amsterdam_fall_back_night_waits_until_0800_winter_time() -> None:
    now = local(AMS, 2024, 10, 26, 23, 0)  # clocks go back 03:00 -> 02:00
    assert sms_send_time(now, AMS) == utc(2024, 10, 27, 7, 0)
    for fold in (0, 1):  # both passes through the repeated 02:30
        now = local(AMS, 2024, 10, 27, 2, 30, fold=fold)
        assert sms_send_time(now, AMS) == utc(2024, 10, 27, 7)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (local(NY, 2024, 3, 9, 21, 0), utc(2024, 3, 10, 12, 0)),  # 08:00 EDT
        (local(NY, 2024, 3, 10, 3, 30), utc(2024, 3, 10, 12, 0)),
        (local(NY, 2024, 11, 2, 21, 0), utc(2024, 11, 3, 13, 0)),  # 08:00 EST
        (local(NY, 2024, 11, 3, 1, 30, fold=1), utc(2024, 11, 3, 13, 0)),
        (local(NY, 2024, 11, 3, 8, 0), local(NY, 2024, 11, 3, 8, 0)),
    ],
)
def test_new_york_dst_nights(now: datetime, expected: datetime) -> None:
    assert sms_send_time(now, NY) == expected


def test_daytime_window_that_does_not_cross_midnight() -> None:
    lunch = (time(12, 0), time(14, 0))
    assert sms_send_time(local(AMS, 2024, 6, 1, 13, 0), AMS, *lunch) == local(AMS, 2024, 6, 1, 14)
    for hour in (11, 14, 21, 2):
        now = local(AMS, 2024, 6, 1, hour, 0)
        assert sms_send_time(now, AMS, *lunch) == now


@pytest.mark.parametrize("hour", [0, 3, 8, 12, 21, 23])
def test_equal_start_and_end_means_no_quiet_hours(hour: int) -> None:
    now = local(AMS, 2024, 6, 1, hour, 0)
    assert sms_send_time(now, AMS, time(21), time(21)) == now


def test_end_inside_a_dst_gap_shifts_forward_like_a_wall_clock() -> None:
    # 02:30 does not exist in New York on 2024-03-10; RFC 5545 reads it as 03:30 EDT.
    now = local(NY, 2024, 3, 10, 1, 0)
    assert sms_send_time(now, NY, time(22), time(2, 30)) == utc(2024, 3, 10, 7, 30)


def test_end_inside_a_repeated_hour_uses_the_pass_we_are_in() -> None:
    window = (time(23), time(1, 30))
    assert sms_send_time(local(NY, 2024, 11, 3, 1, 10), NY, *window) == utc(2024, 11, 3, 5, 30)
    second = local(NY, 2024, 11, 3, 1, 10, fold=1)  # the wall clock went back into the window
    assert sms_send_time(second, NY, *window) == utc(2024, 11, 3, 6, 30)


def test_samoa_skipped_day_still_lands_at_0800_local() -> None:
    apia = ZoneInfo("Pacific/Apia")  # 2011-12-30 never happened there
    result = sms_send_time(local(apia, 2011, 12, 29, 22, 0), apia)
    assert result.astimezone(apia).replace(tzinfo=None) == datetime(2011, 12, 31, 8, 0)


def test_in_quiet_hours_edges() -> None:
    assert in_quiet_hours(time(21), time(21), time(8))
    assert not in_quiet_hours(time(8), time(21), time(8))
    assert in_quiet_hours(time(7, 59, 59, 999999), time(21), time(8))
    assert not in_quiet_hours(time(12), time(12), time(12))


ZONES = [
    "Europe/Amsterdam", "America/New_York", "Australia/Lord_Howe", "America/Santiago",
    "Asia/Kolkata", "Pacific/Apia", "America/St_Johns", "UTC", "Pacific/Chatham", "Asia/Tehran",
]
instants = st.datetimes(
    min_value=datetime(2010, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)
walls = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 59]))


def _quiet(moment: datetime, zone: ZoneInfo, start: time, end: time) -> bool:
    return in_quiet_hours(moment.astimezone(zone).time(), start, end)


@given(instants, st.sampled_from(ZONES), walls, walls)
def test_property_result_is_the_first_allowed_instant(
    now: datetime, name: str, start: time, end: time
) -> None:
    zone = ZoneInfo(name)
    result = sms_send_time(now, zone, start, end)
    assert result >= now and result.tzinfo is UTC
    assert not _quiet(result, zone, start, end)
    assert (result == now) == (not _quiet(now, zone, start, end))
    # Minimal: just before the answer it was still quiet (unless `end` fell in a DST gap).
    if result != now:
        wall = result.astimezone(zone)
        assume(wall.time() == end)
        assert _quiet(result - timedelta(seconds=1), zone, start, end)
        assert _quiet(now + (result - now) / 2, zone, start, end)


@given(instants, st.sampled_from(ZONES))
def test_property_default_window_always_ends_at_0800_local(now: datetime, name: str) -> None:
    zone = ZoneInfo(name)
    result = sms_send_time(now, zone)
    if result != now:
        assert result.astimezone(zone).time() == time(8, 0)
        assert result - now <= timedelta(hours=12) or name == "Pacific/Apia"
    else:
        assert not in_quiet_hours(now.astimezone(zone).time(), time(21), time(8))


@pytest.mark.parametrize(("text", "expected"), [("21:00", time(21, 0)), ("08:00", time(8, 0)),
                                                ("3:7", time(3, 7)), ("00:00", time(0, 0)),
                                                ("23:59", time(23, 59))])
def test_parse_hhmm_reads_a_wall_clock_time(text, expected):
    assert parse_hhmm(text) == expected


@pytest.mark.parametrize("text", ["24:00", "12:60", "noon", "12", "1:2:3", "-1:00", ""])
def test_parse_hhmm_refuses_anything_else_naming_it(text):
    with pytest.raises(ValueError, match="HH:MM") as error:
        parse_hhmm(text)
    assert repr(text) in str(error.value)
