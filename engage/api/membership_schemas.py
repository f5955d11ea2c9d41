"""Shapes for paid memberships and the causes' running totals."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from engage.api.fields import Bool, DecimalString, Int
from engage.api.schemas import Instant


class MembershipCreateSchema(Schema):
    payment_reference = fields.String(required=True, validate=validate.Length(min=1, max=120), metadata={
        "description": "the shop's payment id: the same reference again buys nothing twice (same answer)"})
    tier = fields.String(required=True, validate=validate.Length(min=1, max=60),
                         metadata={"description": "a paid tier's name"})
    months = Int(validate=validate.Range(min=1, max=120), metadata={
        "description": "the period in calendar months (or give ends_at)"})
    starts_at = Instant(metadata={"description": "default: now, or when the same tier's current "
                                                 "membership ends (a renewal bought early)"})
    ends_at = Instant(metadata={"description": "the period's end (or give months)"})
    price = DecimalString(whole_digits=8, places=2, example="9.99", required=True)
    currency = fields.String(validate=validate.Regexp(r"^[A-Za-z]{3}$", error="Must be an ISO 4217 code such as EUR."),
                             metadata={"description": "default: the program's"})


class MembershipSchema(Schema):
    id = Int()
    member_id = Int()
    tier = fields.String()
    payment_reference = fields.String()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    price = fields.String()
    currency = fields.String()
    status = fields.String(metadata={"description": "active | cancelled | refunded"})
    cancelled_at = fields.DateTime(allow_none=True)
    lapsed_at = fields.DateTime(allow_none=True, metadata={"description": "when the daily sweep saw it end"})


class MembershipListSchema(Schema):
    items = fields.List(fields.Nested(MembershipSchema))
    next = fields.String(allow_none=True)


class MembershipCancelSchema(Schema):
    refund = Bool(load_default=False, metadata={"description": "the shop refunded it (status refunded)"})


class CauseSchema(Schema):
    cause = fields.String()
    total = fields.String(metadata={"description": "money given, program's currency"})
    currency = fields.String()
    points = Int(metadata={"description": "points given (donation rewards, points-mode shares)"})
    purchases = Int(metadata={"description": "purchases that gave a share"})
    donations = Int(metadata={"description": "members' donation rewards"})
    from_purchases = fields.String(metadata={"description": "the program's share of purchases, in money"})


class CauseListSchema(Schema):
    items = fields.List(fields.Nested(CauseSchema))
    next = fields.String(allow_none=True)
