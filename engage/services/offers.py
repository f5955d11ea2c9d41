"""Personalised offers: made after a purchase with items (engage.loyalty.offers decides), listed,
and redeemed once, by API or by texting REDEEM <keyword>."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session

from engage.errors import NotFound, Unprocessable
from engage.events import OfferMade
from engage.loyalty import lots, rewards
from engage.loyalty import offers as offer_rules
from engage.loyalty.items import Item
from engage.models import Offer
from engage.services.redemption import _redeem_locked, keyed
from engage.store import ledger
from engage.store import offers as offer_store
from engage.store.program import ProgramView, load


def after_purchase(session: Session, view: ProgramView, member_id: int, event_id: int, items: Sequence[Item],
                   occurred_at: datetime, now: datetime) -> list:
    """Make the offers this purchase earns the member (their row is locked): OfferMade events.

    Costs nothing unless an item matches an offer rule."""
    new = [offer_rules.Bought(event_id, item.sku, item.name, item.category, occurred_at) for item in items]
    rules = offer_rules.relevant(view.rules.offer_rules, new)
    if not rules:
        return []
    bought = offer_store.bought_since(session, member_id, now - timedelta(days=max(rule.days for rule in rules)))
    last, open_rules = offer_store.offer_history(session, member_id, [rule.key for rule in rules], now)
    due = offer_rules.offers_due(rules, bought, last_offered=last, open_rules=open_rules,
                                 rewards_on_offer={reward.id for reward in view.rewards if reward.active}, now=now)
    made = []
    for offer in due:
        offer_id = session.execute(insert(Offer).values(
            member_id=member_id, rule_key=offer.rule.key, reward_id=offer.rule.reward_id,
            product=offer.product[:120], cost=offer.rule.cost, keyword=offer.rule.keyword, created_at=now,
            ends_at=offer.ends_at).returning(Offer.id)).scalar_one()
        made.append(OfferMade(member_id, offer_id))
    return made


def status(offer: Offer, now: datetime) -> str:
    """open, redeemed or ended."""
    if offer.redemption_id is not None:
        return "redeemed"
    return "ended" if now >= offer.ends_at else "open"


def offer_json(view: ProgramView, offer: Offer, now: datetime) -> dict:
    reward = view.reward(offer.reward_id)
    return {"id": offer.id, "rule": offer.rule_key, "reward_id": offer.reward_id, "reward": reward.name,
            "product": offer.product, "cost": offer.cost, "regular_cost": reward.cost, "keyword": offer.keyword,
            "created_at": offer.created_at, "ends_at": offer.ends_at, "status": status(offer, now),
            "redemption_id": offer.redemption_id}


def list_offers(session: Session, member_id: int, page: Sequence[Offer], now: datetime) -> list[dict]:
    """The API's view of a page of the member's offers."""
    view = load(session)
    return [offer_json(view, offer, now) for offer in page]


def redeem(session: Session, member_id: int, offer_id: int, key: str | None, now: datetime) -> dict:
    """Redeem one offer for its points, once; 422 when it ended, was redeemed or points fall short."""
    def locked(member) -> dict:
        offer = session.get(Offer, offer_id, populate_existing=True)
        if offer is None or offer.member_id != member.id:
            raise NotFound(f"member {member_id} has no offer {offer_id}")
        return redeem_locked(session, member, offer, now)

    return keyed(session, "offer_redemptions", key, member_id, {"offer_id": offer_id}, now, locked)


def redeem_locked(session: Session, member, offer: Offer, now: datetime) -> dict:
    """Redeem the offer of a member whose row the caller locked (by API or by text): the reward's
    own redemption (its dates, stock, partner code), for the offer's points."""
    why_not = offer_rules.refusal(redeemed=offer.redemption_id is not None, ends_at=offer.ends_at, now=now)
    if why_not:
        raise Unprocessable(why_not, {"offer_id": [why_not]})
    answer = _redeem_locked(session, member, offer.reward_id, now, cost=offer.cost)
    if not offer_store.mark_redeemed(session, offer.id, answer["id"]):
        # The member's lock serialises redemptions; this only guards the unique column's promise.
        raise Unprocessable("this offer was already redeemed", {"offer_id": ["already redeemed"]})
    return {**answer, "offer_id": offer.id}


def text_problem(offer: Offer, now: datetime) -> str | None:
    """Why a REDEEM <keyword> text cannot have this offer, as the reply's `offer_problem`
    (redeemed, ended), or None when only the points remain to be checked."""
    if offer.redemption_id is not None:
        return "redeemed"
    return "ended" if offer_rules.refusal(redeemed=False, ends_at=offer.ends_at, now=now) else None


def shortfall(session: Session, member_id: int, offer: Offer, now: datetime) -> int:
    """How many points the member still needs for the offer."""
    return max(0, offer.cost - lots.available_points(ledger.open_lots(session, member_id), now))


def reward_name(session: Session, offer: Offer, locale: str | None) -> str:
    """The offered reward's name in the member's language."""
    return rewards.reward_text(load(session).reward(offer.reward_id), locale).name


def by_keyword(session: Session, member_id: int, keyword: str) -> Offer | None:
    """The member's offer a REDEEM <keyword> text means: their open one, else their latest."""
    return offer_store.offer_by_keyword(session, member_id, keyword)
