"""The rewards catalog and the tiers."""

from __future__ import annotations

from flask.views import MethodView

from engage import state
from engage.api.auth import requires
from engage.api.parser import Blueprint
from engage.api.program_schemas import (
    MemberRewardListSchema,
    MemberRewardQuery,
    RewardCodesImportSchema,
    RewardCodesUploadSchema,
    RewardListSchema,
    RewardPatchSchema,
    RewardPoolSchema,
    RewardSchema,
    TierListSchema,
    TierSchema,
)
from engage.loyalty import partner_codes as code_lists
from engage.services import catalog, member_rewards, partner_codes

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


@blp.route("/rewards/<int:reward_id>/codes")
class RewardCodes(MethodView):
    @requires("admin")
    @blp.response(200, RewardPoolSchema)
    @blp.alt_response(404, description="no such reward, or not a partner reward (no pool)")
    def get(self, reward_id):
        """A partner reward's pool: codes imported, handed out and left (never the codes)."""
        return partner_codes.pool(state.session(), reward_id)

    @requires("admin")
    @blp.arguments(RewardCodesUploadSchema())
    @blp.response(200, RewardCodesImportSchema)
    @blp.alt_response(404, description="no such reward, or not a partner reward (no pool)")
    @blp.alt_response(409, description="codes imported elsewhere at the same moment; send again")
    @blp.alt_response(422, description="rows that are no codes, or codes of another reward's pool: "
                                        "nothing imported")
    def post(self, data, reward_id):
        """Add a partner's codes to the pool, all or none; codes it holds already are counted, not
        added twice."""
        found = (code_lists.from_list(data["codes"]) if "codes" in data else code_lists.from_csv(data["csv"]))
        return partner_codes.import_codes(state.session(), reward_id, found, state.now())


@blp.route("/members/<int:member_id>/rewards")
class MemberRewards(MethodView):
    @requires("integration")
    @blp.arguments(MemberRewardQuery(), location="query")
    @blp.response(200, MemberRewardListSchema)
    @blp.alt_response(404, description="no such member")
    def get(self, query, member_id):
        """The rewards open to the member now (early access by tier included), cheapest first, each
        with whether they can redeem it and why not."""
        items = member_rewards.for_member(state.session(), member_id, state.now(), query.get("category"),
                                          query.get("redeemable") == "true")
        return {"items": items, "next": None}


@blp.route("/tiers")
class Tiers(MethodView):
    @requires("integration")
    @blp.response(200, TierListSchema)
    def get(self):
        """The tiers, lowest first, with thresholds, multipliers and benefits."""
        return {"items": catalog.list_tiers(state.session()), "next": None}


@blp.route("/tiers/<int:tier_id>")
class TierItem(MethodView):
    @requires("admin")
    @blp.arguments(TierSchema())
    @blp.response(200, TierSchema)
    def patch(self, data, tier_id):
        """Change a tier's name, threshold, multiplier or benefits."""
        return catalog.update_tier(state.session(), tier_id, data)
