"""A member's personalised offers, and redeeming one."""

from __future__ import annotations

from flask.views import MethodView

from engage import state
from engage.api import pagination
from engage.api.auth import requires
from engage.api.events import IDEMPOTENCY_HEADER, idempotency_key
from engage.api.parser import Blueprint
from engage.api.schemas import OfferPageSchema, OfferRedemptionSchema, PageQuery
from engage.models import Offer
from engage.services import offers
from engage.store import members
from engage.store.offers import offers_query

blp = Blueprint("offers", __name__, url_prefix="/api/v1/members", description="Personalised offers")


@blp.route("/<int:member_id>/offers")
class MemberOffers(MethodView):
    @requires("integration")
    @blp.arguments(PageQuery(), location="query")
    @blp.response(200, OfferPageSchema)
    @blp.alt_response(404, description="no such member")
    def get(self, query, member_id):
        """The member's offers, newest first: open, redeemed and ended ones (`status`)."""
        session = state.session()
        members.get(session, member_id)
        rows, cursor = pagination.page(session, offers_query(member_id), Offer.id, query["limit"], query.get("cursor"))
        return {"items": offers.list_offers(session, member_id, rows, state.now()), "next": cursor}


@blp.route("/<int:member_id>/offers/<int:offer_id>/redemptions", methods=["POST"])
@requires("integration")
@blp.response(201, OfferRedemptionSchema)
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.alt_response(404, description="no such member, or no such offer of theirs")
@blp.alt_response(409, description="Idempotency-Key reused with another body, or the reward sold out")
@blp.alt_response(422, description="the offer ended or was redeemed, or not enough points")
def redeem_offer(member_id, offer_id):
    """Redeem an offer for its points (once): a coupon code comes back, as for a reward."""
    return offers.redeem(state.session(), member_id, offer_id, idempotency_key(), state.now())
