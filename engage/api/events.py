"""Events (purchases, actions), redemptions and adjustments for a member, with Idempotency-Key."""

from __future__ import annotations

import re

from flask import g, request
from flask_smorest import abort

from engage import state
from engage.api.auth import requires
from engage.api.parser import Blueprint
from engage.api.schemas import (
    AdjustmentCreateSchema,
    AdjustmentSchema,
    EventCreateSchema,
    EventResultSchema,
    RedemptionCreateSchema,
    RedemptionSchema,
)
from engage.services import adjustments, earning, redemption
from engage.services.audit import Actor

blp = Blueprint("events", __name__, url_prefix="/api/v1/members", description="Earning and redeeming")

# Printable ASCII without surrounding spaces (HTTP strips those anyway): what a UUID or an order
# number is, and what the document can state exactly.
IDEMPOTENCY_PATTERN = r"^[!-~](?:[ -~]*[!-~])?$"
IDEMPOTENCY_HEADER = {
    "in": "header", "name": "Idempotency-Key", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": IDEMPOTENCY_PATTERN},
    "description": "Replaying the same key returns the first answer; another body with it → 409. "
                   "1 to 255 printable ASCII characters (400 otherwise).",
}


def idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if len(key) > 255 or not re.fullmatch(IDEMPOTENCY_PATTERN, key):
        abort(400, message="Idempotency-Key must be 1 to 255 printable ASCII characters")
    return key


@blp.route("/<int:member_id>/events", methods=["POST"])
@requires("integration")
@blp.arguments(EventCreateSchema())
@blp.response(201, EventResultSchema)
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.alt_response(404, description="no such member")
@blp.alt_response(409, description="Idempotency-Key reused with another body")
@blp.alt_response(422, description="invalid event (amount, currency, occurred_at …)")
def create_event(data, member_id):
    """Report a purchase or action; awards its points and returns the new balance and tier."""
    key = idempotency_key()
    data = {k: v for k, v in data.items() if v is not None}
    return earning.record_event(state.session(), member_id, data, key, state.now())


@blp.route("/<int:member_id>/redemptions", methods=["POST"])
@requires("integration")
@blp.arguments(RedemptionCreateSchema())
@blp.response(201, RedemptionSchema)
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.alt_response(404, description="no such member or reward")
@blp.alt_response(409, description="Idempotency-Key reused with another body; or the reward is sold out "
                                    "(no stock or partner codes left), nothing debited")
@blp.alt_response(422, description="not enough points, tier too low, outside the reward's dates, or "
                                    "another category")
def create_redemption(data, member_id):
    """Redeem a reward: points are taken oldest first; a coupon code comes back (not for donations),
    the partner's own code for a partner reward."""
    return redemption.redeem(state.session(), member_id, data["reward_id"], idempotency_key(), state.now(),
                             data.get("category"))


@blp.route("/<int:member_id>/adjustments", methods=["POST"])
@requires("admin")
@blp.arguments(AdjustmentCreateSchema())
@blp.response(201, AdjustmentSchema)
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.alt_response(404, description="no such member")
@blp.alt_response(409, description="Idempotency-Key reused with another body")
@blp.alt_response(422, description="invalid points or reason, or a deduction below zero")
def create_adjustment(data, member_id):
    """Add or take points by hand (admin): an `adjust` ledger entry with its reason, audited.

    A deduction never takes the member below zero (422 says how many points they have)."""
    actor = Actor(name=f"key:{g.api_key.name}")  # a machine: the audit log names its key
    return adjustments.adjust(state.session(), member_id, data["points"], data["reason"], idempotency_key(),
                              actor, state.now())
