"""Writing outbound messages: pick the channel, then place SMS around quiet hours and caps.

Called inside the transaction of the change that caused the message; never calls a provider.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engage.db import InsertIgnoring
from engage.messaging import (
    PRIORITY,
    Pending,
    choose_channel,
    count_segments,
    flow_priority,
    plan_sms_slots,
)
from engage.messaging.zones import parse_hhmm
from engage.models import Member, Message
from engage.outbox.content import Content
from engage.store.contacts import state_of
from engage.store.program import ProgramView, load
from engage.vocabulary import WAITING, WENT_OUT, Channel, Direction, MessageStatus


def member_zone(member: Member, view: ProgramView) -> ZoneInfo:
    return ZoneInfo(member.timezone or view.program.timezone)


def quiet_window(view: ProgramView) -> tuple[time, time]:
    """The program's quiet hours (start, end) as wall-clock times."""
    quiet = view.settings["quiet_hours"]
    return parse_hhmm(quiet["start"]), parse_hhmm(quiet["end"])


def _new_message(member: Member, channel: str | None, flow: str | None, content: Content | None,
                 now: datetime, **fields) -> Message:
    content = content or Content(body="")
    message = Message(
        member_id=member.id, direction=Direction.OUT, flow=flow, channel=channel or Channel.SMS,
        status=MessageStatus.QUEUED,
        to_address=(member.phone if channel == Channel.SMS else member.email) if channel else None,
        subject=content.subject, body=content.body, html=content.html, locale=content.locale,
        priority=flow_priority(flow) if flow in PRIORITY else len(PRIORITY), send_after=now, attempts=0,
        created_at=now, updated_at=now, data={}, **fields)
    if channel == Channel.SMS:
        segments = count_segments(content.body)
        message.segments, message.encoding = segments.segments, segments.encoding
    return message


_INSERT_ONCE = InsertIgnoring(Message.__table__, ["dedupe_key"])


def _insert_once(session: Session, message: Message) -> Message | None:
    """Insert unless a message with the same dedupe key exists (the unique index decides).

    With a dedupe key it is one INSERT … ON CONFLICT DO NOTHING (no savepoint: flows run inside
    purchases) and the message returned is a snapshot of the row, for reading only."""
    if message.dedupe_key is None:
        session.add(message)
        session.flush()
        return message
    values = {column.key: getattr(message, column.key) for column in Message.__table__.columns
              if column.key in message.__dict__}
    new_id = _INSERT_ONCE.run(session, values)
    if new_id is None:
        return None
    message.id = new_id
    return message


def fill(session: Session, member: Member, message: Message, channels: Sequence[str],
         render: Callable[[str], Content], now: datetime, earliest: datetime) -> str | None:
    """Choose the channel, render the content and set the send time of a message row.

    Returns the chosen channel, or None when the member can receive none (then `suppressed`).
    """
    choice = choose_channel(channels, state_of(session, member))
    if choice.channel is None:
        message.channel = channels[0] if channels else Channel.SMS
        message.status, message.reason = MessageStatus.SUPPRESSED, choice.reason
        return None
    content = render(choice.channel)
    message.channel, message.status, message.updated_at = choice.channel, MessageStatus.QUEUED, now
    message.to_address = member.phone if choice.channel == Channel.SMS else member.email
    message.subject, message.body, message.html, message.locale = (
        content.subject, content.body, content.html, content.locale)
    message.experiment_id, message.variant = content.experiment_id, content.variant
    if choice.channel == Channel.SMS:
        segments = count_segments(content.body)
        message.segments, message.encoding = segments.segments, segments.encoding
    else:  # an email, perhaps in place of an SMS written before the member's STOP
        message.segments = message.encoding = None
    message.send_after = max(now, earliest)
    message.data = {**(message.data or {}), "not_before_at": message.send_after.isoformat()}
    return choice.channel


def queue_message(session: Session, member: Member, *, flow: str | None, channels: Sequence[str],
                  render: Callable[[str], Content], now: datetime, not_before: datetime | None = None,
                  dedupe_key: str | None = None, exempt: bool = False, is_test: bool = False,
                  in_reply_to_id: int | None = None, data: dict | None = None,
                  view: ProgramView | None = None) -> Message | None:
    """Write one outbound message, rendered, on the first channel the member can receive.

    Returns None when `dedupe_key` was already used (the flow fired before). If no channel can
    be used the message is stored as `suppressed` with the reason, and never sent.
    """
    message = _new_message(member, None, flow, None, now, dedupe_key=dedupe_key, exempt=exempt,
                           is_test=is_test, in_reply_to_id=in_reply_to_id)
    message.data = dict(data or {})
    channel = fill(session, member, message, channels, render, now, not_before or now)
    inserted = _insert_once(session, message)
    if inserted is not None and channel == Channel.SMS and not exempt:
        plan_member_sms(session, member, now, view or load(session))
    return inserted


def queue_forced_answer(session: Session, member: Member, content: Content, now: datetime, *,
                        in_reply_to_id: int) -> Message | None:
    """The email answer to a member's own STOP or HELP: the one message that goes out although
    they opted out, so no channel choice and no consent check (the dispatcher sees `force`)."""
    if not member.email:
        return None
    message = _new_message(member, Channel.EMAIL, None, content, now, exempt=True,
                           in_reply_to_id=in_reply_to_id)
    message.priority, message.data = 0, {"answer": True, "force": True}
    return _insert_once(session, message)


def schedule_message(session: Session, member_id: int, *, flow: str, channels: Sequence[str],
                     send_after: datetime, now: datetime, dedupe_key: str, data: dict) -> Message | None:
    """Write a flow message that is due later. It is rendered, and its channel chosen, when due
    (`prepare_scheduled`), so it says what is true then. None if `dedupe_key` was used."""
    message = Message(member_id=member_id, direction=Direction.OUT, flow=flow, channel=channels[0],
                      status=MessageStatus.SCHEDULED,
                      body="", priority=flow_priority(flow), exempt=False, is_test=False, dedupe_key=dedupe_key,
                      send_after=send_after, attempts=0, data={**data, "channels": list(channels)},
                      created_at=now, updated_at=now)
    return _insert_once(session, message)


def prepare_scheduled(session: Session, member: Member, message: Message,
                      render: Callable[[str], Content], now: datetime, view: ProgramView) -> None:
    """A due scheduled message becomes a queued, rendered one (then quiet hours and caps)."""
    channel = fill(session, member, message, message.data.get("channels") or [message.channel], render,
                   now, now)
    session.flush()
    if channel == Channel.SMS and not message.exempt:
        plan_member_sms(session, member, now, view)


def plan_member_sms(session: Session, member: Member, now: datetime, view: ProgramView) -> None:
    """(Re)place every waiting flow SMS of a member: quiet hours, daily/weekly caps, priority."""
    settings = view.settings
    window_start = now - timedelta(days=7)
    rows = session.execute(select(Message).where(
        Message.member_id == member.id, Message.direction == Direction.OUT, Message.channel == Channel.SMS,
        Message.exempt.is_(False), Message.flow.is_not(None),
        Message.status.in_(WAITING + WENT_OUT),
    ).where(Message.status.in_(WAITING) | (Message.sent_at >= window_start)
            | (Message.claimed_at >= window_start))).scalars().all()  # claimed: being sent right now
    waiting = [m for m in rows if m.status in WAITING]
    booked = [m.sent_at or m.claimed_at or m.send_after for m in rows if m.status in WENT_OUT]
    pending = [Pending(str(m.id), m.flow, m.created_at, _earliest(m)) for m in waiting]
    plan = plan_sms_slots(pending, booked, member_zone(member, view), int(settings["sms_daily_cap"]),
                          int(settings["sms_weekly_cap"]), quiet_window(view), now=now)
    by_id = {str(m.id): m for m in waiting}
    for item, slot in plan:
        message = by_id[item.key]
        message.send_after = slot
        message.updated_at = now
        if slot > _earliest(message):
            message.reason = "held for quiet hours or the frequency cap"


def _earliest(message: Message) -> datetime:
    stored = message.data.get("not_before_at")
    return datetime.fromisoformat(stored) if stored else message.send_after
