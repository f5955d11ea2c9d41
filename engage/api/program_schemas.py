"""Shapes for the program, its tiers and its rewards catalog."""

from __future__ import annotations

import re

from marshmallow import Schema, ValidationError, fields, validate

from engage.api.fields import Bool, DecimalString, Int, locale_field, time_zone_field
from engage.messaging import phones

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
REWARD_KINDS = ("discount", "free_shipping", "donation", "early_access", "gift")


class TierSchema(Schema):
    id = Int(dump_only=True)
    name = fields.String(validate=validate.Length(min=1, max=60))
    threshold = Int(validate=validate.Range(min=0, max=10_000_000))
    multiplier = DecimalString(whole_digits=2, places=3, example="1.25")
    benefits = fields.List(fields.String(validate=validate.Length(max=200)), validate=validate.Length(max=20))
    paid = Bool(metadata={"description": "bought with a membership (POST /members/{id}/memberships), never "
                                         "reached by points; the threshold only ranks it among the tiers"})


class NewTierSchema(TierSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    threshold = Int(required=True, validate=validate.Range(min=1, max=10_000_000))
    multiplier = DecimalString(whole_digits=2, places=3, example="1.25", required=True)


class RewardTextSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    description = fields.String(allow_none=True, validate=validate.Length(max=500),
                                metadata={"description": "null or missing: the default locale's"})


MAX_REWARD_TEXTS = 50


def _few_texts(texts: dict) -> None:
    if len(texts) > MAX_REWARD_TEXTS:
        raise ValidationError(f"At most {MAX_REWARD_TEXTS} locales.")


class RewardPatchSchema(Schema):
    """Every field optional: change only what is sent."""

    id = Int(dump_only=True)
    name = fields.String(validate=validate.Length(min=1, max=120),
                         metadata={"description": "in the program's default locale"})
    description = fields.String(allow_none=True, validate=validate.Length(max=500),
                                metadata={"description": "in the program's default locale"})
    texts = fields.Dict(
        keys=locale_field(), values=fields.Nested(RewardTextSchema), validate=_few_texts,
        metadata={"maxProperties": MAX_REWARD_TEXTS, "description":
                  "name and description per locale, keyed by a Locale tag (components/schemas/Locale; "
                  "'nl-BE' is stored as 'nl_BE'). Answers include the program's default locale, "
                  "which is `name` and `description`; sent, it sets them. PATCH replaces every text. "
                  "Members see their locale's, else their language's, else the default's."})
    kind = fields.String(validate=validate.OneOf(REWARD_KINDS))
    cost = Int(validate=validate.Range(min=0, max=10_000_000))
    min_tier = fields.String(allow_none=True, metadata={"description": "tier name, or null"})
    value = DecimalString(whole_digits=6, places=2, example="10.00", allow_none=True)
    active = Bool()


class RewardSchema(RewardPatchSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    kind = fields.String(required=True, validate=validate.OneOf(REWARD_KINDS))
    cost = Int(required=True, validate=validate.Range(min=0, max=10_000_000))


class RewardListSchema(Schema):
    items = fields.List(fields.Nested(RewardSchema))
    next = fields.String(allow_none=True)


class TierListSchema(Schema):
    items = fields.List(fields.Nested(TierSchema))
    next = fields.String(allow_none=True)


class QuietHoursSchema(Schema):
    start = fields.String(required=True, validate=validate.Regexp(_HHMM, error="Use HH:MM."))
    end = fields.String(required=True, validate=validate.Regexp(_HHMM, error="Use HH:MM."))


class ActionPointsSchema(Schema):
    signup = Int(validate=validate.Range(min=0, max=1_000_000))
    newsletter_signup = Int(validate=validate.Range(min=0, max=1_000_000))
    social_follow = Int(validate=validate.Range(min=0, max=1_000_000))
    review = Int(validate=validate.Range(min=0, max=1_000_000))
    feedback = Int(validate=validate.Range(min=0, max=1_000_000))
    reply = Int(validate=validate.Range(min=0, max=1_000_000))
    referral = Int(validate=validate.Range(min=0, max=1_000_000))


class GivingBackSchema(Schema):
    enabled = Bool(metadata={"description": "give a share of every purchase to `cause`"})
    cause = fields.String(validate=validate.Length(max=120), metadata={"description": "the cause's name"})
    mode = fields.String(validate=validate.OneOf(("percent", "points")),
                         metadata={"description": "percent: `percent` of the amount; points: "
                                                  "`points_per_purchase`, each worth `point_value`"})
    percent = DecimalString(whole_digits=2, places=2, example="1.00", metadata={"description": "0 to 100"})
    points_per_purchase = Int(validate=validate.Range(min=0, max=100_000))
    point_value = DecimalString(whole_digits=4, places=4, example="0.0100",
                                metadata={"description": "money one given point is worth"})


class DonationsSchema(Schema):
    count = Int()
    points = Int()
    value = fields.String()


class ProgramSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=120))
    currency = fields.String(validate=validate.Regexp(r"^[A-Z]{3}$", error="ISO 4217 code, e.g. EUR."))
    default_locale = locale_field()
    timezone = time_zone_field()
    help_text = fields.String(validate=validate.Length(min=1, max=320))
    charity_name = fields.String(validate=validate.Length(min=1, max=120))
    points_per_currency_unit = Int(validate=validate.Range(min=0, max=1000))
    action_points = fields.Nested(ActionPointsSchema)
    reply_daily_cap = Int(validate=validate.Range(min=0, max=100))
    lot_lifetime_days = Int(validate=validate.Range(min=1, max=3650))
    qualifying_window_days = Int(validate=validate.Range(min=1, max=3650))
    max_purchase_amount = DecimalString(whole_digits=8, places=2, example="100000.00")
    quiet_hours = fields.Nested(QuietHoursSchema)
    # At least 1: a cap of 0 leaves no slot for any flow SMS (switch a flow off to send none).
    sms_daily_cap = Int(validate=validate.Range(min=1, max=100))
    sms_weekly_cap = Int(validate=validate.Range(min=1, max=700))
    phone_region = fields.String(allow_none=True, validate=validate.OneOf(
        phones.REGIONS, error="Not a region phone numbers are known for (ISO 3166 code, e.g. NL)."),
        metadata={"description": "region of numbers given without a country code"})
    max_sms_segments = Int(validate=validate.Range(min=1, max=10))
    giving_back = fields.Nested(GivingBackSchema, metadata={
        "description": "the program's own share of each purchase, given to a cause (never taken from "
                       "the member's points)"})
    donations = fields.Nested(DonationsSchema, dump_only=True)
