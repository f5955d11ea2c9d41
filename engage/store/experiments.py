"""Experiments' reads: the running ones (for composing messages) and each variant's sends and
outcomes, counted in the database."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Interval, and_, case, exists, func, literal, select
from sqlalchemy.orm import Session, aliased

from engage.experiments import RunningExperiment, VariantCount
from engage.models import Event, Experiment, Message, Redemption
from engage.vocabulary import Direction, MessageStatus

RUNNING = "running"
# A send is a message the provider took: what was not sent cannot have worked or failed.
SENT = (MessageStatus.SENT, MessageStatus.DELIVERED)


def running(session: Session) -> dict[tuple[str, str, str], RunningExperiment]:
    """{(flow, channel, locale): the running experiment}, at most one each (a unique index)."""
    rows = session.scalars(select(Experiment).where(Experiment.status == RUNNING))
    return {(row.flow, row.channel, row.locale): RunningExperiment(row.id, row.split_percent, dict(row.parts))
            for row in rows}


def _within(session: Session, moment, start, days: int):
    """`start <= moment < start + days`, in the database's own date arithmetic."""
    if session.get_bind().dialect.name == "sqlite":  # stored as text: compare as Julian day numbers
        day, begin = func.julianday(moment), func.julianday(start)
        return and_(day >= begin, day < begin + days)
    return and_(moment >= start, moment < start + literal(timedelta(days=days), Interval()))


def _outcome(session: Session, sent, outcome: str, days: int):
    """Whether the member did `outcome` within `days` of the message `sent`."""
    if outcome == "reply":
        reply = aliased(Message)
        return exists().where(reply.in_reply_to_id == sent.id, reply.direction == Direction.IN,
                              reply.simulated.is_(False), _within(session, reply.created_at, sent.sent_at, days))
    if outcome == "redemption":
        return exists().where(Redemption.member_id == sent.member_id,
                              _within(session, Redemption.created_at, sent.sent_at, days))
    return exists().where(Event.member_id == sent.member_id, Event.type == "purchase",
                          _within(session, Event.occurred_at, sent.sent_at, days))


def variant_counts(session: Session, experiment: Experiment) -> dict[str, VariantCount]:
    """{'A': sends and outcomes, 'B': …} of the experiment's messages that went out."""
    sent = aliased(Message)
    did = _outcome(session, sent, experiment.outcome, experiment.window_days)
    rows = session.execute(
        select(sent.variant, func.count(), func.sum(case((did, 1), else_=0)))
        .where(sent.experiment_id == experiment.id, sent.status.in_(SENT), sent.sent_at.is_not(None),
               sent.is_test.is_(False))
        .group_by(sent.variant))
    counts = {"A": VariantCount(0, 0), "B": VariantCount(0, 0)}
    for variant, sends, outcomes in rows:
        counts[variant] = VariantCount(int(sends), int(outcomes or 0))
    return counts
