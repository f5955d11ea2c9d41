"""Due flows: scheduled messages whose time has come are rendered and queued, or skipped when
they lost their point while waiting (a reminder after the member redeemed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engage.flows.compose import render_due
from engage.flows.registry import skip_reason
from engage.models import Member, Message
from engage.store import transaction
from engage.vocabulary import MessageStatus


def promote_due(session: Session, now: datetime, limit: int = 500) -> dict:
    """Move due `scheduled` messages on. Returns counts of queued, skipped and suppressed."""
    counts = {"queued": 0, "skipped": 0, "suppressed": 0}
    with transaction(session):
        due = session.scalars(select(Message)
                              .where(Message.status == MessageStatus.SCHEDULED, Message.send_after <= now)
                              .order_by(Message.send_after).limit(limit)
                              .with_for_update(skip_locked=True)).all()
        for message in due:
            member = session.get(Member, message.member_id) if message.member_id else None
            reason = "member erased" if member is None or member.erased_at else (
                skip_reason(session, message, member, now) if not message.is_test else None)
            if reason:
                message.status, message.reason, message.updated_at = MessageStatus.SKIPPED, reason, now
                counts["skipped"] += 1
                continue
            render_due(session, member, message, now)
            counts[message.status] += 1
    return counts


def promote_all_due(session: Session, now: datetime) -> dict:
    """promote_due until nothing due is left."""
    totals = {"queued": 0, "skipped": 0, "suppressed": 0}
    while True:
        counts = promote_due(session, now)
        totals = {key: totals[key] + counts[key] for key in totals}
        if not any(counts.values()):
            return totals
