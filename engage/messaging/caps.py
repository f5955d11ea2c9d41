"""Frequency caps for flow SMS: per local calendar day and per rolling 7×24 h window.

Answers to a member's own message and marketer test sends are never capped; callers
simply do not pass them here.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from engage.messaging.quiet_hours import (
    DEFAULT_QUIET_END,
    DEFAULT_QUIET_START,
    in_quiet_hours,
    sms_send_time,
)
from engage.messaging.zones import TzLike, as_zone, local_date, require_aware, wall_to_utc

# Index 0 is the highest priority; over the cap, higher priorities take slots first.
PRIORITY: tuple[str, ...] = (
    "tier_congratulations",
    "welcome",
    "expiry_warning",
    "redemption_reminder",
    "membership_renewal",
    "offer",
    "challenge_progress",
    "feedback_request",
)
WEEK = timedelta(days=7)
DEFAULT_DAILY_CAP = 2
DEFAULT_WEEKLY_CAP = 5


@dataclass(frozen=True)
class Pending:
    """A flow SMS waiting for a send slot; `not_before` is the flow's own earliest time."""

    key: str
    flow: str
    created_at: datetime
    not_before: datetime | None = None

    def __post_init__(self) -> None:
        if self.flow not in PRIORITY:
            raise ValueError(f"unknown flow {self.flow!r}; expected one of {', '.join(PRIORITY)}")
        require_aware(self.created_at, "created_at")
        if self.not_before is not None:
            require_aware(self.not_before, "not_before")


def flow_priority(flow: str) -> int:
    """Return the rank of `flow` (0 = highest priority)."""
    return PRIORITY.index(flow)


def _check_caps(daily_cap: int, weekly_cap: int) -> None:
    # A cap below one would make every search run forever; refuse it loudly instead.
    if daily_cap < 1 or weekly_cap < 1:
        raise ValueError(f"caps must be at least 1, got daily={daily_cap} weekly={weekly_cap}")


def _day_is_full(moment: datetime, sent: Sequence[datetime], zone: ZoneInfo, cap: int) -> bool:
    day = local_date(moment, zone)
    return sum(1 for s in sent if local_date(s, zone) == day) >= cap


def _week_is_full(moment: datetime, sent: Sequence[datetime], cap: int) -> bool:
    """Return True if some 7-day window [a, a+7d) holding `moment` already holds `cap` sends.

    Sliding any such window right until its left edge meets its earliest member keeps
    every member inside, so it is enough to try windows starting at `moment` or at an
    earlier send less than 7 days before it. `sent` must be sorted.
    """
    for anchor in [s for s in sent if moment - WEEK < s <= moment] + [moment]:
        inside = bisect_left(sent, anchor + WEEK) - bisect_left(sent, anchor)
        if inside >= cap:
            return True
    return False


def _next_candidate(moment: datetime, sent: Sequence[datetime], zone: ZoneInfo) -> datetime:
    """Return the next instant at which a full day or a full window can have freed up.

    A day frees at the next local midnight; a window frees exactly 7 days after one of
    its sends. Between those instants nothing changes, so the search may jump.
    """
    next_day = wall_to_utc(local_date(moment, zone) + timedelta(days=1), time(0), zone)
    freed = [s + WEEK for s in sent if s + WEEK > moment]
    return min([next_day, *freed])


def next_capped_slot(
    candidate_time: datetime,
    sent_times: Sequence[datetime],
    tz: TzLike,
    daily_cap: int = DEFAULT_DAILY_CAP,
    weekly_cap: int = DEFAULT_WEEKLY_CAP,
) -> datetime:
    """Return the earliest UTC instant ≥ candidate_time at which one more flow SMS fits the caps."""
    _check_caps(daily_cap, weekly_cap)
    zone = as_zone(tz)
    sent = sorted(require_aware(s, "sent time") for s in sent_times)
    moment = require_aware(candidate_time, "candidate_time")
    while _day_is_full(moment, sent, zone, daily_cap) or _week_is_full(moment, sent, weekly_cap):
        moment = _next_candidate(moment, sent, zone)
    return moment


def _planning_order(item: Pending) -> tuple[int, datetime, str]:
    return flow_priority(item.flow), require_aware(item.created_at), item.key


def _slot_for(
    earliest: datetime,
    taken: Sequence[datetime],
    zone: ZoneInfo,
    caps: tuple[int, int],
    quiet: tuple[time, time],
) -> datetime:
    """Return the first instant ≥ earliest that is outside quiet hours and within the caps."""
    moment = earliest
    while True:  # each pass only moves forward, and both rules settle after the last send
        allowed = sms_send_time(moment, zone, *quiet)
        capped = next_capped_slot(allowed, taken, zone, *caps)
        if capped == allowed:
            return capped
        moment = capped


def plan_sms_slots(
    pending: Sequence[Pending],
    booked: Sequence[datetime],
    tz: TzLike,
    daily_cap: int = DEFAULT_DAILY_CAP,
    weekly_cap: int = DEFAULT_WEEKLY_CAP,
    quiet: tuple[time, time] = (DEFAULT_QUIET_START, DEFAULT_QUIET_END),
    *,
    now: datetime,
) -> list[tuple[Pending, datetime]]:
    """Give each waiting flow SMS of one member a UTC send time, highest priority first."""
    _check_caps(daily_cap, weekly_cap)
    zone = as_zone(tz)
    now_utc = require_aware(now, "now")
    taken = [require_aware(b, "booked time") for b in booked]
    plan: list[tuple[Pending, datetime]] = []
    for item in sorted(pending, key=_planning_order):
        earliest = max(now_utc, require_aware(item.not_before or now_utc))
        slot = _slot_for(earliest, taken, zone, (daily_cap, weekly_cap), quiet)
        taken.append(slot)  # later (lower-priority) messages must fit around this one
        plan.append((item, slot))
    return plan


def slot_still_holds(
    slot: datetime,
    now: datetime,
    tz: TzLike,
    quiet: tuple[time, time] = (DEFAULT_QUIET_START, DEFAULT_QUIET_END),
) -> bool:
    """May a flow SMS planned for `slot` go out at `now`, which is at or after it?

    A plan fits quiet hours and the caps at the instants it chose. A sender that comes late (a
    worker down overnight, a backlog) may only use the slot outside quiet hours and on the slot's
    own local day: later, the messages planned for several days would all go out on one, past the
    daily cap. Otherwise the member's messages must be planned again from `now`.
    """
    zone = as_zone(tz)
    moment = require_aware(now, "now")
    if in_quiet_hours(moment.astimezone(zone).time(), *quiet):
        return False
    return local_date(moment, zone) == local_date(require_aware(slot, "slot"), zone)
