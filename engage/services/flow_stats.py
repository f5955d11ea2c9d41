"""What each flow did lately: its messages of the last 30 days counted by status, and the replies
members sent to them. Marketer test sends are not counted."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from engage.models import Message
from engage.store import transaction
from engage.templating import FLOW_KEYS
from engage.vocabulary import Direction, MessageStatus

WINDOW = timedelta(days=30)
COLUMNS = ("queued", "sent", "delivered", "failed", "suppressed", "replied")
# A status counts in the column a marketer reads it as: waiting (or being sent) is "queued".
COLUMN_OF = {MessageStatus.SCHEDULED: "queued", MessageStatus.QUEUED: "queued", MessageStatus.SENDING: "queued",
             MessageStatus.SENT: "sent", MessageStatus.DELIVERED: "delivered", MessageStatus.FAILED: "failed",
             MessageStatus.SUPPRESSED: "suppressed"}


def last_30_days(session: Session, now: datetime) -> dict[str, dict[str, int]]:
    """{flow: {column: count}} for every flow, each column present (0 when none)."""
    since = now - WINDOW
    counts = {flow: dict.fromkeys(COLUMNS, 0) for flow in FLOW_KEYS}
    sent = (select(Message.flow, Message.status, func.count())
            .where(Message.direction == Direction.OUT, Message.flow.is_not(None), Message.is_test.is_(False),
                   Message.created_at >= since)
            .group_by(Message.flow, Message.status))
    answered = aliased(Message)
    replies = (select(answered.flow, func.count()).select_from(Message)
               .join(answered, Message.in_reply_to_id == answered.id)
               .where(Message.direction == Direction.IN, answered.flow.is_not(None), Message.created_at >= since,
                      Message.simulated.is_(False))  # the console's phone simulator is not a member
               .group_by(answered.flow))
    with transaction(session):
        for flow, status, count in session.execute(sent):
            if flow in counts and status in COLUMN_OF:
                counts[flow][COLUMN_OF[status]] += count
        for flow, count in session.execute(replies):
            if flow in counts:
                counts[flow]["replied"] += count
    return counts
