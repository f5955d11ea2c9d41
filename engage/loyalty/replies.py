"""Reply-to-earn: points for answering a flow message, once per message and capped per day."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

# A reply earns for the newest flow message sent to the member on that channel this recently.
REPLY_WINDOW = timedelta(days=7)


def reply_source(outbound_id: int) -> str:
    """Ledger source of reply points: one credit per outbound message (unique per member)."""
    return f"reply:message:{outbound_id}"


REPLY_SOURCE_PREFIX = "reply:"


def local_day_start(now: datetime, zone: ZoneInfo) -> datetime:
    """The instant the member's local calendar day containing `now` began."""
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time(0), tzinfo=zone).astimezone(now.tzinfo)


def reply_points(points: int, *, daily_cap: int, earned_today: int, replied_to: int | None,
                 already_rewarded: bool) -> tuple[int, str | None]:
    """(points to award, why none) for one reply.

    `earned_today`: reply credits the member already got today; `replied_to`: the flow message
    the reply answers (None: nothing recent to answer); `already_rewarded`: that message already
    earned reply or feedback points.
    """
    if replied_to is None:
        return 0, "no recent message to reply to"
    if already_rewarded:
        return 0, "this message was already rewarded"
    if earned_today >= max(0, daily_cap):
        return 0, "daily reply limit reached"
    if points <= 0:
        return 0, "replies earn no points in this program"
    return points, None
