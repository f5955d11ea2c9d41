"""The daily sweep's ledger work: expire lots past their date, re-evaluate tiers.

Both are set-based SQL so a million members take one pass, not a million round trips, and
both are idempotent for a date: expired lots have nothing left, and tiers are recomputed.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from engage.services import transaction
from engage.db import UTCDateTime
from engage.services.program import load

_TIMES = (bindparam("cutoff", type_=UTCDateTime()), bindparam("now", type_=UTCDateTime()))


def cutoff(as_of: date, zone: ZoneInfo) -> datetime:
    """The sweep for a date expires what expired before that date began, in program time."""
    return datetime.combine(as_of, time(0), tzinfo=zone)


EXPIRE_POSTGRES = text("""
WITH gone AS (
    SELECT id, member_id, remaining FROM lots
    WHERE remaining > 0 AND expires_at < :cutoff
    FOR UPDATE
), emptied AS (
    UPDATE lots SET remaining = 0 FROM gone WHERE lots.id = gone.id
    RETURNING gone.member_id, gone.remaining
)
INSERT INTO ledger_entries (member_id, points, kind, reason, source, occurred_at, created_at)
SELECT member_id, -SUM(remaining), 'expire', :reason, :source, :cutoff, :now
FROM emptied GROUP BY member_id
ON CONFLICT (member_id, source) DO NOTHING
""").bindparams(*_TIMES)

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
        params = {"cutoff": cutoff(as_of, view.zone), "now": now, "source": f"expiry:{as_of.isoformat()}",
                  "reason": f"points expired (sweep of {as_of.isoformat()})"}
        if session.get_bind().dialect.name == "sqlite":
            hit = session.execute(EXPIRE_DEBITS, params).rowcount
            session.execute(EXPIRE_LOTS, params)
            return hit
        return session.execute(EXPIRE_POSTGRES, params).rowcount


# Only members above the lowest tier can move down, so only they are re-evaluated (upgrades
# happen at once when points are earned). One statement; returns the changed members.
COMPUTED = """
WITH computed AS (
    SELECT m.id, m.tier_id AS old_tier, (
        SELECT t.id FROM tiers t
        WHERE t.threshold <= COALESCE((
            SELECT SUM(l.points) FROM ledger_entries l
            WHERE l.member_id = m.id AND l.kind = 'earn' AND l.occurred_at >= :since), 0)
        ORDER BY t.threshold DESC LIMIT 1) AS new_tier
    FROM members m
    WHERE m.erased_at IS NULL
      AND m.tier_id IN (SELECT id FROM tiers WHERE threshold > (SELECT MIN(threshold) FROM tiers))
)
"""
_SINCE = bindparam("since", type_=UTCDateTime())
REEVALUATE = text(COMPUTED + """
UPDATE members SET tier_id = computed.new_tier
FROM computed
WHERE members.id = computed.id AND computed.new_tier IS NOT NULL AND computed.new_tier <> computed.old_tier
RETURNING members.id, computed.old_tier, computed.new_tier
""").bindparams(_SINCE)
# SQLite's RETURNING can't name the FROM table; its writes are serialised, so select then update.
CHANGES = text(COMPUTED + """
SELECT id, old_tier, new_tier FROM computed WHERE new_tier IS NOT NULL AND new_tier <> old_tier
""").bindparams(_SINCE)


def reevaluate_tiers(session: Session, as_of: date, now: datetime) -> list[tuple[int, int, int]]:
    """Move members to the tier their qualifying points earn (downgrades happen only here).

    Returns (member id, old tier id, new tier id) for each change.
    """
    with transaction(session):
        view = load(session)
        since = cutoff(as_of, view.zone) - timedelta(days=view.rules.qualifying_window_days)
        if session.get_bind().dialect.name != "sqlite":
            return [tuple(row) for row in session.execute(REEVALUATE, {"since": since})]
        changes = [tuple(row) for row in session.execute(CHANGES, {"since": since})]
        if changes:
            session.execute(text("UPDATE members SET tier_id = :tier WHERE id = :id"),
                            [{"tier": new, "id": member_id} for member_id, _old, new in changes])
        return changes
