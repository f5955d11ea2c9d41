"""Settling an ambiguous attempt with what the provider says (pure).

An attempt is ambiguous when the provider may have taken the message (a timeout, a connection lost
after the request was written, a dispatcher killed during the call). Sending it again could reach
the member twice, so the provider is asked first, once the attempt had time to land there:
- it holds a copy we have not recorded for another message: the attempt went out, record it;
- its complete answer lists none: it provably never took it, so the message is queued again;
- it cannot tell (the lookup failed; SendGrid has no lookup and settles through its event webhook):
  ask again later, and once `give_up` has passed say that a person must decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from engage.messaging import delivery
from engage.outbox.ports import Lookup, ProviderCopy
from engage.vocabulary import MessageStatus

SENT, REQUEUE, WAIT = "sent", "requeue", "wait"


@dataclass(frozen=True)
class Decision:
    action: str  # SENT | REQUEUE | WAIT
    status: str | None = None  # SENT: our status for the copy found (sent, delivered, failed)
    provider_id: str | None = None
    error_code: str | None = None
    next_check: datetime | None = None  # WAIT: when to ask again
    reason: str | None = None  # WAIT: what a person reading the message sees


def settled_at(attempt_began: datetime, settle: timedelta) -> datetime:
    """When the provider is first asked: an answer before then could miss a copy still landing."""
    return attempt_began + settle


def decide(lookup: Lookup, attempt_began: datetime, now: datetime, settle: timedelta, give_up: timedelta,
           known_ids: frozenset[str] = frozenset()) -> Decision:
    """What to do with an ambiguous attempt, given the provider's answer.

    `known_ids` are provider ids already recorded on other messages: a copy with one of them is
    another message with the same text, not this one.
    """
    if lookup.complete:
        copies = sorted((c for c in lookup.copies if c.provider_id not in known_ids), key=_age)
        return _found(copies[0]) if copies else Decision(REQUEUE)
    if now - attempt_began >= give_up:
        reason = (f"unsettled {_duration(give_up)} after the attempt ({lookup.reason}); "
                  "check the provider before sending it again")
        return Decision(WAIT, next_check=now + give_up, reason=reason[:300])
    return Decision(WAIT, next_check=now + settle, reason=f"reconciling: {lookup.reason}"[:300])


def _found(copy: ProviderCopy) -> Decision:
    status = delivery.twilio_status(copy.status) or MessageStatus.SENT
    return Decision(SENT, status=status, provider_id=copy.provider_id,
                    error_code=copy.error_code if status == MessageStatus.FAILED else None)


def _age(copy: ProviderCopy) -> tuple[bool, datetime | None]:
    return copy.created_at is None, copy.created_at


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 3600} h" if seconds >= 3600 and seconds % 3600 == 0 else f"{seconds} s"
