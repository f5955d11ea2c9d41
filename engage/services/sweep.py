"""The daily sweep's ledger work: expire lots past their date, re-evaluate tiers.

Both are set-based SQL so a million members take one pass, not a million round trips, and
both are idempotent for a date: expired lots have nothing left, and tiers are recomputed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from engage.db import UTCDateTime
from engage.loyalty.lots import sweep_cutoff
from engage.store import transaction
from engage.store.program import load

_TIMES = (bindparam("cutoff", type_=UTCDateTime()), bindparam("now", type_=UTCDateTime()))


# `gone` locks the lots and reads what is left of them (a concurrent spend finishes first or waits);
# every locked lot is emptied, so the debits are summed from `gone`. The lots are emptied by id
# array, not by joining `gone`: the primary-key scan visits them in id (~storage) order, where a
# hash join over a large table updates them in hash-batch order, each page many times over.
EXPIRE_POSTGRES = text("""
WITH gone AS (
    SELECT id, member_id, remaining FROM lots
    WHERE remaining > 0 AND expires_at < :cutoff
    FOR UPDATE
), emptied AS (
    UPDATE lots SET remaining = 0 WHERE id = ANY(ARRAY(SELECT id FROM gone))
)
INSERT INTO ledger_entries (member_id, points, kind, reason, source, occurred_at, created_at)
SELECT member_id, -SUM(remaining), 'expire', :reason, :source, :cutoff, :now
FROM gone GROUP BY member_id
ON CONFLICT (member_id, source) DO NOTHING
""").bindparams(*_TIMES)

# The sweep's statements are bound by writes, and their cost estimates are far off (lateral sums,
# CTEs), so PostgreSQL would spend a good share of the run JIT-compiling for nothing.
NO_JIT = text("SET LOCAL jit = off")

EXPIRE_DEBITS = text("""
INSERT INTO ledger_entries (member_id, points, kind, reason, source, occurred_at, created_at)
SELECT member_id, -SUM(remaining), 'expire', :reason, :source, :cutoff, :now
FROM lots WHERE remaining > 0 AND expires_at < :cutoff
GROUP BY member_id
ON CONFLICT (member_id, source) DO NOTHING
""").bindparams(*_TIMES)

EXPIRE_LOTS = text("UPDATE lots SET remaining = 0 WHERE remaining > 0 AND expires_at < :cutoff").bindparams(
    _TIMES[0])


def expire_points(session: Session, as_of: date, now: datetime) -> int:
    """Expire what is left of lots past their date: one debit per member. Returns members hit."""
    with transaction(session):
        view = load(session)
        params = {"cutoff": sweep_cutoff(as_of, view.zone), "now": now, "source": f"expiry:{as_of.isoformat()}",
                  "reason": f"points expired (sweep of {as_of.isoformat()})"}
        if session.get_bind().dialect.name == "sqlite":
            hit = session.execute(EXPIRE_DEBITS, params).rowcount
            session.execute(EXPIRE_LOTS, params)
            return hit
        session.execute(NO_JIT)
        return session.execute(EXPIRE_POSTGRES, params).rowcount


# Only members above the lowest tier can move down, so only they are re-evaluated (upgrades
# happen at once when points are earned). One statement; returns the changed members.
# A member's tier is the highest of the earnable tiers their qualifying points reach and the paid
# tiers of their memberships active now (engage.loyalty.memberships.effective_tier): a lapsed
# membership falls back here.
HELD_NOW = """(t.paid AND EXISTS (
            SELECT 1 FROM memberships ms WHERE ms.member_id = m.id AND ms.tier_id = t.id
            AND ms.status = 'active' AND ms.starts_at <= :at AND ms.ends_at > :at))"""
COMPUTED = f"""
WITH computed AS (
    SELECT m.id, m.tier_id AS old_tier, (
        SELECT t.id FROM tiers t
        WHERE (NOT t.paid AND t.threshold <= COALESCE((
            SELECT SUM(l.points) FROM ledger_entries l
            WHERE l.member_id = m.id AND l.kind = 'earn' AND l.occurred_at >= :since), 0))
           OR {HELD_NOW}
        ORDER BY t.threshold DESC LIMIT 1) AS new_tier
    FROM members m
    WHERE m.erased_at IS NULL
      AND m.tier_id IN (SELECT id FROM tiers WHERE threshold > (SELECT MIN(threshold) FROM tiers))
)
"""
_SINCE = bindparam("since", type_=UTCDateTime())
_AT = bindparam("at", type_=UTCDateTime())
# PostgreSQL: the same rule, with each candidate's qualifying points summed once (an index range
# per member) and only the members whose tier changes kept. They are then updated in id (~storage)
# order: `members.id = ANY(...)` makes the planner fetch them by primary key and hash that small
# set, rather than hash every member and update in hash-batch order.
REEVALUATE = text(f"""
WITH changes AS MATERIALIZED (
    SELECT m.id, m.tier_id AS old_tier, best.tier_id AS new_tier
    FROM members m
    CROSS JOIN LATERAL (
        SELECT COALESCE(SUM(l.points), 0) AS points FROM ledger_entries l
        WHERE l.member_id = m.id AND l.kind = 'earn' AND l.occurred_at >= :since) AS earned
    CROSS JOIN LATERAL (
        SELECT t.id AS tier_id FROM tiers t
        WHERE (NOT t.paid AND t.threshold <= earned.points) OR {HELD_NOW}
        ORDER BY t.threshold DESC LIMIT 1) AS best
    WHERE m.erased_at IS NULL
      AND m.tier_id IN (SELECT id FROM tiers WHERE threshold > (SELECT MIN(threshold) FROM tiers))
      AND best.tier_id <> m.tier_id
)
UPDATE members SET tier_id = changes.new_tier
FROM changes
WHERE members.id = ANY(ARRAY(SELECT id FROM changes)) AND members.id = changes.id
RETURNING members.id, changes.old_tier, changes.new_tier
""").bindparams(_SINCE, _AT)
# SQLite (no LATERAL; its RETURNING can't name the FROM table; its writes are serialised): select
# the changes with COMPUTED, then update.
CHANGES = text(COMPUTED + """
SELECT id, old_tier, new_tier FROM computed WHERE new_tier IS NOT NULL AND new_tier <> old_tier
""").bindparams(_SINCE, _AT)


def reevaluate_tiers(session: Session, as_of: date, now: datetime) -> list[tuple[int, int, int]]:
    """Move members to the tier their qualifying points earn (downgrades happen only here).

    Returns (member id, old tier id, new tier id) for each change.
    """
    with transaction(session):
        view = load(session)
        since = sweep_cutoff(as_of, view.zone) - timedelta(days=view.rules.qualifying_window_days)
        if session.get_bind().dialect.name != "sqlite":
            session.execute(NO_JIT)
            return [tuple(row) for row in session.execute(REEVALUATE, {"since": since, "at": now})]
        changes = [tuple(row) for row in session.execute(CHANGES, {"since": since, "at": now})]
        if changes:
            session.execute(text("UPDATE members SET tier_id = :tier WHERE id = :id"),
                            [{"tier": new, "id": member_id} for member_id, _old, new in changes])
        return changes
