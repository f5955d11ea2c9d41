"""expiry_warning: daily, for points that expire within 30 days and again within 7 days;
once per member, expiry date and offset. The daily sweep calls `warn`."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import select

from engage.flows.compose import queue_flow
from engage.flows.registry import skip_reason_of
from engage.loyalty import lots
from engage.models import Lot, Member, Message
from engage.store import ledger
from engage.store.program import load


def offset_for(days_left: int, offsets: list[int]) -> int | None:
    """The most urgent warning offset that applies (a 5-day notice is the 7-day warning only)."""
    fitting = [offset for offset in offsets if days_left <= offset]
    return min(fitting) if fitting else None


def next_warning(expires_on: date, today: date, offsets: list[int], done: set[int]) -> tuple[date, int] | None:
    """(day, offset) of the next warning the daily sweep will queue for points expiring on
    `expires_on`, given the offsets already warned for that date; None when none is left.

    The same rule as the sweep: on each day the most urgent fitting offset (`offset_for`)."""
    for ahead in range((expires_on - today).days + 1):  # none once the date has passed
        day = today + timedelta(days=ahead)
        offset = offset_for((expires_on - day).days, offsets)
        if offset is not None and offset not in done:
            return day, offset
    return None


def dedupe_key(member_id: int, expires_on: date, offset: int) -> str:
    return f"expiry_warning:{member_id}:{expires_on.isoformat()}:{offset}"


def _due(session, member_ids: list[int], as_of: date, now, offsets: list[int], view) -> dict:
    """{member id: (points, expiry date, offset)} for members whose warning is due today."""
    by_member: dict[int, list[lots.OpenLot]] = defaultdict(list)
    rows = session.execute(select(Lot.member_id, Lot.id, Lot.remaining, Lot.earned_at, Lot.expires_at)
                           .where(Lot.member_id.in_(member_ids), Lot.remaining > 0))
    for member_id, *lot in rows:
        by_member[member_id].append(lots.OpenLot(*lot))
    due = {}
    for member_id, open_lots in by_member.items():
        soonest = lots.next_expiry(open_lots, now, view.zone)
        offset = soonest and offset_for((soonest[1] - as_of).days, offsets)
        if offset:
            due[member_id] = (soonest[0], soonest[1], offset)
    return due


def warn_members(session, member_ids: list[int], as_of: date, now, offsets: list[int], view) -> int:
    """Queue the warnings due today for these members; skips, before rendering anything, those
    already warned for the same expiry date and offset. Returns how many were queued."""
    due = _due(session, member_ids, as_of, now, offsets, view)
    keys = {member_id: dedupe_key(member_id, day, offset) for member_id, (_p, day, offset) in due.items()}
    done = set(session.scalars(select(Message.dedupe_key).where(Message.dedupe_key.in_(keys.values()))))
    todo = [member_id for member_id, key in keys.items() if key not in done]
    queued = 0
    for member in session.scalars(select(Member).where(Member.id.in_(todo), Member.erased_at.is_(None))):
        points, expires_on, offset = due[member.id]
        queued += queue_flow(session, member, "expiry_warning", now, dedupe_key=keys[member.id],
                             extra={"expiring": {"points": points, "date": expires_on}},
                             data={"expires_on": expires_on.isoformat(), "offset_days": offset},
                             view=view) is not None
    return queued


@skip_reason_of("expiry_warning")
def points_gone_reason(session, message, member, now) -> str | None:
    """Why not to send: the expiring points were spent or have expired; else None."""
    if "expires_on" not in message.data:
        return None
    view = load(session)
    expires_on = date.fromisoformat(message.data["expires_on"])
    left = sum(lot.remaining for lot in lots.usable(ledger.open_lots(session, member.id), now)
               if lot.expires_at.astimezone(view.zone).date() <= expires_on)
    return None if left else "the expiring points were spent or have expired"
