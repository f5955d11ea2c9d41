"""Recording what the provider said: sent, retry later, failed (with its consequences), or unknown
when the provider may have taken the message (reconciled later, never resent blindly)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, bindparam, func, text, update
from sqlalchemy.orm import Session

from engage.db import UTCDateTime, on_postgres
from engage.models import Message
from engage.outbox import reconcile, retry
from engage.outbox.ports import SendResult
from engage.services import consent
from engage.services.claims import Claimed, hand, take_back_orphans, take_back_unhanded, take_due
from engage.store import transaction
from engage.vocabulary import MessageStatus

AMBIGUOUS_REASON = "the provider may have taken it (no answer read): reconciling before any resend"
ABANDONED_REASON = "its dispatcher stopped during the call: reconciling before any resend"


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
            rng: random.Random | None, settle: timedelta) -> dict:
    result = outcome.result
    if result.ok:
        values = {"status": MessageStatus.SENT, "sent_at": now, "provider_id": result.provider_id,
                  "error": None, "error_code": None}
        if result.segments:
            values["segments"] = result.segments
        return values
    errors = {"error_code": result.error_code, "error": result.error_message}
    if result.ambiguous:
        return {"status": MessageStatus.UNKNOWN, "send_after": reconcile.settled_at(now, settle),
                "reason": AMBIGUOUS_REASON, **errors}
    step, when = retry.next_step(outcome.claimed.attempts, max_attempts, result.transient, now, base, rng)
    if step == "retry":
        return {"status": MessageStatus.QUEUED, "send_after": when, **errors}
    return {**_failed(session, outcome, now), **errors}


def record(session: Session, outcomes: list[Outcome], now: datetime, max_attempts: int,
           base_seconds: float, rng: random.Random | None = None, settle_seconds: float = 120.0) -> None:
    """Store the results of sends in one transaction.

    Only rows still `sending` at the attempt sent are touched: a status callback that arrived first
    has the last word, and a row reconciled and claimed again meanwhile belongs to its new attempt.
    An ambiguous result leaves the row `unknown`, to be reconciled `settle_seconds` after now.
    """
    if not outcomes:
        return
    with transaction(session):
        if on_postgres(session):
            # Not waiting for this commit to reach the disk is safe: if a server crash loses it,
            # the row is `sending` again, and that is reconciled with the provider, never resent
            # blindly. The claim before the call is what must be durable (claims.claim).
            session.execute(text("SET LOCAL synchronous_commit = off"))
        _record(session, outcomes, now, max_attempts, base_seconds, rng, settle_seconds)


def record_and_hand(session: Session, outcomes: list[Outcome], batch: list[Claimed], claimant: int,
                    now: datetime, max_attempts: int, base_seconds: float, rng: random.Random | None,
                    settle_seconds: float, public_url: str, batch_size: int) -> Claimed | None:
    """Record the last send and hand over the next message, in one transaction whose commit
    reaches the disk before the call: one commit per message.

    `batch` is the thread's claimed but unhanded rows (taken from the front as they are handed);
    when it is empty, up to `batch_size` due messages are claimed into it in the same transaction
    (their checks made once for the batch), after taking back the unhanded rows of dead claimants.
    Returns the message to send now, or None when nothing is due.
    """
    with transaction(session):
        _record(session, outcomes, now, max_attempts, base_seconds, rng, settle_seconds)
        if not batch:
            if on_postgres(session):
                take_back_orphans(session, claimant, now)
            batch += take_due(session, batch_size, now, public_url, claimant)
        while batch:
            claimed = batch.pop(0)
            if hand(session, claimed, claimant, now):
                return claimed
        return None


def _record(session: Session, outcomes: list[Outcome], now: datetime, max_attempts: int,
            base_seconds: float, rng: random.Random | None, settle_seconds: float) -> None:
    settle = timedelta(seconds=settle_seconds)
    sent: list[tuple[int, str | None, int | None]] = []
    for outcome in outcomes:
        result = outcome.result
        if result.ok:  # the common case: one statement for all of them, below
            sent.append((outcome.claimed.message.id, outcome.claimed.attempts, result.provider_id,
                         result.segments or None))
            continue
        values = _values(session, outcome, now, max_attempts, base_seconds, rng, settle)
        session.execute(update(Message).where(Message.id == outcome.claimed.message.id,
                                              Message.status == MessageStatus.SENDING,
                                              Message.attempts == outcome.claimed.attempts)
                        .values(updated_at=now, **values))
    _record_sent(session, sent, now)


# The successful sends of a batch in one statement (an executemany costs a round trip's worth of
# work per row); the same values `_values` gives, segments kept when the provider did not say.
_SENT_PG = text(
    "UPDATE messages SET status = 'sent', sent_at = :now, updated_at = :now, provider_id = v.provider_id, "
    "error = NULL, error_code = NULL, segments = coalesce(v.segments, messages.segments) "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:attempts AS integer[]), CAST(:provider_ids AS varchar[]), "
    "CAST(:segments AS integer[])) AS v (id, attempts, provider_id, segments) "
    "WHERE messages.id = v.id AND messages.status = 'sending' AND messages.attempts = v.attempts"
).bindparams(bindparam("now", type_=UTCDateTime()))


def _record_sent(session: Session, sent: list[tuple[int, int, str | None, int | None]], now: datetime) -> None:
    """(message id, attempt, provider id, segments or None) of each successful send: `sent`."""
    if not sent:
        return
    ids, attempts, provider_ids, segments = (list(column) for column in zip(*sent))
    if on_postgres(session):
        session.execute(_SENT_PG, {"now": now, "ids": ids, "attempts": attempts, "provider_ids": provider_ids,
                                   "segments": segments})
        return
    table = Message.__table__  # SQLite: an executemany
    session.execute(update(table)
                    .where(table.c.id == bindparam("b_id"), table.c.status == MessageStatus.SENDING,
                           table.c.attempts == bindparam("b_attempts"))
                    .values(status=MessageStatus.SENT, sent_at=now, provider_id=bindparam("b_provider_id"),
                            error=None, error_code=None, updated_at=now,
                            segments=func.coalesce(bindparam("b_segments", type_=Integer), table.c.segments)),
                    [{"b_id": i, "b_attempts": a, "b_provider_id": p, "b_segments": n} for i, a, p, n in sent])


def abandon_stale(session: Session, now: datetime, older_than_seconds: float) -> int:
    """Messages handed to a provider longer ago than any call can last lost their dispatcher (a
    crash between the hand-off and the record): `unknown`, to be reconciled with the provider right
    away. Rows claimed that long ago but never handed were never sent: back to the queue (the
    claimant's hand-off then finds the row gone and skips it)."""
    cutoff = now - timedelta(seconds=older_than_seconds)
    with transaction(session):
        result = session.execute(update(Message).where(
            Message.status == MessageStatus.SENDING, Message.handed_at < cutoff).values(
            status=MessageStatus.UNKNOWN, updated_at=now, send_after=now, reason=ABANDONED_REASON))
        take_back_unhanded(session, now, claimed_before=cutoff)
        return result.rowcount or 0
