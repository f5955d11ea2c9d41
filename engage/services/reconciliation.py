"""Reconciling `unknown` messages: which to ask the provider about, and what its answer settles.

The dispatcher asks the provider (only it calls channels); this module reads the rows before and
applies the rule's decision after, each in one transaction. Every change is guarded by the row
still being `unknown` at the same attempt: a status callback or an event webhook that arrived in
between, or another worker that reconciled it first, has the last word.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engage.models import Member, Message
from engage.outbox import reconcile
from engage.outbox.ports import Lookup, OutboundMessage
from engage.services.claims import outbound
from engage.store import transaction
from engage.vocabulary import Direction, MessageStatus


@dataclass(frozen=True)
class Pending:
    """An ambiguous attempt to settle: the message as it was sent, and when its attempt began."""

    message: OutboundMessage
    attempt_began: datetime


def due(session: Session, now: datetime, public_url: str, limit: int = 50) -> list[Pending]:
    """`unknown` outbound messages whose next check has come, oldest first."""
    with transaction(session):
        rows = session.execute(
            select(Message, Member.unsubscribe_token).outerjoin(Member, Member.id == Message.member_id)
            .where(Message.status == MessageStatus.UNKNOWN, Message.direction == Direction.OUT,
                   Message.send_after <= now)
            .order_by(Message.send_after, Message.id).limit(limit)).all()
        return [Pending(outbound(m, m.to_address, token, public_url, m.attempts), m.handed_at or m.claimed_at or m.updated_at)
                for m, token in rows]


def settle(session: Session, pending: Pending, lookup: Lookup, now: datetime, settle_seconds: float,
           give_up_seconds: float) -> str:
    """Apply the provider's answer about one attempt; returns the rule's action."""
    with transaction(session):
        ids = [c.provider_id for c in lookup.copies]
        known = frozenset(session.scalars(select(Message.provider_id).where(
            Message.provider_id.in_(ids), Message.id != pending.message.id))) if ids else frozenset()
        decision = reconcile.decide(lookup, pending.attempt_began, now, timedelta(seconds=settle_seconds),
                                    timedelta(seconds=give_up_seconds), known)
        session.execute(update(Message).where(
            Message.id == pending.message.id, Message.status == MessageStatus.UNKNOWN,
            Message.attempts == pending.message.attempt).values(updated_at=now, **_values(decision, now)))
        return decision.action


def _values(decision: reconcile.Decision, now: datetime) -> dict:
    if decision.action == reconcile.SENT:
        values = {"status": decision.status, "provider_id": decision.provider_id, "sent_at": now,
                  "reason": "reconciled: the provider had taken the ambiguous attempt"}
        if decision.status == MessageStatus.DELIVERED:
            values["delivered_at"] = now
        if decision.error_code:
            values["error_code"] = decision.error_code
        return values
    if decision.action == reconcile.REQUEUE:  # the attempt count is kept: it was a real try
        return {"status": MessageStatus.QUEUED, "send_after": now,
                "reason": "reconciled: the provider never took the ambiguous attempt; sending again"}
    return {"send_after": decision.next_check, "reason": decision.reason}
