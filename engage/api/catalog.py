"""The rewards catalog and the tiers."""

from __future__ import annotations

from flask.views import MethodView

from engage import state
from engage.api.auth import requires
from engage.api.parser import Blueprint
from engage.api.program_schemas import (
    NewTierSchema,
    RewardListSchema,
    RewardPatchSchema,
    RewardSchema,
    TierListSchema,
    TierSchema,
)
from engage.services import catalog

blp = Blueprint("catalog", __name__, url_prefix="/api/v1", description="Rewards and tiers")


@blp.route("/rewards")
class Rewards(MethodView):
    @requires("integration")
    @blp.response(200, RewardListSchema)
    def get(self):
        """The rewards catalog, cheapest first."""
        return {"items": catalog.list_rewards(state.session()), "next": None}

    @requires("admin")
    @blp.arguments(RewardSchema())
    @blp.response(201, RewardSchema)
    def post(self, data):
        """Add a reward to the catalog."""
        return catalog.create_reward(state.session(), data)


@blp.route("/rewards/<int:reward_id>")
class RewardItem(MethodView):
    @requires("integration")
    @blp.response(200, RewardSchema)
    def get(self, reward_id):
        """One reward."""
        return catalog.reward(state.session(), reward_id)

    @requires("admin")
    @blp.arguments(RewardPatchSchema())
    @blp.response(200, RewardSchema)
    def patch(self, data, reward_id):
        """Change a reward (cost, minimum tier, active …)."""
        return catalog.update_reward(state.session(), reward_id, data)


@blp.route("/tiers")
class Tiers(MethodView):
    @requires("integration")
    @blp.response(200, TierListSchema)
    def get(self):
        """The tiers, lowest first, with thresholds, multipliers and benefits."""
        return {"items": catalog.list_tiers(state.session()), "next": None}

    @requires("admin")
    @blp.arguments(NewTierSchema())
    @blp.response(201, TierSchema)
    def post(self, data):
        """Add a tier: a paid one (`paid`: bought with a membership) or another earned step."""
        return catalog.create_tier(state.session(), data)


@blp.route("/tiers/<int:tier_id>")
class TierItem(MethodView):
    @requires("admin")
    @blp.arguments(TierSchema())
    @blp.response(200, TierSchema)
    def patch(self, data, tier_id):
        """Change a tier's name, threshold, multiplier or benefits."""
        return catalog.update_tier(state.session(), tier_id, data)
