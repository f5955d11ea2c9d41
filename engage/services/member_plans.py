"""What Engage plans to send a member next, and why then: their scheduled and queued flow
messages (held by quiet hours or the SMS caps, or waiting for the flow's delay), the next expiry
warning the daily sweep will queue (the flow's own rule, `expiry_warning.next_warning`), and the
history of their consent and opt-outs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engage.flows import expiry_warning
from engage.loyalty import lots
from engage.messaging.quiet_hours import in_quiet_hours
from engage.models import ConsentEvent, Member, Message
from engage.outbox.enqueue import member_zone, quiet_window
from engage.store import ledger
from engage.store.program import ProgramView, live_flow_config
from engage.vocabulary import PENDING, Channel, Direction, MessageStatus

PLANNED_ROWS = 20
CONSENT_ROWS = 50


def _why(message: Message, view: ProgramView, member: Member) -> str:
    """Why the message goes out when it does, in a marketer's words."""
    if message.status == MessageStatus.SCHEDULED:
        return "waiting for the flow's delay; quiet hours and SMS caps apply when it is due"
    earliest = message.data.get("not_before_at")
    if message.channel != Channel.SMS or not earliest or message.send_after <= datetime.fromisoformat(earliest):
        return "queued: goes out at its time"
    start, end = quiet_window(view)
    wanted = datetime.fromisoformat(earliest).astimezone(member_zone(member, view))
    if in_quiet_hours(wanted.time(), start, end):
        return f"held for quiet hours ({start:%H:%M}–{end:%H:%M} in the member's time zone)"
    return "held by the daily or weekly SMS cap"


def _next_warning(session: Session, member: Member, view: ProgramView, now: datetime,
                  open_lots: list[lots.OpenLot]) -> dict | None:
    config = live_flow_config(session, "expiry_warning")
    soonest = lots.next_expiry(open_lots, now, view.zone)
    if not config.enabled or soonest is None:
        return None
    points, expires_on = soonest
    offsets = sorted(config.params.offsets_days)
    keys = {expiry_warning.dedupe_key(member.id, expires_on, offset): offset for offset in offsets}
    done = {keys[key] for key in session.scalars(select(Message.dedupe_key).where(Message.dedupe_key.in_(keys)))}
    upcoming = expiry_warning.next_warning(expires_on, now.astimezone(view.zone).date(), offsets, done)
    if upcoming is None:
        return None
    day, offset = upcoming
    return {"day": day, "offset": offset, "points": points, "expires_on": expires_on}


def plans(session: Session, member: Member, view: ProgramView, now: datetime,
          open_lots: list[lots.OpenLot] | None = None) -> dict:
    """Inside the caller's transaction: {planned: [(message, why)], expiry_warning, consent}.
    `open_lots`: the member's, when the caller has read them already."""
    if open_lots is None:
        open_lots = ledger.open_lots(session, member.id)
    waiting = session.scalars(select(Message).where(
        Message.member_id == member.id, Message.direction == Direction.OUT, Message.status.in_(PENDING))
        .order_by(Message.send_after, Message.id).limit(PLANNED_ROWS))
    consent = session.scalars(select(ConsentEvent).where(ConsentEvent.member_id == member.id)
                              .order_by(ConsentEvent.at.desc(), ConsentEvent.id.desc()).limit(CONSENT_ROWS))
    return {"planned": [(message, _why(message, view, member)) for message in waiting],
            "expiry_warning": _next_warning(session, member, view, now, open_lots), "consent": list(consent)}
