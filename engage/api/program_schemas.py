"""Shapes for the program, its tiers and its rewards catalog."""

from __future__ import annotations

import re

from marshmallow import Schema, ValidationError, fields, validate, validates

from engage.api.schemas import _check_locale, _check_timezone

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
REWARD_KINDS = ("discount", "free_shipping", "donation", "early_access", "gift")


class TierSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(validate=validate.Length(min=1, max=60))
    threshold = fields.Integer(validate=validate.Range(min=0, max=10_000_000))
    multiplier = fields.Decimal(as_string=True, validate=validate.Range(min=0, max=100))
    benefits = fields.List(fields.String(validate=validate.Length(max=200)), validate=validate.Length(max=20))


class RewardPatchSchema(Schema):
    """Every field optional: change only what is sent."""

    id = fields.Integer(dump_only=True)
    name = fields.String(validate=validate.Length(min=1, max=120))
    kind = fields.String(validate=validate.OneOf(REWARD_KINDS))
    cost = fields.Integer(strict=True, validate=validate.Range(min=0, max=10_000_000))
    min_tier = fields.String(allow_none=True, metadata={"description": "tier name, or null"})
    value = fields.Decimal(allow_none=True, as_string=True, validate=validate.Range(min=0, max=1_000_000))
    active = fields.Boolean()


class RewardSchema(RewardPatchSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    kind = fields.String(required=True, validate=validate.OneOf(REWARD_KINDS))
    cost = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=10_000_000))


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
    signup = fields.Integer(validate=validate.Range(min=0, max=1_000_000))
    newsletter_signup = fields.Integer(validate=validate.Range(min=0, max=1_000_000))
    social_follow = fields.Integer(validate=validate.Range(min=0, max=1_000_000))
    review = fields.Integer(validate=validate.Range(min=0, max=1_000_000))
    feedback = fields.Integer(validate=validate.Range(min=0, max=1_000_000))
    reply = fields.Integer(validate=validate.Range(min=0, max=1_000_000))
    referral = fields.Integer(validate=validate.Range(min=0, max=1_000_000))


class DonationsSchema(Schema):
    count = fields.Integer()
    points = fields.Integer()
    value = fields.String()


class ProgramSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=120))
    currency = fields.String(validate=validate.Regexp(r"^[A-Z]{3}$", error="ISO 4217 code, e.g. EUR."))
    default_locale = fields.String(validate=_check_locale)
    timezone = fields.String(validate=_check_timezone)
    help_text = fields.String(validate=validate.Length(min=1, max=320))
    charity_name = fields.String(validate=validate.Length(min=1, max=120))
    points_per_currency_unit = fields.Integer(validate=validate.Range(min=0, max=1000))
    action_points = fields.Nested(ActionPointsSchema)
    reply_daily_cap = fields.Integer(validate=validate.Range(min=0, max=100))
    lot_lifetime_days = fields.Integer(validate=validate.Range(min=1, max=3650))
    qualifying_window_days = fields.Integer(validate=validate.Range(min=1, max=3650))
    max_purchase_amount = fields.Decimal(as_string=True, validate=validate.Range(min=0, max=100_000_000))
    quiet_hours = fields.Nested(QuietHoursSchema)
    # At least 1: a cap of 0 leaves no slot for any flow SMS (switch a flow off to send none).
    sms_daily_cap = fields.Integer(validate=validate.Range(min=1, max=100))
    sms_weekly_cap = fields.Integer(validate=validate.Range(min=1, max=700))
    phone_region = fields.String(allow_none=True, validate=validate.Regexp(r"^[A-Z]{2}$"))
    max_sms_segments = fields.Integer(validate=validate.Range(min=1, max=10))
    donations = fields.Nested(DonationsSchema, dump_only=True)

    @validates("max_purchase_amount")
    def _finite(self, value, **_kwargs):
        if not value.is_finite():
            raise ValidationError("Must be a finite number.")
