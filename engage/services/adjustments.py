"""Points adjustments by an admin: a signed `adjust` ledger entry with a required reason.

A positive adjustment is a credit like any other (its own lot, expiring with the program's lot
lifetime) but of kind `adjust`, so it does not count as earned for the tier. A negative one is
taken from the oldest usable lots, like a redemption, and never takes the member below zero.
Idempotent with an Idempotency-Key, as events and redemptions are; audited in the same
transaction as the entry.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from engage.errors import Unprocessable
from engage.loyalty import lots
from engage.services import audit
from engage.store import idempotency, ledger, members, transaction
from engage.store.program import load
from engage.vocabulary import LedgerKind

SCOPE = "adjustments"
MAX_POINTS = 1_000_000  # either way: a typo of a few zeros is refused, not booked
MAX_REASON_CHARS = 500


def check(points: int, reason: str) -> dict[str, list[str]]:
    """Per-field errors of an adjustment (the API's schema states the same bounds)."""
    errors: dict[str, list[str]] = {}
    if points == 0 or abs(points) > MAX_POINTS:
        errors["points"] = [f"a whole number from -{MAX_POINTS:,} to {MAX_POINTS:,}, not 0"]
    if not reason.strip() or len(reason) > MAX_REASON_CHARS:
        errors["reason"] = [f"say why, in 1 to {MAX_REASON_CHARS} characters"]
    return errors


def adjust(session: Session, member_id: int, points: int, reason: str, key: str | None,
           actor: audit.Actor, now: datetime) -> dict:
    """Book the adjustment; {id, points, balance}. 422 when it would take the balance below zero."""
    errors = check(points, reason)
    if errors:
        raise Unprocessable("invalid adjustment", errors)
    reason = reason.strip()
    with transaction(session):
        replay = idempotency.claim(session, SCOPE, key, member_id, {"points": points, "reason": reason}, now)
        if replay is not None:
            return replay
        member = members.lock(session, member_id)
        before = ledger.balance(session, member.id)
        source = f"adjustment:{uuid.uuid4().hex}"  # one entry per adjustment (sources are unique)
        if points > 0:
            entry_id = ledger.credit(session, member.id, points, reason=reason, source=source, occurred_at=now,
                                     now=now, rules=load(session).rules, kind=LedgerKind.ADJUST)
        else:
            available = lots.available_points(ledger.open_lots(session, member.id), now)
            if -points > available:
                why = f"the member has {available} usable points; taking {-points} would go below zero"
                raise Unprocessable(why, {"points": [why]})
            entry_id = ledger.debit_fifo(session, member.id, -points, kind=LedgerKind.ADJUST, reason=reason,
                                         source=source, now=now).id
        answer = {"id": entry_id, "points": points, "balance": ledger.balance(session, member.id)}
        audit.add(session, actor, "member.adjust", "member", str(member.id), {"balance": before},
                  {"balance": answer["balance"], "points": points, "reason": reason, "ledger_entry": entry_id}, now)
        idempotency.store(session, SCOPE, key, answer, 201)
        return answer

