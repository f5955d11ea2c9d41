"""What each flow did lately: its messages of the last 30 days counted by status, and the replies
members sent to them. Marketer test sends are not counted.

Counted exactly while the window holds up to EXACT_UP_TO (100k) flow messages (by PostgreSQL's planner
estimate; always on SQLite). Beyond that an exact count reads every one of them (at 10M messages,
~650k in 30 days: about a second), so the counts are estimated from SLICES short slices of the
window (engage.messaging.count_samples), read from the indexes of migration 0012, and the page
says "about"."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import DateTime, Select, column, false, func, select, text, true, values
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
EXACT_UP_TO = 100_000
SLICES, SLICE_WIDTH = 120, timedelta(minutes=6)  # 12 hours of the 720: 1/60 of the rows


class Counts(dict):
    """{flow: {column: count}}; `estimated` when counted from slices of the window."""

    estimated = False


def _flow_messages():
    # Written as the partial indexes' predicates (ix_messages_flow_counts, ix_messages_replies), so
    # PostgreSQL counts from the index alone.
    return (Message.direction == Direction.OUT, Message.flow.is_not(None), Message.is_test == false())


def _replies():
    return (Message.direction == Direction.IN, Message.in_reply_to_id.is_not(None),
            Message.simulated == false())  # the console's phone simulator is not a member


def _planned_rows(session: Session, since: datetime) -> float:
    """PostgreSQL's estimate of the flow messages since `since` (a plan, nothing read)."""
    plan = session.execute(text(
        "EXPLAIN (FORMAT JSON) SELECT 1 FROM messages WHERE direction = 'out' AND flow IS NOT NULL "
        "AND is_test = false AND created_at >= :since"), {"since": since}).scalar()
    return float(plan[0]["Plan"]["Plan Rows"])


def _sampled(session: Session, since: datetime, now: datetime) -> tuple[Select, Select]:
    """The two counts over the slices only: each slice an index range scan (LATERAL), a reply's
    flow a lookup by id. Inside the caller's transaction."""
    window = count_samples.slices(since, now, SLICES, SLICE_WIDTH)
    sample = values(column("start", DateTime(timezone=True)), column("end", DateTime(timezone=True)),
                    name="slices").data(window)
    within = (Message.created_at >= sample.c.start, Message.created_at < sample.c.end)
    sent = select(Message.flow, Message.status).where(*_flow_messages(), *within).lateral("sent")
    answers = select(Message.in_reply_to_id).where(*_replies(), *within).lateral("answers")
    answered = aliased(Message)
    flow = select(answered.flow).where(answered.id == answers.c.in_reply_to_id).scalar_subquery()
    replied = select(flow.label("flow")).select_from(sample).join(answers, true()).subquery()
    # The planner cannot know how little the slices hold (it plans for the whole window), and
    # would spend longer compiling the plan (JIT) than the few thousand rows take to read.
    session.execute(text("SET LOCAL jit = off"))
    return (select(sent.c.flow, sent.c.status, func.count()).select_from(sample).join(sent, true())
            .group_by(sent.c.flow, sent.c.status),
            select(replied.c.flow, func.count()).group_by(replied.c.flow))


def last_30_days(session: Session, now: datetime, exact_up_to: int = EXACT_UP_TO) -> Counts:
    """{flow: {column: count}} for the five flows, each column present (0 when none); estimated
    on PostgreSQL when the window holds more than `exact_up_to` flow messages."""
    since = now - WINDOW
    counts = Counts({flow: dict.fromkeys(COLUMNS, 0) for flow in FLOW_KEYS})
    with transaction(session):
        counts.estimated = on_postgres(session) and _planned_rows(session, since) > exact_up_to
        if counts.estimated:
            sent, replies = _sampled(session, since, now)
        else:
            answered = aliased(Message)
            sent = (select(Message.flow, Message.status, func.count())
                    .where(*_flow_messages(), Message.created_at >= since).group_by(Message.flow, Message.status))
            replies = (select(answered.flow, func.count()).select_from(Message)
                       .join(answered, Message.in_reply_to_id == answered.id)
                       .where(*_replies(), answered.flow.is_not(None), Message.created_at >= since)
                       .group_by(answered.flow))
        for flow, status, count in session.execute(sent):
            if flow in counts and status in COLUMN_OF:
                counts[flow][COLUMN_OF[status]] += count
        for flow, count in session.execute(replies):
            if flow in counts:
                counts[flow]["replied"] += count
    if counts.estimated:
        for row in counts.values():
            for name, sampled in row.items():
                row[name] = count_samples.rounded(count_samples.scaled(sampled, since, now, SLICES, SLICE_WIDTH))
    return counts
