"""Quiet hours: no SMS at night on the member's own wall clock; email is never held."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from engage.messaging.zones import TzLike, as_zone, require_aware, wall_to_utc

DEFAULT_QUIET_START = time(21, 0)
DEFAULT_QUIET_END = time(8, 0)


def _naive(wall: time) -> time:
    return wall.replace(tzinfo=None, fold=0)


def in_quiet_hours(local_wall: time, start: time, end: time) -> bool:
    """Return True if the wall-clock time falls in the half-open quiet window [start, end)."""
    wall, start, end = _naive(local_wall), _naive(start), _naive(end)
    if start == end:  # an empty window: the program switched quiet hours off
        return False
    if start < end:  # a window inside one day, e.g. 12:00-14:00
        return start <= wall < end
    return wall >= start or wall < end  # the usual window across midnight


def _quiet_ends(now_utc: datetime, zone: ZoneInfo, start: time, end: time) -> datetime:
    """Return the first instant after `now_utc` at which the wall clock reads `end`."""
    local = now_utc.astimezone(zone)
    day = local.date()
    if start > end and _naive(local.time()) >= start:
        day += timedelta(days=1)  # evening part of an overnight window: ends tomorrow
    # On a fall-back night `end` may occur twice; if we are already past the first
    # occurrence (the wall clock went back into the window), wait for the second.
    for fold in (0, 1):
        candidate = wall_to_utc(day, end, zone, fold)
        if candidate > now_utc:
            return candidate
    return wall_to_utc(day + timedelta(days=1), end, zone)  # unreachable for sane zones


def sms_send_time(
    now: datetime,
    tz: TzLike,
    start: time = DEFAULT_QUIET_START,
    end: time = DEFAULT_QUIET_END,
) -> datetime:
    """Return `now` (in UTC) if an SMS may go out now, else the UTC instant quiet hours end."""
    moment = require_aware(now, "now")
    zone = as_zone(tz)
    # Normally one step; more only when a DST gap swallows the end of the window and
    # the shifted instant lands in quiet hours again (e.g. Samoa skipping 2011-12-30).
    while in_quiet_hours(moment.astimezone(zone).time(), start, end):
        moment = _quiet_ends(moment, zone, start, end)
    return moment
