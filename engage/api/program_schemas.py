"""Shapes for the program, its tiers and its rewards catalog."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engage.api.fields import ID_MAX, Bool, DecimalString, Int, locale_field, time_zone_field
from engage.loyalty.items import MATCHES
from engage.messaging import phones

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_RULES = 50
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


class Moment(fields.DateTime):
    """An ISO 8601 date-time with its offset (a reward's dates are the same instant for every
    member, whatever their time zone), kept in UTC; answers give it back as text."""

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        moment = None
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.strip())
            except ValueError:
                pass
        if moment is None or moment.tzinfo is None:
            raise ValidationError("Not an ISO 8601 date-time with an offset (e.g. 2026-11-20T00:00:00+01:00).")
        if not 1900 <= moment.year <= 2999:
            raise ValidationError("Year out of range.")
        return moment.astimezone(timezone.utc)

    def _serialize(self, value, attr, obj, **kwargs):
        return value if isinstance(value, str) or value is None else value.isoformat()


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
    partner = fields.String(allow_none=True, validate=validate.Length(min=1, max=120), metadata={
        "description": "a partner reward: its codes come from this partner's pool (POST "
                       "/rewards/{reward_id}/codes, `engage rewards import-codes`), not from Engage"})
    low_codes_threshold = Int(allow_none=True, validate=validate.Range(min=0, max=1_000_000), metadata={
        "description": "admins are told when fewer partner codes are left (default 10 for a partner "
                       "reward; null: never)"})
    starts_at = Moment(allow_none=True, metadata={"description": "redeemable from (null: always was)"})
    ends_at = Moment(allow_none=True, metadata={"description": "redeemable until, excluded (null: no end)"})
    early_access_from = Moment(allow_none=True, metadata={
        "description": "members of `early_access_tiers` may redeem from here, before `starts_at`; "
                       "others do not see the reward before `starts_at`"})
    early_access_tiers = fields.List(fields.String(validate=validate.Length(min=1, max=60)),
                                     allow_none=True, validate=validate.Length(max=20),
                                     metadata={"description": "tier names"})
    stock = Int(allow_none=True, validate=validate.Range(min=0, max=10_000_000), metadata={
        "description": "units left, one taken per redemption (null: unlimited); 0: sold out (409)"})
    category = fields.String(allow_none=True, validate=validate.Length(min=1, max=60), metadata={
        "description": "the product category it applies to (a purchase item's category); null: any"})
    codes_left = Int(dump_only=True, allow_none=True, metadata={
        "description": "partner codes not handed out yet (null: not a partner reward)"})
    codes_low = Bool(dump_only=True, metadata={"description": "fewer codes left than low_codes_threshold"})


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


class ItemBonusSchema(Schema):
    """Extra points for items of one sku or category (engage.loyalty.items)."""

    match = fields.String(required=True, validate=validate.OneOf(MATCHES))
    value = fields.String(required=True, validate=validate.Length(min=1, max=64),
                          metadata={"description": "the sku or category (any case)"})
    multiplier = DecimalString(whole_digits=2, places=2, example="2", load_default=Decimal(1), metadata={
        "description": "the item's points times this (2: double points); at least 1"})
    points_per_unit = Int(load_default=0, validate=validate.Range(min=0, max=100_000),
                          metadata={"description": "extra points for each unit bought"})

    @validates_schema
    def _some_bonus(self, data, **_kwargs):
        if data.get("multiplier", Decimal(1)) < 1:
            raise ValidationError("At least 1.", "multiplier")


class OfferRuleSchema(Schema):
    """A member who bought the sku or category `times` times in `days` days is offered the reward
    for `cost` points, for `valid_days` days (engage.loyalty.offers)."""

    key = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,39}$", error=(
        "Lower-case letters, digits, - and _, up to 40.")), metadata={"description": "names the rule"})
    match = fields.String(required=True, validate=validate.OneOf(MATCHES))
    value = fields.String(required=True, validate=validate.Length(min=1, max=64),
                          metadata={"description": "the sku or category (any case)"})
    times = Int(required=True, validate=validate.Range(min=1, max=100))
    days = Int(required=True, validate=validate.Range(min=1, max=365))
    reward_id = Int(required=True, validate=validate.Range(min=1, max=ID_MAX))
    cost = Int(required=True, validate=validate.Range(min=0, max=10_000_000),
               metadata={"description": "the offer's price in points (fewer than the reward's own)"})
    valid_days = Int(required=True, validate=validate.Range(min=1, max=365))
    keyword = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9]{2,16}$", error=(
        "2 to 16 letters or digits.")), metadata={"description": "members text REDEEM <keyword>"})


def _distinct_rules(rules: list) -> None:
    for name in ("key", "keyword"):
        seen = [str(rule[name]).upper() for rule in rules]
        if len(set(seen)) != len(seen):
            raise ValidationError(f"Each offer rule needs its own {name}.")


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
    item_bonuses = fields.List(fields.Nested(ItemBonusSchema), validate=validate.Length(max=MAX_RULES), metadata={
        "description": "bonus points for purchase items by sku or category; the list replaces the stored one"})
    offer_rules = fields.List(fields.Nested(OfferRuleSchema), validate=[validate.Length(max=MAX_RULES),
                                                                         _distinct_rules], metadata={
        "description": "personalised offers; the list replaces the stored one"})
    donations = fields.Nested(DonationsSchema, dump_only=True)


class MemberRewardQuery(Schema):
    category = fields.String(validate=validate.Length(min=1, max=60), metadata={
        "description": "the category the member shops in: rewards scoped to another are not redeemable"})
    redeemable = fields.String(validate=validate.OneOf(("true", "false")), metadata={
        "description": "true: only the rewards the member can redeem now"})


class MemberRewardSchema(Schema):
    id = Int()
    name = fields.String(metadata={"description": "in the member's locale"})
    description = fields.String(allow_none=True)
    kind = fields.String()
    cost = Int()
    partner = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    ends_at = fields.String(allow_none=True, metadata={"description": "ISO 8601, or null: no end"})
    left = Int(allow_none=True, metadata={"description": "units or partner codes left (null: unlimited)"})
    redeemable = Bool(metadata={"description": "the member can redeem it now"})
    reason = fields.String(allow_none=True, metadata={"description": "why not, when not redeemable"})


class MemberRewardListSchema(Schema):
    items = fields.List(fields.Nested(MemberRewardSchema))
    next = fields.String(allow_none=True)


MAX_UPLOAD_CODES = 100_000


class RewardCodesUploadSchema(Schema):
    """Either `codes` or `csv`."""

    codes = fields.List(fields.String(validate=validate.Regexp(
        r"^[!-~]{1,32}$", error="1 to 32 printable ASCII characters, no spaces.")),
        validate=validate.Length(min=1, max=MAX_UPLOAD_CODES),
        metadata={"description": "the partner's codes"})
    csv = fields.String(validate=validate.Length(min=1, max=4_000_000), metadata={
        "description": "the partner's file as text: a `code` column (others ignored), or one code a line"})

    @validates_schema
    def _one_source(self, data, **kwargs) -> None:
        if ("codes" in data) == ("csv" in data):
            raise ValidationError("Send either codes or csv.", "_schema")


class RewardPoolSchema(Schema):
    reward_id = Int()
    reward = fields.String()
    partner = fields.String()
    total = Int(metadata={"description": "codes ever imported"})
    available = Int(metadata={"description": "codes not handed out yet"})
    handed_out = Int()
    low_codes_threshold = Int(allow_none=True)
    low = Bool(metadata={"description": "fewer codes available than low_codes_threshold"})


class RewardCodesImportSchema(RewardPoolSchema):
    imported = Int(metadata={"description": "codes added to the pool by this import"})
    already_in_pool = Int(metadata={"description": "codes the pool held already (an import repeated)"})
    repeated = Int(metadata={"description": "codes given twice in this import (counted once)"})
