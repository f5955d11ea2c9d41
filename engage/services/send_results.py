"""Recording what the provider said: sent, retry later, or failed (with its consequences)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, bindparam, func, select, text, update
from sqlalchemy.orm import Session

from engage.db import UTCDateTime, on_postgres
from engage.models import Message
from engage.outbox import retry
from engage.outbox.ports import SendResult
from engage.services import consent
from engage.services.claims import Claimed
from engage.store import transaction
from engage.vocabulary import MessageStatus


@dataclass(frozen=True)
class Outcome:
    claimed: Claimed
    result: SendResult


def _failed(session: Session, outcome: Outcome, now: datetime) -> dict:
    result, claimed = outcome.result, outcome.claimed
    if result.opted_out and claimed.member_id:
        consent.recipient_opted_out(session, claimed.member_id, claimed.message.to,
                                    f"provider:{result.error_code}", f"provider {result.error_code}", now)
    elif result.invalid_address:
        consent.address_invalid(session, claimed.message.channel, claimed.message.to,
                                f"provider {result.error_code}", now)
    return {"status": MessageStatus.FAILED}


def _values(session: Session, outcome: Outcome, now: datetime, max_attempts: int, base: float,
            rng: random.Random | None) -> dict:
    result = outcome.result
    if result.ok:
        values = {"status": MessageStatus.SENT, "sent_at": now, "provider_id": result.provider_id,
                  "error": None, "error_code": None}
        if result.segments:
            values["segments"] = result.segments
        return values
    errors = {"error_code": result.error_code, "error": result.error_message}
    step, when = retry.next_step(outcome.claimed.attempts, max_attempts, result.transient, now, base, rng)
    if step == "retry":
        return {"status": MessageStatus.QUEUED, "send_after": when, **errors}
    return {**_failed(session, outcome, now), **errors}


def record(session: Session, outcomes: list[Outcome], now: datetime, max_attempts: int,
           base_seconds: float, rng: random.Random | None = None) -> None:
    """Store every result of a batch in one transaction.

    Only rows still `sending` are touched: a status callback that arrived first has the last word.
    """
    if not outcomes:
        return
    with transaction(session):
        sent: list[tuple[int, str | None, int | None]] = []
        for outcome in outcomes:
            result = outcome.result
            if result.ok:  # the common case: one statement for all of them, below
                sent.append((outcome.claimed.message.id, result.provider_id, result.segments or None))
                continue
            values = _values(session, outcome, now, max_attempts, base_seconds, rng)
            session.execute(update(Message).where(Message.id == outcome.claimed.message.id,
                                                  Message.status == MessageStatus.SENDING)
                            .values(updated_at=now, **values))
        _record_sent(session, sent, now)


# The successful sends of a batch in one statement (an executemany costs a round trip's worth of
# work per row); the same values `_values` gives, segments kept when the provider did not say.
_SENT_PG = text(
    "UPDATE messages SET status = 'sent', sent_at = :now, updated_at = :now, provider_id = v.provider_id, "
    "error = NULL, error_code = NULL, segments = coalesce(v.segments, messages.segments) "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:provider_ids AS varchar[]), CAST(:segments AS integer[])) "
    "AS v (id, provider_id, segments) WHERE messages.id = v.id AND messages.status = 'sending'"
).bindparams(bindparam("now", type_=UTCDateTime()))


def _record_sent(session: Session, sent: list[tuple[int, str | None, int | None]], now: datetime) -> None:
    """(message id, provider id, segments or None) of each successful send: `sent`."""
    if not sent:
        return
    ids, provider_ids, segments = (list(column) for column in zip(*sent))
    if on_postgres(session):
        session.execute(_SENT_PG, {"now": now, "ids": ids, "provider_ids": provider_ids, "segments": segments})
        return
    table = Message.__table__  # SQLite: an executemany
    session.execute(update(table)
                    .where(table.c.id == bindparam("b_id"), table.c.status == MessageStatus.SENDING)
                    .values(status=MessageStatus.SENT, sent_at=now, provider_id=bindparam("b_provider_id"),
                            error=None, error_code=None, updated_at=now,
                            segments=func.coalesce(bindparam("b_segments", type_=Integer), table.c.segments)),
                    [{"b_id": i, "b_provider_id": p, "b_segments": n} for i, p, n in sent])


def settle_stale(session: Session, now: datetime, older_than_seconds: float) -> int:
    """Messages stuck in `sending` (a crash between the provider call and the commit) become
    `unknown` for a person to decide: resending could reach the member twice."""
    cutoff = now - timedelta(seconds=older_than_seconds)
    with transaction(session):
        ids = list(session.scalars(select(Message.id).where(Message.status == MessageStatus.SENDING,
                                                            Message.claimed_at < cutoff)))
        if ids:
            session.execute(update(Message).where(
                Message.id.in_(ids), Message.status == MessageStatus.SENDING).values(
                status=MessageStatus.UNKNOWN, updated_at=now,
                reason="no result recorded and no provider callback; check the provider before resending"))
        return len(ids)
