"""A purchase on PostgreSQL in one statement: the hot path of the whole service.

`earning.record_event` does the same in plain steps (SQLite, every other event type, and any
purchase this path declines). A purchase is what a shop sends most, so on PostgreSQL it is one
round trip, `_PURCHASE`, run as a `db.HotStatement` (a `text()` compiled by SQLAlchemy, run on a
kept cursor: 0.60-0.62 of the earn bench's floor where plain `execute` gave 0.54-0.56):

- lock the member's row and read its ledger totals from it (`members.points_balance` and
  `points_earned`, kept by a trigger on every ledger insert, migration 0005). FOR UPDATE returns
  the latest committed row, and every ledger writer of this member updates that row, so the
  balance read is current, however long the member's history;
- claim the Idempotency-Key by inserting its answer (ON CONFLICT DO NOTHING), and only if that
  worked (or there is no key) insert the event, its ledger entry and lot. The answer is
  `earning.event_answer`'s four fields, built here by `json_build_object` so that a purchase stays
  one round trip (storing it with a second statement, as the plain path does, adds a round trip
  to every keyed purchase and cost 0.07-0.22 of the earn bench's ratio: bench/RESULTS.md); a tier lift, which changes the answer, stores `event_answer`'s again. The
  differential tests (tests/integration/test_fast_paths.py) compare the stored answers of both
  paths;
- tell whether a feedback request went out recently;
- with line items, insert them too, from one JSON parameter (`_PURCHASE_WITH_ITEMS`; a purchase
  without items runs the statement it always ran). Their bonus points are part of the points
  computed for each tier (`earning.purchase_points`), so items cost no extra round trip; the
  offer rules run after the statement (`purchase_extras.after_purchase`), and only when an item matches one.

The rules stay in Python: the points are computed before the statement for every tier (the
statement picks the member's), the tier lift after it. A lift is possible only when the points
ever earned reach the next tier, and only then are the qualifying points summed; a lift (rare)
costs two more updates.

Declined (`None`, nothing written): an unknown or erased member, a tier the cached rules don't
know, and a key already taken (a replay, a key reused with another body, or a concurrent request
with the same key, whose insert this one waited for). The plain path then answers those, in the
same order as on SQLite.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from engage.db import HotStatement
from engage.events import PointsEarned, PurchaseRecorded, TierUpgraded
from engage.flows import feedback_request
from engage.loyalty import earning, tiers
from engage.loyalty import lots as lot_rules
from engage.loyalty.items import Item
from engage.store import ledger
from engage.store.program import ProgramView

_PURCHASE_SQL = f"""
    WITH member AS (
        SELECT id, tier_id, points_balance, points_earned FROM members
        WHERE id = :member_id AND erased_at IS NULL
        FOR UPDATE
    ), priced AS (
        SELECT member.*, priced_tier.points, tiers.name AS tier_name
        FROM member
        JOIN unnest(CAST(:tier_ids AS integer[]), CAST(:tier_points AS integer[])) AS priced_tier (id, points)
            ON priced_tier.id = member.tier_id
        JOIN tiers ON tiers.id = member.tier_id
    ), new_event AS (
        SELECT nextval(pg_get_serial_sequence('events', 'id')) AS id FROM priced
    ), answer AS (
        INSERT INTO idempotency_records (scope, key, member_id, fingerprint, status_code, response, created_at)
        SELECT 'events', CAST(:key AS VARCHAR), :member_id, :fingerprint, 201,
               json_build_object('id', new_event.id, 'points_awarded', priced.points,
                                 'points', priced.points_balance + priced.points, 'tier', priced.tier_name),
               :now
        FROM new_event, priced WHERE CAST(:key AS VARCHAR) IS NOT NULL
        ON CONFLICT (scope, key) DO NOTHING
        RETURNING id
    ), go AS (
        SELECT new_event.id, priced.points FROM new_event, priced
        WHERE CAST(:key AS VARCHAR) IS NULL OR EXISTS (SELECT FROM answer)
    ), event AS (
        INSERT INTO events (id, member_id, type, amount, currency, occurred_at, created_at, points_awarded)
        SELECT go.id, :member_id, 'purchase', :amount, :currency, :occurred_at, :now, go.points FROM go
    ), entry AS (
        INSERT INTO ledger_entries (member_id, points, kind, reason, source, occurred_at, expires_at, created_at)
        SELECT :member_id, go.points, 'earn', :reason, 'event:' || go.id, :occurred_at, :expires_at, :now
        FROM go WHERE go.points > 0
        RETURNING id, points
    ), lot AS (
        INSERT INTO lots (member_id, ledger_entry_id, points, remaining, earned_at, expires_at)
        SELECT :member_id, entry.id, entry.points, entry.points, :occurred_at, :expires_at FROM entry
    ){{items}}
    SELECT priced.tier_id, priced.tier_name, priced.points_balance AS balance, priced.points_earned AS earned,
           priced.points, (SELECT id FROM go) AS event_id, {feedback_request.RECENT_REQUEST_SQL} AS asked_recently
    FROM priced
"""
# A purchase with line items also stores them, from one JSON parameter; one without keeps the
# statement it always had.
_ITEMS_SQL = """, items AS (
        INSERT INTO purchase_items (event_id, member_id, sku, name, category, quantity, amount, occurred_at)
        SELECT go.id, :member_id, item.sku, item.name, item.category, item.quantity, item.amount, :occurred_at
        FROM go, json_to_recordset(CAST(:items AS json))
            AS item (sku text, name text, category text, quantity integer, amount numeric)
    )"""
_PURCHASE = HotStatement(text(_PURCHASE_SQL.replace("{items}", "")))
_PURCHASE_WITH_ITEMS = HotStatement(text(_PURCHASE_SQL.replace("{items}", _ITEMS_SQL)))

_LIFT_TIER = text("UPDATE members SET tier_id = :tier_id WHERE id = :member_id")


@dataclass(frozen=True)
class Recorded:
    """What a recorded purchase did; `earning.event_answer` makes the API's answer of it."""

    event_id: int
    points_awarded: int
    points: int  # the balance after it
    tier: str  # the tier's name after it
    lifted: bool  # it lifted the member's tier


def record(session: Session, view: ProgramView, member_id: int, *, amount: Decimal, currency: str,
           occurred_at: datetime, items: Sequence[Item] = (), key: str | None, fingerprint: str,
           now: datetime) -> tuple[Recorded, list] | None:
    """Record the purchase, its items and its points, claiming its key with its answer: (what it
    did, domain events), or None when declined. After a tier lift the caller stores the answer again."""
    rules = view.rules
    statement, extra = (_PURCHASE_WITH_ITEMS, {"items": _items_json(items)}) if items else (_PURCHASE, {})
    [row] = statement.run(session, {**extra,
        "member_id": member_id, "amount": amount, "currency": currency, "occurred_at": occurred_at,
        "now": now, "reason": f"purchase {view.program.currency} {amount}",
        "expires_at": lot_rules.expires_at(occurred_at, rules.lot_lifetime_days),
        "key": key, "fingerprint": fingerprint,
        "tier_ids": _int_array(tier.id for tier in view.tiers),
        "tier_points": _int_array(earning.purchase_points(amount, tier.multiplier, rules, items)
                                  for tier in view.tiers),
        "feedback_since": feedback_request.spacing_start(session, now),
    }) or [None]
    if row is None or row.event_id is None:
        return None
    tier, points, before = view.tier(row.tier_id), row.points, row.balance
    events: list = []
    lifted = tier
    if points > 0:
        lifted = ledger.tier_after_earning(session, view.tiers, member_id, tier, row.earned + points,
                                           tiers.qualifying_since(now, rules.qualifying_window_days))
        if lifted.id != tier.id:
            session.connection().execute(_LIFT_TIER, {"tier_id": lifted.id, "member_id": member_id})
        events.append(PointsEarned(member_id, points, before, before + points, f"event:{row.event_id}", lifted.id))
        if lifted.id != tier.id:
            events.append(TierUpgraded(member_id, tier.id, lifted.id))
    events.append(PurchaseRecorded(member_id, row.event_id, amount, currency, occurred_at,
                                   asked_for_feedback_recently=row.asked_recently))
    return Recorded(row.event_id, points, before + points, lifted.name, lifted.id != tier.id), events


def _items_json(items: Sequence[Item]) -> str:
    return json.dumps([{"sku": item.sku, "name": item.name, "category": item.category, "quantity": item.quantity,
                        "amount": str(item.amount)} for item in items])


def _int_array(values) -> str:
    """A PostgreSQL integer array literal: one text parameter costs psycopg far less to send than
    a list (which it adapts element by element)."""
    return "{" + ",".join(map(str, values)) + "}"
