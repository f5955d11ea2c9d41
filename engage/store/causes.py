"""Gifts to causes: the program's share of purchases and members' donations, and their totals."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, insert, select
from sqlalchemy.orm import Session

from engage.loyalty.giving import Share
from engage.models import CauseGift

PURCHASE, DONATION = "purchase", "donation"


def give_share(session: Session, share: Share, member_id: int, event_id: int, occurred_at: datetime,
               now: datetime) -> None:
    """The program's share of one purchase (one row per event: the event id is unique)."""
    session.execute(insert(CauseGift).values(
        cause=share.cause, source=PURCHASE, member_id=member_id, event_id=event_id, amount=share.amount,
        points=share.points, occurred_at=occurred_at, created_at=now))


def give_donation(session: Session, cause: str, member_id: int, redemption_id: int, value: Decimal | None,
                  points: int, now: datetime) -> None:
    """A member's donation reward, counted toward the cause it went to."""
    session.execute(insert(CauseGift).values(
        cause=cause, source=DONATION, member_id=member_id, redemption_id=redemption_id,
        amount=value or Decimal("0"), points=points, occurred_at=now, created_at=now))


_TOTALS = (CauseGift.cause, func.coalesce(func.sum(CauseGift.amount), 0), func.coalesce(func.sum(CauseGift.points), 0),
           func.count(case((CauseGift.source == PURCHASE, 1))), func.count(case((CauseGift.source == DONATION, 1))),
           func.coalesce(func.sum(case((CauseGift.source == PURCHASE, CauseGift.amount), else_=0)), 0))


def _total(row) -> dict:
    cause, amount, points, purchases, donations, from_purchases = row
    return {"cause": cause, "total": Decimal(amount).quantize(Decimal("0.01")), "points": int(points),
            "purchases": purchases, "donations": donations,
            "from_purchases": Decimal(from_purchases).quantize(Decimal("0.01"))}


def totals(session: Session) -> list[dict]:
    """Every cause's running total, largest first."""
    rows = session.execute(select(*_TOTALS).group_by(CauseGift.cause)
                           .order_by(func.sum(CauseGift.amount).desc(), CauseGift.cause))
    return [_total(row) for row in rows]


def total_for(session: Session, cause: str) -> Decimal:
    """What members and the program gave to `cause` so far."""
    return Decimal(session.scalar(select(func.coalesce(func.sum(CauseGift.amount), 0))
                                  .where(CauseGift.cause == cause))).quantize(Decimal("0.01"))
