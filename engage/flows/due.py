"""Due flows: scheduled messages whose time has come become queued, or are skipped when they
lost their point while waiting (a reminder after the member redeemed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engage.flows.registry import lost_point
from engage.models import Member, Message
from engage.services import transaction


def promote_due(session: Session, now: datetime, limit: int = 500) -> dict:
    """Move due `scheduled` messages on. Returns counts of queued and skipped."""
    counts = {"queued": 0, "skipped": 0}
    with transaction(session):
        due = session.scalars(select(Message).where(Message.status == "scheduled", Message.send_after <= now)
                              .order_by(Message.send_after).limit(limit)
                              .with_for_update(skip_locked=True)).all()
        for message in due:
            member = session.get(Member, message.member_id) if message.member_id else None
            reason = "member erased" if member is None or member.erased_at else (
                lost_point(session, message, member, now) if not message.is_test else None)
            message.status, message.updated_at = ("skipped" if reason else "queued"), now
            message.reason = reason or message.reason
            counts["skipped" if reason else "queued"] += 1
    return counts
