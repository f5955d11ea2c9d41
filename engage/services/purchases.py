"""A purchase on PostgreSQL in two statements: the hot path of the whole service.

`earning.record_event` does the same in plain steps (SQLite, and every other event type). A
purchase is what a shop sends most, so on PostgreSQL it costs two round trips:

1. `_LOCK`: lock the member's row and look up the Idempotency-Key's stored answer.
2. `_WRITE`: in one statement — read the balance and qualifying points (a new snapshot, taken
   after the lock, so every earlier change of this member is seen), insert the event, its ledger
   entry and lot, store the Idempotency-Key's answer, and tell whether a feedback request went
   out recently.

The rules stay in Python: points are computed before `_WRITE` from the locked tier, the tier
lift after it from the qualifying points it returns. A tier lift (rare) costs two more updates.

Idempotency: the key row is written with the answer. A concurrent request with the same key
waits on the unique index until the first commits; its insert then does nothing, the
transaction is rolled back (no points) and the stored answer replayed (`Raced`).
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from engage.db import DriverStatement
from engage.errors import NotFound
from engage.events import PointsEarned, PurchaseRecorded, TierUpgraded
from engage.flows import feedback_request
from engage.loyalty import earning, tiers
from engage.loyalty import lots as lot_rules
from engage.services.program import ProgramView

_LOCK = DriverStatement("""
    SELECT m.tier_id, m.erased_at IS NOT NULL AS erased, i.fingerprint, i.response
    FROM members AS m
    LEFT JOIN idempotency_records AS i ON i.scope = 'events' AND i.key = CAST(:key AS VARCHAR)
    WHERE m.id = :member_id
    FOR UPDATE OF m
""")

_WRITE = DriverStatement(f"""
    WITH totals AS (
        SELECT coalesce(sum(points), 0) AS balance,
               coalesce(sum(points) FILTER (WHERE kind = 'earn' AND occurred_at >= :since), 0) AS qualifying
        FROM ledger_entries WHERE member_id = :member_id
    ), event AS (
        INSERT INTO events (member_id, type, amount, currency, occurred_at, created_at, points_awarded)
        VALUES (:member_id, 'purchase', :amount, :currency, :occurred_at, :now, :points)
        RETURNING id
    ), entry AS (
        INSERT INTO ledger_entries (member_id, points, kind, reason, source, occurred_at, expires_at, created_at)
        SELECT :member_id, :points, 'earn', :reason, 'event:' || event.id, :occurred_at, :expires_at, :now
        FROM event WHERE CAST(:points AS INTEGER) > 0
        RETURNING id
    ), lot AS (
        INSERT INTO lots (member_id, ledger_entry_id, points, remaining, earned_at, expires_at)
        SELECT :member_id, entry.id, :points, :points, :occurred_at, :expires_at FROM entry
    ), answer AS (
        INSERT INTO idempotency_records (scope, key, fingerprint, status_code, response, created_at)
        SELECT 'events', CAST(:key AS VARCHAR), :fingerprint, 201,
               json_build_object('id', event.id, 'points_awarded', CAST(:points AS INTEGER),
                                 'points', totals.balance + CAST(:points AS INTEGER),
                                 'tier', CAST(:tier AS VARCHAR)),
               :now
        FROM event, totals WHERE CAST(:key AS VARCHAR) IS NOT NULL
        ON CONFLICT (scope, key) DO NOTHING
        RETURNING id
    )
    SELECT event.id, totals.balance, totals.qualifying, (SELECT count(*) FROM answer) AS stored,
           {feedback_request.RECENT_REQUEST_SQL} AS asked_recently
    FROM event, totals
""")

_LIFT_TIER = text("UPDATE members SET tier_id = :tier_id WHERE id = :member_id")
_ANSWER_TIER = text("UPDATE idempotency_records SET response = :response WHERE scope = 'events' AND key = :key")


class Raced(Exception):
    """Another request with this Idempotency-Key committed first; roll back and replay it."""


def lock(session: Session, member_id: int, key: str | None) -> tuple[int, str | None, dict | None]:
    """Lock the member; (tier id, stored fingerprint, stored answer) — the last two for a used key."""
    rows = _LOCK.run(session, {"member_id": member_id, "key": key})
    row = rows[0] if rows else None
    if row is None or row.erased:
        raise NotFound(f"member {member_id} not found")
    return row.tier_id, row.fingerprint, row.response


def write(session: Session, view: ProgramView, member_id: int, tier_id: int, *, amount: Decimal,
          currency: str, occurred_at: datetime, key: str | None, fingerprint: str,
          now: datetime) -> tuple[dict, list]:
    """Record the purchase and its points for a member locked by `lock`: (answer, domain events)."""
    tier = view.tier(tier_id)
    points = earning.purchase_points(amount, tier.multiplier, view.rules)
    since = tiers.qualifying_since(now, view.rules.qualifying_window_days)
    [row] = _WRITE.run(session, {
        "member_id": member_id, "amount": amount, "currency": currency, "occurred_at": occurred_at,
        "now": now, "points": points, "reason": f"purchase {view.program.currency} {amount}",
        "expires_at": lot_rules.expires_at(occurred_at, view.rules.lot_lifetime_days), "since": since,
        "key": key, "fingerprint": fingerprint, "tier": tier.name,
        "feedback_since": feedback_request.spacing_start(session, now),
    })
    if key is not None and not row.stored:
        raise Raced(key)
    before = int(row.balance)
    answer = {"id": row.id, "points_awarded": points, "points": before + points, "tier": tier.name}
    events: list = []
    if points > 0:
        qualifying = int(row.qualifying) + (points if occurred_at >= since else 0)
        lifted = tiers.after_earning(tier, qualifying, view.tiers)
        if lifted.id != tier.id:
            session.connection().execute(_LIFT_TIER, {"tier_id": lifted.id, "member_id": member_id})
            answer["tier"] = lifted.name
            if key is not None:
                session.connection().execute(_ANSWER_TIER, {"response": json.dumps(answer), "key": key})
        events.append(PointsEarned(member_id, points, before, before + points, f"event:{row.id}", lifted.id))
        if lifted.id != tier.id:
            events.append(TierUpgraded(member_id, tier.id, lifted.id))
    events.append(PurchaseRecorded(member_id, row.id, amount, currency, occurred_at,
                                   asked_for_feedback_recently=row.asked_recently))
    return answer, events
