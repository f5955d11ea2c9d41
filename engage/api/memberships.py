"""Paid memberships (a tier bought in the shop) and the causes' running totals."""

from __future__ import annotations

from flask import g
from flask.views import MethodView

from engage import state
from engage.api.auth import requires
from engage.api.membership_schemas import (
    CauseListSchema,
    MembershipCancelSchema,
    MembershipCreateSchema,
    MembershipListSchema,
    MembershipSchema,
)
from engage.api.parser import Blueprint
from engage.services import giving, memberships
from engage.services.audit import Actor

blp = Blueprint("memberships", __name__, url_prefix="/api/v1", description="Paid memberships and causes")


def _actor() -> Actor:
    return Actor(name=f"key:{g.api_key.name}")  # a machine: the audit log names its key


@blp.route("/members/<int:member_id>/memberships")
class Memberships(MethodView):
    @requires("integration")
    @blp.response(200, MembershipListSchema)
    @blp.alt_response(404, description="no such member")
    def get(self, member_id):
        """The member's paid memberships, newest first."""
        return {"items": memberships.list_for(state.session(), member_id), "next": None}

    @requires("integration")
    @blp.arguments(MembershipCreateSchema())
    @blp.response(201, MembershipSchema)
    @blp.alt_response(404, description="no such member")
    @blp.alt_response(409, description="payment reference already used for another membership")
    @blp.alt_response(422, description="not a paid tier, or a bad period")
    def post(self, data, member_id):
        """Record a paid membership: the member holds its tier (benefits, multiplier) for the period,
        whatever their points. Idempotent on `payment_reference`."""
        return memberships.buy(state.session(), member_id, data, _actor(), state.now())


@blp.route("/members/<int:member_id>/memberships/<int:membership_id>/cancel", methods=["POST"])
@requires("integration")
@blp.arguments(MembershipCancelSchema())
@blp.response(200, MembershipSchema)
@blp.alt_response(404, description="no such member or membership")
@blp.alt_response(409, description="already cancelled or refunded")
def cancel_membership(data, member_id, membership_id):
    """End a membership now (cancelled, or `refund`: refunded); the member falls back at once."""
    return memberships.cancel(state.session(), member_id, membership_id, data["refund"], _actor(), state.now())


@blp.route("/causes")
@requires("integration")
@blp.response(200, CauseListSchema)
def causes():
    """What members (donation rewards) and the program (giving back) gave to each cause so far."""
    return {"items": giving.totals(state.session()), "next": None}
