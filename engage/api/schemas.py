"""Request and response shapes (marshmallow); they also make the OpenAPI document."""

from __future__ import annotations

from datetime import datetime

from marshmallow import Schema, ValidationError, fields, validate

from engage.api import pagination
from engage.api.fields import (
    ID_MAX,
    Bool,
    DecimalString,
    Int,
    QueryInt,
    locale_field,
    time_zone_field,
)
from engage.services import adjustments
from engage.vocabulary import LedgerKind

EVENT_TYPES = ("purchase", "review", "newsletter_signup", "social_follow", "feedback")


class ConsentSchema(Schema):
    """Enrolment states both consents: neither is assumed (docs/api.md, `POST /members`)."""

    sms = Bool(required=True)
    email = Bool(required=True)


class ConsentPatchSchema(Schema):
    sms = Bool()
    email = Bool()


class ContactFields(Schema):
    last_name = fields.String(allow_none=True, validate=validate.Length(max=100))
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(allow_none=True, validate=validate.Length(max=32),
                          metadata={"description": "E.164, e.g. +31612345678"})
    locale = locale_field(allow_none=True)
    timezone = time_zone_field(allow_none=True)


class MemberCreateSchema(ContactFields):
    external_id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    first_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    consent = fields.Nested(ConsentSchema, required=True)
    referral_code = fields.String(allow_none=True, validate=validate.Length(max=16))


class MemberPatchSchema(ContactFields):
    first_name = fields.String(validate=validate.Length(min=1, max=100))
    consent = fields.Nested(ConsentPatchSchema, metadata={
        "description": "email: true also lifts an email opt-out (STOP by email, unsubscribe link); "
                       "an SMS opt-out is lifted only by the member texting START."})


class NextTierSchema(Schema):
    name = fields.String()
    points_needed = Int()


class ExpiringSchema(Schema):
    points = Int()
    date = fields.String(metadata={"description": "ISO date, program time zone"})


class MemberSchema(Schema):
    id = Int()
    external_id = fields.String()
    first_name = fields.String()
    last_name = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    locale = fields.String(allow_none=True)
    timezone = fields.String(allow_none=True)
    consent = fields.Nested(ConsentSchema)
    opted_out = fields.Nested(ConsentSchema)
    points = Int()
    tier = fields.String()
    qualifying_points = Int()
    next_tier = fields.Nested(NextTierSchema, allow_none=True)
    expiring = fields.Nested(ExpiringSchema, allow_none=True)
    referral_code = fields.String()
    created_at = fields.DateTime()


class MemberListQuery(Schema):
    external_id = fields.String(validate=validate.Length(min=1, max=128))
    limit = QueryInt(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = pagination.cursor_field()


class PageQuery(Schema):
    limit = QueryInt(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = pagination.cursor_field()


class Instant(fields.DateTime):
    """ISO 8601: a date-time with an offset, or without one (then the program's wall clock, applied
    by the service, which knows the program), or a date alone (its midnight there)."""

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        if not isinstance(value, str):
            raise ValidationError("Not an ISO 8601 date or date-time.")
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError("Not an ISO 8601 date or date-time (e.g. 2026-06-01T10:00:00+02:00).") from None
        if not 1900 <= moment.year <= 2999:  # also keeps time zone arithmetic clear of year 1 and 9999
            raise ValidationError("Year out of range.")
        return moment


MAX_ITEMS = 100


class ItemSchema(Schema):
    """One line of a purchase."""

    sku = fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = fields.String(required=True, validate=validate.Length(min=1, max=120),
                         metadata={"description": "the product's name, as offers and their messages show it"})
    category = fields.String(allow_none=True, validate=validate.Length(min=1, max=64))
    quantity = Int(load_default=1, validate=validate.Range(min=1, max=10_000))
    amount = DecimalString(whole_digits=9, places=2, example="8.50", required=True,
                           metadata={"description": "the line's total (not the unit price)"})


class EventCreateSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(EVENT_TYPES))
    amount = DecimalString(whole_digits=9, places=6, example="25.90", allow_none=True, metadata={
        "description": "purchases only; at most the program's max_purchase_amount"})
    currency = fields.String(allow_none=True, validate=validate.Regexp(r"^[A-Za-z]{3}$",
                             error="Must be an ISO 4217 code such as EUR."))
    occurred_at = Instant(allow_none=True, metadata={
        "description": "ISO 8601; without an offset, the program's time zone. Default: now."})
    items = fields.List(fields.Nested(ItemSchema), validate=validate.Length(max=MAX_ITEMS), metadata={
        "description": "purchases only: the line items, for item bonuses and personalised offers"})


class EventResultSchema(Schema):
    id = Int()
    points_awarded = Int()
    points = Int()
    tier = fields.String()
    message = fields.String()


class RedemptionCreateSchema(Schema):
    reward_id = Int(required=True, validate=validate.Range(min=1, max=ID_MAX))
    category = fields.String(validate=validate.Length(min=1, max=60), metadata={
        "description": "the product category the reward is used on; a reward scoped to another "
                       "category is refused (422). Omitted: not checked."})


class RedemptionSchema(Schema):
    id = Int()
    reward_id = Int()
    reward = fields.String()
    kind = fields.String()
    coupon_code = fields.String(allow_none=True, metadata={
        "description": "Engage's own code, or for a partner reward the partner's code from its pool"})
    partner = fields.String(allow_none=True, metadata={"description": "whose code it is (partner rewards)"})
    points_spent = Int()
    value = fields.String(allow_none=True)
    points = Int()
    created_at = fields.String()


class OfferSchema(Schema):
    id = Int()
    rule = fields.String(metadata={"description": "the offer rule that made it (program setting offer_rules)"})
    reward_id = Int()
    reward = fields.String()
    product = fields.String(metadata={"description": "the name of the product the member kept buying"})
    cost = Int(metadata={"description": "points this offer costs"})
    regular_cost = Int(metadata={"description": "the reward's catalog cost"})
    keyword = fields.String(metadata={"description": "text REDEEM <keyword> to redeem it"})
    created_at = fields.DateTime()
    ends_at = fields.DateTime()
    status = fields.String(validate=validate.OneOf(["open", "redeemed", "ended"]))
    redemption_id = Int(allow_none=True)


class OfferPageSchema(Schema):
    items = fields.List(fields.Nested(OfferSchema))
    next = fields.String(allow_none=True)


class OfferRedemptionSchema(RedemptionSchema):
    offer_id = Int()


class AdjustmentCreateSchema(Schema):
    points = Int(required=True, validate=[
        validate.Range(min=-adjustments.MAX_POINTS, max=adjustments.MAX_POINTS),
        validate.NoneOf([0], error="Must not be 0.")], metadata={
        "description": "signed: positive adds (a new lot), negative takes (oldest lots first); never 0",
        "not": {"enum": [0]}})
    reason = fields.String(required=True, validate=[
        validate.Length(min=1, max=adjustments.MAX_REASON_CHARS),
        validate.Regexp(r"^\s*\S", error="Say why (not only spaces).")], metadata={
        "description": "why, for the audit log and the member's ledger"})


class AdjustmentSchema(Schema):
    id = Int(metadata={"description": "the ledger entry"})
    points = Int()
    balance = Int(metadata={"description": "the member's points afterwards"})


class LedgerEntrySchema(Schema):
    id = Int()
    points = Int()
    kind = fields.String(validate=validate.OneOf(list(LedgerKind)))
    reason = fields.String()
    source = fields.String()
    occurred_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)


class LedgerPageSchema(Schema):
    items = fields.List(fields.Nested(LedgerEntrySchema))
    next = fields.String(allow_none=True)


class MemberPageSchema(Schema):
    items = fields.List(fields.Nested(MemberSchema))
    next = fields.String(allow_none=True)
