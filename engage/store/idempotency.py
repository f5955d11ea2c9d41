"""Idempotency-Key handling inside a service's transaction.

The key row is inserted first: a concurrent request with the same key blocks on the unique
index (PostgreSQL) or on the write lock (SQLite) until the first one commits, then replays its
answer. A request that fails rolls its key row back with it, so a retry runs again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engage.db import InsertIgnoring
from engage.errors import Conflict
from engage.loyalty.idempotency import decide, fingerprint
from engage.models import IdempotencyRecord

PENDING = 0
_CLAIM = InsertIgnoring(IdempotencyRecord.__table__, ["scope", "key"])


def claim(session: Session, scope: str, key: str | None, member_id: int, body: dict,
          now: datetime) -> dict | None:
    """None if this request is new (and now owns the key); the stored answer if it is a replay.

    Raises Conflict when the key was used for a different request.
    """
    if key is None:
        return None
    wanted = fingerprint(scope, member_id, body)
    values = dict(scope=scope, key=key, member_id=member_id, fingerprint=wanted, status_code=PENDING,
                  response={}, created_at=now)
    if _CLAIM.run(session, values) is not None:
        return None
    record = stored(session, scope, key)
    return replay(record.fingerprint, wanted, record.response)


def replay(stored_fingerprint: str, wanted: str, answer: dict) -> dict:
    """The stored answer for a repeated request; Conflict for the key reused with another one."""
    if decide(stored_fingerprint, wanted) == "conflict":
        raise Conflict("this Idempotency-Key was already used with a different request")
    return answer


def store(session: Session, scope: str, key: str | None, response: dict, status_code: int) -> None:
    """Remember the answer for the key claimed in this transaction."""
    if key is None:
        return
    session.execute(update(IdempotencyRecord)
                    .where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
                    .values(response=response, status_code=status_code))


def stored(session: Session, scope: str, key: str) -> IdempotencyRecord:
    """The record of a key that is already taken."""
    return session.scalars(select(IdempotencyRecord).where(
        IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)).one()
