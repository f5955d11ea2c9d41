"""Challenges: time-boxed goals with a bonus, and a member's progress in them."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from engage import state
from engage.api.auth import requires
from engage.api.fields import Int
from engage.api.parser import Blueprint
from engage.api.schemas import Instant
from engage.loyalty.challenges import AUTO, KEYWORD, KINDS
from engage.services import challenges

blp = Blueprint("challenges", __name__, url_prefix="/api/v1", description="Challenges")


class ChallengeSchema(Schema):
    id = Int(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS), metadata={
        "description": "what counts: purchase, review (review events), feedback (ratings by reply and "
                       "feedback events), referral (members enrolled with the member's code)"})
    goal = Int(required=True, validate=validate.Range(min=1, max=1000))
    bonus = Int(required=True, validate=validate.Range(min=0, max=1_000_000), metadata={
        "description": "points credited once on completion"})
    starts_at = Instant(required=True)
    ends_at = Instant(required=True, metadata={"description": "exclusive"})
    join = fields.String(load_default=AUTO, validate=validate.OneOf((AUTO, KEYWORD)), metadata={
        "description": "auto: every member is in; keyword: members who text `keyword`"})
    keyword = fields.String(allow_none=True, validate=validate.Regexp(
        r"^[A-Za-z0-9]{2,20}$", error="2 to 20 letters or digits."), metadata={"description": "with join=keyword"})


class ChallengeListSchema(Schema):
    items = fields.List(fields.Nested(ChallengeSchema))
    next = fields.String(allow_none=True)


class ChallengeProgressSchema(Schema):
    challenge = fields.Nested(ChallengeSchema)
    progress = Int()
    remaining = Int()
    completed_at = fields.DateTime(allow_none=True)
    open = fields.Boolean()


class ChallengeProgressListSchema(Schema):
    items = fields.List(fields.Nested(ChallengeProgressSchema))
    next = fields.String(allow_none=True)


@blp.route("/challenges")
class Challenges(MethodView):
    @requires("integration")
    @blp.response(200, ChallengeListSchema)
    def get(self):
        """Every challenge, newest first."""
        return {"items": challenges.list_all(state.session()), "next": None}

    @requires("admin")
    @blp.arguments(ChallengeSchema())
    @blp.response(201, ChallengeSchema)
    @blp.alt_response(409, description="another challenge has that keyword")
    @blp.alt_response(422, description="ends before it starts, or a keyword without join=keyword")
    def post(self, data):
        """Add a challenge: a goal in a time window, with a bonus credited once on completion."""
        return challenges.create(state.session(), data, state.now())


@blp.route("/members/<int:member_id>/challenges")
@requires("integration")
@blp.response(200, ChallengeProgressListSchema)
@blp.alt_response(404, description="no such member")
def member_challenges(member_id):
    """The member's challenges (every auto one, and those joined by keyword) with their progress."""
    return {"items": challenges.member_progress(state.session(), member_id, state.now()), "next": None}
