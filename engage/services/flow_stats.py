"""What each flow did lately: its messages of the last 30 days counted by status, and the replies
members sent to them. Marketer test sends are not counted.

Counted exactly while the window holds up to EXACT_UP_TO flow messages (by PostgreSQL's planner
estimate; always on SQLite). Beyond that an exact count reads every one of them (at 10M messages,
~650k in 30 days: about a second), so the counts are estimated from SLICES short slices of the
window (engage.messaging.count_samples), read from the indexes of migration 0012, and the page
says "about"."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import DateTime, column, false, func, select, text, values
from sqlalchemy.orm import Session, aliased

from engage.db import on_postgres
from engage.messaging import count_samples
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
EXACT_UP_TO = 200_000
SLICES, SLICE_WIDTH = 120, timedelta(minutes=6)  # 12 hours of the 720: 1/60 of the rows


class Counts(dict):
    """{flow: {column: count}}; `estimated` when counted from slices of the window."""

    estimated = False


def _flow_messages():
    # Written as the partial indexes' predicates (ix_messages_flow_counts, ix_messages_replies), so
    # PostgreSQL counts from the index alone.
    return (Message.direction == Direction.OUT, Message.flow.is_not(None), Message.is_test == false())


def _replies(answered):
    return (Message.direction == Direction.IN, Message.in_reply_to_id.is_not(None),
            Message.simulated == false(),  # the console's phone simulator is not a member
            answered.flow.is_not(None))


def _planned_rows(session: Session, since: datetime) -> float:
    """PostgreSQL's estimate of the flow messages since `since` (a plan, nothing read)."""
    plan = session.execute(text(
        "EXPLAIN (FORMAT JSON) SELECT 1 FROM messages WHERE direction = 'out' AND flow IS NOT NULL "
        "AND is_test = false AND created_at >= :since"), {"since": since}).scalar()
    return float(plan[0]["Plan"]["Plan Rows"])


def last_30_days(session: Session, now: datetime, exact_up_to: int = EXACT_UP_TO) -> Counts:
    """{flow: {column: count}} for the five flows, each column present (0 when none); estimated
    on PostgreSQL when the window holds more than `exact_up_to` flow messages."""
    since = now - WINDOW
    counts = Counts({flow: dict.fromkeys(COLUMNS, 0) for flow in FLOW_KEYS})
    answered = aliased(Message)
    sent = select(Message.flow, Message.status, func.count()).where(*_flow_messages())
    replies = (select(answered.flow, func.count()).select_from(Message)
               .join(answered, Message.in_reply_to_id == answered.id).where(*_replies(answered)))
    with transaction(session):
        counts.estimated = on_postgres(session) and _planned_rows(session, since) > exact_up_to
        if counts.estimated:
            window = count_samples.slices(since, now, SLICES, SLICE_WIDTH)
            sample = values(column("start", DateTime(timezone=True)), column("end", DateTime(timezone=True)),
                            name="slices").data(window)
            within = (Message.created_at >= sample.c.start) & (Message.created_at < sample.c.end)
            sent, replies = sent.join(sample, within), replies.join(sample, within)
        else:
            sent, replies = sent.where(Message.created_at >= since), replies.where(Message.created_at >= since)
        for flow, status, count in session.execute(sent.group_by(Message.flow, Message.status)):
            if flow in counts and status in COLUMN_OF:
                counts[flow][COLUMN_OF[status]] += count
        for flow, count in session.execute(replies.group_by(answered.flow)):
            if flow in counts:
                counts[flow]["replied"] += count
    if counts.estimated:
        for row in counts.values():
            for name, sampled in row.items():
                row[name] = count_samples.rounded(count_samples.scaled(sampled, since, now, SLICES, SLICE_WIDTH))
    return counts
