"""Writing ledger entries and lots; reading balances. Callers own the transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from engage.loyalty import lots as lot_rules
from engage.loyalty import tiers as tier_rules
from engage.loyalty.settings import EarningRules
from engage.loyalty.tiers import TierRule
from engage.models import LedgerEntry, Lot, Member
from engage.vocabulary import LedgerKind


def credit(session: Session, member_id: int, points: int, *, reason: str, source: str,
           occurred_at: datetime, now: datetime, rules: EarningRules, kind: str = LedgerKind.EARN) -> int:
    """An earning (or `adjust`) entry and its lot, which expires a fixed time after `occurred_at`; its id."""
    expiry = lot_rules.expires_at(occurred_at, rules.lot_lifetime_days)
    # Core inserts, not ORM objects: this runs on every purchase, and nothing reads them back.
    entry_id = session.execute(insert(LedgerEntry).values(
        member_id=member_id, points=points, kind=kind, reason=reason, source=source,
        occurred_at=occurred_at, expires_at=expiry, created_at=now).returning(LedgerEntry.id)).scalar_one()
    session.execute(insert(Lot).values(member_id=member_id, ledger_entry_id=entry_id, points=points,
                                       remaining=points, earned_at=occurred_at, expires_at=expiry))
    return entry_id


# The reads below run in purchases, redemptions and inbound replies: compiled once, run on the
# session's connection (no ORM layer for plain rows).
# What an open lot and a qualifying entry are, for one member and for a page of them.
_LOT_FIELDS = (Lot.id, Lot.remaining, Lot.earned_at, Lot.expires_at)  # lot_rules.OpenLot's
_LOT_IS_OPEN = Lot.remaining > 0
_EARNED_SINCE = (LedgerEntry.kind == LedgerKind.EARN,
                 LedgerEntry.occurred_at >= bindparam("since", type_=LedgerEntry.occurred_at.type))
_OPEN_LOTS = select(*_LOT_FIELDS).where(Lot.member_id == bindparam("member_id"), _LOT_IS_OPEN)
_STORED_TOTALS = select(Member.points_balance, Member.points_earned).where(Member.id == bindparam("member_id"))
_QUALIFYING = select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
    LedgerEntry.member_id == bindparam("member_id"), *_EARNED_SINCE)
_HAS_SOURCE = select(LedgerEntry.id).where(
    LedgerEntry.member_id == bindparam("member_id"), LedgerEntry.source == bindparam("source"))


def open_lots(session: Session, member_id: int) -> list[lot_rules.OpenLot]:
    rows = session.connection().execute(_OPEN_LOTS, {"member_id": member_id})
    return [lot_rules.OpenLot(*row) for row in rows]


def open_lots_of(session: Session, member_ids: list[int]) -> dict[int, list[lot_rules.OpenLot]]:
    """`open_lots` for several members in one statement (a page of the member list)."""
    found: dict[int, list[lot_rules.OpenLot]] = {member_id: [] for member_id in member_ids}
    if member_ids:
        rows = session.connection().execute(
            select(Lot.member_id, *_LOT_FIELDS).where(Lot.member_id.in_(member_ids), _LOT_IS_OPEN))
        for member_id, *lot in rows:
            found[member_id].append(lot_rules.OpenLot(*lot))
    return found


def debit_fifo(session: Session, member_id: int, points: int, *, kind: str, reason: str,
               source: str, now: datetime) -> LedgerEntry:
    """Take `points` from the oldest usable lots and write one debit entry.

    Raises InsufficientPoints. The caller must hold the member's row lock.
    """
    plan = lot_rules.plan_fifo(open_lots(session, member_id), points, now)
    for lot_id, taken in plan:
        session.execute(update(Lot).where(Lot.id == lot_id).values(remaining=Lot.remaining - taken))
    entry = LedgerEntry(member_id=member_id, points=-points, kind=kind, reason=reason, source=source,
                        occurred_at=now, expires_at=None, created_at=now)
    session.add(entry)
    session.flush()
    return entry


def balance(session: Session, member_id: int) -> int:
    """The member's points: the sum of their ledger entries, kept on their row (see stored_totals)."""
    return stored_totals(session, member_id)[0]


def stored_totals(session: Session, member_id: int) -> tuple[int, int]:
    """(balance, points ever earned) from the member's row, one row whatever the history.

    A trigger adds every inserted ledger entry to them in the inserting transaction (migration
    0005), so they are the ledger's sums. Under the member's row lock they are also current.
    """
    balance, earned = session.connection().execute(_STORED_TOTALS, {"member_id": member_id}).one()
    return int(balance), int(earned)


def tier_after_earning(session: Session, tiers: list[TierRule], member_id: int, current: TierRule,
                       earned: int, since: datetime) -> TierRule:
    """The tier once this member's latest credit is written (earning only ever lifts).

    `earned` is all points ever earned, that credit included (see tiers.may_lift).
    """
    if not tier_rules.may_lift(current, earned, tiers):
        return current
    return tier_rules.after_earning(current, qualifying(session, member_id, since), tiers)


def qualifying(session: Session, member_id: int, since: datetime) -> int:
    """Points earned at or after `since` (the tier qualifying window)."""
    return int(session.connection().execute(_QUALIFYING, {"member_id": member_id, "since": since}).scalar_one())


def qualifying_of(session: Session, member_ids: list[int], since: datetime) -> dict[int, int]:
    """`qualifying` for several members in one statement (a page of the member list)."""
    found = dict.fromkeys(member_ids, 0)
    if member_ids:
        rows = session.connection().execute(
            select(LedgerEntry.member_id, func.sum(LedgerEntry.points))
            .where(LedgerEntry.member_id.in_(member_ids), *_EARNED_SINCE)
            .group_by(LedgerEntry.member_id), {"since": since})
        found.update((member_id, int(points)) for member_id, points in rows)
    return found


def has_source(session: Session, member_id: int, source: str) -> bool:
    return session.connection().execute(
        _HAS_SOURCE, {"member_id": member_id, "source": source}).first() is not None
