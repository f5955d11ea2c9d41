"""expiry_warning: daily, for points that expire within 30 days and again within 7 days;
once per member, expiry date and offset. The daily sweep calls `warn`."""

from __future__ import annotations

from datetime import date

from engage.flows.compose import queue_flow
from engage.flows.registry import relevance
from engage.loyalty import lots
from engage.services import ledger
from engage.services.program import load


def offset_for(days_left: int, offsets: list[int]) -> int | None:
    """The most urgent warning offset that applies (a 5-day notice is the 7-day warning only)."""
    fitting = [offset for offset in offsets if days_left <= offset]
    return min(fitting) if fitting else None


def warn(session, member, as_of: date, now, offsets: list[int], view) -> bool:
    """Queue the member's warning for their soonest expiry, if one is due. True if queued."""
    soonest = lots.next_expiry(ledger.open_lots(session, member.id), now, view.zone)
    if soonest is None:
        return False
    points, expires_on = soonest
    offset = offset_for((expires_on - as_of).days, offsets)
    if offset is None:
        return False
    message = queue_flow(session, member, "expiry_warning", now,
                         dedupe_key=f"expiry_warning:{member.id}:{expires_on.isoformat()}:{offset}",
                         extra={"expiring": {"points": points, "date": expires_on}},
                         data={"expires_on": expires_on.isoformat(), "offset_days": offset}, view=view)
    return message is not None


@relevance("expiry_warning")
def points_still_expiring(session, message, member, now) -> str | None:
    if "expires_on" not in message.data:
        return None
    view = load(session)
    expires_on = date.fromisoformat(message.data["expires_on"])
    left = sum(lot.remaining for lot in lots.usable(ledger.open_lots(session, member.id), now)
               if lot.expires_at.astimezone(view.zone).date() <= expires_on)
    return None if left else "the expiring points were spent or have expired"
