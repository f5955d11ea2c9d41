"""Reading and writing a member's purchase items and offers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from engage.loyalty.items import Item
from engage.loyalty.offers import Bought
from engage.models import Offer, PurchaseItem


def add_items(session: Session, event_id: int, member_id: int, items: Sequence[Item], occurred_at: datetime) -> None:
    """Store a purchase's items (the plain path; services.purchases stores them in its statement)."""
    if items:
        session.execute(insert(PurchaseItem), [
            {"event_id": event_id, "member_id": member_id, "sku": item.sku, "name": item.name,
             "category": item.category, "quantity": item.quantity, "amount": item.amount,
             "occurred_at": occurred_at} for item in items])


def bought_since(session: Session, member_id: int, since: datetime) -> list[Bought]:
    """The member's items bought after `since`, oldest first."""
    rows = session.execute(
        select(PurchaseItem.event_id, PurchaseItem.sku, PurchaseItem.name, PurchaseItem.category,
               PurchaseItem.occurred_at)
        .where(PurchaseItem.member_id == member_id, PurchaseItem.occurred_at > since)
        .order_by(PurchaseItem.occurred_at, PurchaseItem.id))
    return [Bought(*row) for row in rows]


def items_of(session: Session, member_id: int) -> list[PurchaseItem]:
    """Every item the member bought, by purchase (for their export)."""
    return list(session.scalars(select(PurchaseItem).where(PurchaseItem.member_id == member_id)
                                .order_by(PurchaseItem.event_id, PurchaseItem.id)))


def offer_history(session: Session, member_id: int, rule_keys: Sequence[str],
                  now: datetime) -> tuple[dict[str, datetime], set[str]]:
    """(when each rule last made the member an offer, the rules whose offer is still open)."""
    rows = session.execute(
        select(Offer.rule_key, func.max(Offer.created_at),
               func.count().filter(Offer.redemption_id.is_(None), Offer.ends_at > now))
        .where(Offer.member_id == member_id, Offer.rule_key.in_(list(rule_keys))).group_by(Offer.rule_key))
    last, open_rules = {}, set()
    for key, created_at, still_open in rows:
        last[key] = created_at
        if still_open:
            open_rules.add(key)
    return last, open_rules


def offer_by_keyword(session: Session, member_id: int, keyword: str) -> Offer | None:
    """The member's latest offer with this keyword. A rule makes a new offer only once the last one
    is redeemed or ended, so the latest is the one that may be open; the caller says why not."""
    return session.scalar(select(Offer).where(Offer.member_id == member_id, Offer.keyword == keyword.upper())
                          .order_by(Offer.id.desc()).limit(1))


def offers_query(member_id: int):
    """The member's offers, for a page of them."""
    return select(Offer).where(Offer.member_id == member_id)


def mark_redeemed(session: Session, offer_id: int, redemption_id: int) -> bool:
    """Tie the offer to its redemption, once: False when another redemption took it first."""
    done = session.execute(update(Offer).where(Offer.id == offer_id, Offer.redemption_id.is_(None))
                           .values(redemption_id=redemption_id))
    return done.rowcount == 1
