"""The shapes of GET /api/v1/insights: its query and the figures it answers with."""

from __future__ import annotations

from marshmallow import Schema, fields

from engage.api.fields import Int
from engage.insights.periods import MAX_DAYS

RANGE = (f"Days in the program's time zone, both included; at most {MAX_DAYS} days, `to` not after today "
         "and `from` not before 2000-01-01.")


class InsightQuery(Schema):
    from_ = fields.Date(required=True, data_key="from", metadata={"description": "first day (YYYY-MM-DD). " + RANGE})
    to = fields.Date(required=True, metadata={"description": "last day (YYYY-MM-DD), included"})


def _rate(description: str):
    return fields.Float(allow_none=True, metadata={"description": description + " (0–1; null when nothing to divide by)"})


def _money(description: str, places: int = 2):
    """A sum of money answered as a string with its decimals ("1234.50"), never a float."""
    return fields.Decimal(as_string=True, places=places, metadata={
        "description": description, "type": "string", "pattern": rf"^-?[0-9]+\.[0-9]{{{places}}}$",
        "example": "1234.50" if places == 2 else "0.1000"})


def _daily(name: str, **columns):
    return fields.List(fields.Nested(Schema.from_dict({"date": fields.Date(), **columns}, name=name)))


class InsightDaySchema(Schema):
    date = fields.Date()
    new_members = Int()
    erased_members = Int()
    members = Int(metadata={"description": "members at the end of the day"})
    active_members = Int(metadata={"description": "members with a purchase in the 90 days to this day"})
    purchases = Int()
    points_issued = Int()
    points_redeemed = Int()
    points_expired = Int()
    points_donated = Int()
    referrals = Int()
    referred_buyers = Int()
    feedback = Int()
    ratings = Int()
    mean_rating = fields.Float(allow_none=True)


class InsightPeriodSchema(Schema):
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()


class InsightHeadlineSchema(Schema):
    key = fields.String()
    label = fields.String()
    unit = fields.String(metadata={"description": "count, share (0-1), money (the program's currency) or rating"})
    value = fields.Float(allow_none=True)
    previous = fields.Float(allow_none=True, metadata={"description": "the same figure for the previous period"})
    change = _rate("relative change from the previous period (0.25 = up 25%)")


class InsightTierCountSchema(Schema):
    tier = fields.String()
    members = Int()


class InsightMembersSchema(Schema):
    total = Int(metadata={"description": "members at the end of the period (erased ones left out)"})
    new = Int()
    active = Int(allow_none=True, metadata={"description": "members with a purchase in the 90 days to `to`"})
    by_tier = fields.List(fields.Nested(InsightTierCountSchema))
    by_tier_as_of = fields.Date(allow_none=True, metadata={"description": "the day the tier counts were taken"})


class InsightCohortSchema(Schema):
    cohort = fields.String(metadata={"description": "enrolment month, YYYY-MM"})
    members = Int(metadata={"description": "members enrolled that month"})
    active = fields.List(Int(), metadata={"description": "of them, purchasers in month 0, 1, … after enrolment"})
    rates = fields.List(fields.Float(allow_none=True))


class InsightRetentionSchema(Schema):
    buyers = Int(metadata={"description": "members who ever purchased, at the end of the period"})
    repeat_buyers = Int(metadata={"description": "of them, members who purchased twice or more"})
    repeat_purchase_rate = _rate("repeat buyers per buyer")
    first_buyers = Int(metadata={"description": "first purchases made in the period"})
    new_repeat_buyers = Int(metadata={"description": "second purchases made in the period"})
    cohorts = fields.List(fields.Nested(InsightCohortSchema))


class InsightPointsSchema(Schema):
    issued = Int()
    redeemed = Int()
    donated = Int()
    expired = Int()
    adjusted = Int(metadata={"description": "net of manual adjustments"})
    redemptions = Int()
    redemption_rate = _rate("points redeemed or donated per point issued in the period")
    outstanding = Int(metadata={"description": "members' unspent points at the end of the period"})
    point_value = _money("best money value of a point, to 4 decimals", places=4)
    liability = _money("outstanding points times point_value")


class InsightAdvocacySchema(Schema):
    referrals = Int(metadata={"description": "members who enrolled with a referral code in the period"})
    referred_buyers = Int(metadata={"description": "referred members whose first purchase was in the period"})
    referred_buyers_total = Int(metadata={"description": "referred members who ever purchased"})


class InsightFlowFiguresSchema(Schema):
    flow = fields.String()
    channel = fields.String()
    queued = Int(metadata={"description": "messages written in the period"})
    waiting = Int()
    sent = Int()
    delivered = Int()
    failed = Int()
    suppressed = Int()
    skipped = Int()
    replied = Int()
    opted_out = Int(metadata={"description": "followed by the member's opt-out of that channel within 7 days"})
    redeemed_after = Int(metadata={"description": "followed by a redemption within 7 days"})
    reply_rate = _rate("replied per sent")
    redemption_rate_7_days = _rate("redeemed_after per sent")


class InsightFeedbackSchema(Schema):
    given = Int()
    ratings = Int()
    mean_rating = fields.Float(allow_none=True)


class InsightMessagesSchema(Schema):
    flows = fields.List(fields.Nested(InsightFlowFiguresSchema))
    feedback = fields.Nested(InsightFeedbackSchema)


class InsightMemberRevenueSchema(Schema):
    currency = fields.String()
    purchases = Int()
    amount = _money("sum of purchase amounts")


class InsightFlowRevenueSchema(Schema):
    flow = fields.String()
    currency = fields.String()
    purchases = Int()
    amount = _money("purchases by members the flow reached in the 7 days before")


class InsightRevenueSchema(Schema):
    members = fields.List(fields.Nested(InsightMemberRevenueSchema))
    after_flows = fields.List(fields.Nested(InsightFlowRevenueSchema))
    daily = _daily("InsightRevenueDay", currency=fields.String(), purchases=Int(), amount=_money("sum of purchase amounts"))


class InsightsSchema(Schema):
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()
    timezone = fields.String()
    currency = fields.String()
    previous = fields.Nested(InsightPeriodSchema, metadata={"description": "the period compared with"})
    pending_days = fields.List(fields.Date(), metadata={"description": "days after the last one rolled up: not counted yet"})
    computed_at = fields.DateTime(allow_none=True, metadata={"description": "when the period's latest day was last computed"})
    headlines = fields.List(fields.Nested(InsightHeadlineSchema))
    daily = fields.List(fields.Nested(InsightDaySchema), metadata={"description": "every day of the period"})
    members = fields.Nested(InsightMembersSchema)
    retention = fields.Nested(InsightRetentionSchema)
    points = fields.Nested(InsightPointsSchema)
    advocacy = fields.Nested(InsightAdvocacySchema)
    messages = fields.Nested(InsightMessagesSchema)
    revenue = fields.Nested(InsightRevenueSchema)
