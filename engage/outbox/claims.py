"""Claiming due messages for sending: many dispatchers share the queue without sending twice.

PostgreSQL: `FOR UPDATE SKIP LOCKED` lets each dispatcher take rows nobody else holds.
SQLite: every transaction is BEGIN IMMEDIATE (engage.db), so claims are serialised anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engage import flows
from engage.channels import OutboundMessage
from engage.messaging import can_receive
from engage.models import Member, Message
from engage.outbox.contacts import contact_state, member_pairs, suppressions
from engage.services import transaction


@dataclass(frozen=True)
class Claimed:
    message: OutboundMessage
    attempts: int
    member_id: int | None


def _due_ids(session: Session, limit: int, now: datetime) -> list[int]:
    query = (select(Message.id)
             .where(Message.status.in_(("queued", "scheduled")), Message.send_after <= now)
             .order_by(Message.priority, Message.send_after, Message.id)
             .limit(limit).with_for_update(skip_locked=True))
    return list(session.scalars(query))


def _why_not(session, message: Message, member: Member | None, suppressed, now) -> tuple[str, str] | None:
    """('suppressed'|'skipped', reason) when the message must not go out now."""
    if member is None or member.erased_at is not None:
        return "skipped", "member erased"
    if not message.data.get("force"):
        ok, reason = can_receive(message.channel, contact_state(member, suppressed))
        if not ok:
            return "suppressed", reason or "cannot receive"
    if message.flow and not message.is_test:
        reason = flows.lost_point(session, message, member, now)
        if reason:
            return "skipped", reason
    return None


def _outbound(message: Message, member: Member, public_url: str) -> OutboundMessage:
    to = member.phone if message.channel == "sms" else member.email
    return OutboundMessage(
        id=message.id, channel=message.channel, to=to or "", body=message.body, subject=message.subject,
        html=message.html,
        status_callback_url=(f"{public_url}/webhooks/twilio/status?message_id={message.id}"
                             if message.channel == "sms" else None),
        unsubscribe_url=(f"{public_url}/unsubscribe/{member.unsubscribe_token}"
                         if message.channel == "email" else None),
    )


def claim(session: Session, limit: int, now: datetime, public_url: str) -> list[Claimed]:
    """Mark up to `limit` due messages `sending` and return them; drop those that lost their point."""
    with transaction(session):
        ids = _due_ids(session, limit, now)
        if not ids:
            return []
        messages = session.scalars(select(Message).where(Message.id.in_(ids))).all()
        member_ids = {m.member_id for m in messages if m.member_id}
        members = {m.id: m for m in session.scalars(select(Member).where(Member.id.in_(member_ids)))}
        suppressed = suppressions(session, [p for m in members.values() for p in member_pairs(m)])
        claimed = []
        for message in sorted(messages, key=lambda m: (m.priority, m.send_after, m.id)):
            member = members.get(message.member_id)
            refusal = _why_not(session, message, member, suppressed, now)
            message.updated_at = now
            if refusal:
                message.status, message.reason = refusal
                continue
            message.status, message.claimed_at = "sending", now
            message.attempts += 1
            message.to_address = member.phone if message.channel == "sms" else member.email
            claimed.append(Claimed(_outbound(message, member, public_url), message.attempts, member.id))
        return claimed
