"""offer: announces a personalised offer when a purchase earns one (engage.services.offers),
naming the product, the reward, its points, the keyword to text and the end date."""

from __future__ import annotations

from engage.events import OfferMade
from engage.flows.compose import queue_flow
from engage.flows.registry import on, skip_reason_of
from engage.loyalty.offers import refusal
from engage.models import Offer
from engage.store.program import ProgramView, load


def offer_variable(view: ProgramView, offer: Offer) -> dict:
    """The template variable `offer` (the reward's name is put in the member's language later)."""
    reward = view.reward(offer.reward_id)
    return {"product": offer.product, "reward": reward.name, "reward_id": reward.id, "cost": offer.cost,
            "regular_cost": reward.cost, "keyword": offer.keyword,
            "ends": offer.ends_at.astimezone(view.zone).date()}


@on(OfferMade)
def announce(session, event: OfferMade, now) -> None:
    view = load(session)
    offer = session.get(Offer, event.offer_id)
    queue_flow(session, event.member_id, "offer", now, dedupe_key=f"offer:{offer.id}",
               extra={"offer": offer_variable(view, offer)}, data={"offer_id": offer.id}, view=view)


@skip_reason_of("offer")
def offer_gone_reason(session, message, member, now) -> str | None:
    """Why not to send: the offer was redeemed or has ended; else None."""
    offer = session.get(Offer, message.data.get("offer_id"))
    if offer is None:
        return "the offer no longer exists"
    return refusal(redeemed=offer.redemption_id is not None, ends_at=offer.ends_at, now=now)
