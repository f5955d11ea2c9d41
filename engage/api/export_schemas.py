"""The shape of a member's data export (GET /members/{id}/export), for the OpenAPI document and
for writing it out section by section."""

from __future__ import annotations

from marshmallow import Schema, fields

from engage.api.messages import MessageSchema
from engage.api.schemas import LedgerEntrySchema, MemberSchema


class ExportedMemberSchema(MemberSchema):
    external_id = fields.String(allow_none=True, metadata={"description": "null once erased"})
    referred_by_id = fields.Integer(allow_none=True, metadata={"description": "the member who referred them"})
    erased_at = fields.DateTime(allow_none=True, metadata={"description": "set once the member was erased"})


class ConsentEventSchema(Schema):
    id = fields.Integer()
    channel = fields.String()
    change = fields.String(metadata={"description": "consent_given, consent_withdrawn, opt_out or opt_in"})
    source = fields.String(metadata={"description": "where it came from, e.g. api:enrol, sms:STOP"})
    at = fields.DateTime()


class SuppressionSchema(Schema):
    id = fields.Integer()
    channel = fields.String()
    reason = fields.String()
    created_at = fields.DateTime()


class ExportedLedgerEntrySchema(LedgerEntrySchema):
    created_at = fields.DateTime()


class LotSchema(Schema):
    id = fields.Integer()
    ledger_entry_id = fields.Integer()
    points = fields.Integer()
    remaining = fields.Integer()
    earned_at = fields.DateTime()
    expires_at = fields.DateTime()


class ExportedEventSchema(Schema):
    id = fields.Integer()
    type = fields.String()
    amount = fields.Decimal(as_string=True, allow_none=True)
    currency = fields.String(allow_none=True)
    occurred_at = fields.DateTime()
    created_at = fields.DateTime()
    points_awarded = fields.Integer()


class ExportedItemSchema(Schema):
    id = fields.Integer()
    event_id = fields.Integer()
    sku = fields.String()
    name = fields.String()
    category = fields.String(allow_none=True)
    quantity = fields.Integer()
    amount = fields.Decimal(as_string=True)
    occurred_at = fields.DateTime()


class ExportedOfferSchema(Schema):
    id = fields.Integer()
    rule_key = fields.String()
    reward_id = fields.Integer()
    product = fields.String()
    cost = fields.Integer()
    keyword = fields.String()
    created_at = fields.DateTime()
    ends_at = fields.DateTime()
    redemption_id = fields.Integer(allow_none=True)


class ExportedRedemptionSchema(Schema):
    id = fields.Integer()
    reward_id = fields.Integer()
    reward = fields.String()
    kind = fields.String()
    points = fields.Integer(metadata={"description": "points spent"})
    value = fields.Decimal(as_string=True, allow_none=True)
    coupon_code = fields.String(allow_none=True)
    created_at = fields.DateTime()


class FeedbackSchema(Schema):
    id = fields.Integer()
    request_message_id = fields.Integer(allow_none=True)
    inbound_message_id = fields.Integer(allow_none=True)
    rating = fields.Integer(allow_none=True)
    text = fields.String(allow_none=True)
    created_at = fields.DateTime()


class IdempotencyRecordSchema(Schema):
    id = fields.Integer()
    scope = fields.String(metadata={"description": "events or redemptions"})
    key = fields.String(metadata={"description": "the Idempotency-Key the shop sent"})
    status_code = fields.Integer()
    response = fields.Dict(metadata={"description": "the answer replayed for the key"})
    created_at = fields.DateTime()


class ExportedMessageSchema(MessageSchema):
    from_ = fields.String(data_key="from", attribute="from_address", allow_none=True)
    dedupe_key = fields.String(allow_none=True)
    priority = fields.Integer()
    exempt = fields.Boolean()
    claimed_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime()
    data = fields.Dict(metadata={"description": "details: what a reply did, MMS links, template variables"})


class MemberExportSchema(Schema):
    """Everything held about the member; every list oldest first."""

    exported_at = fields.DateTime()
    member = fields.Nested(ExportedMemberSchema)
    consent_events = fields.List(fields.Nested(ConsentEventSchema), metadata={
        "description": "every consent and opt-out change (the consent history)"})
    suppressions = fields.List(fields.Nested(SuppressionSchema), metadata={
        "description": "suppressions of the member's current number and address"})
    ledger = fields.List(fields.Nested(ExportedLedgerEntrySchema))
    lots = fields.List(fields.Nested(LotSchema))
    events = fields.List(fields.Nested(ExportedEventSchema), metadata={"description": "purchases and actions"})
    purchase_items = fields.List(fields.Nested(ExportedItemSchema), metadata={
        "description": "the line items of purchases"})
    offers = fields.List(fields.Nested(ExportedOfferSchema), metadata={"description": "personalised offers"})
    redemptions = fields.List(fields.Nested(ExportedRedemptionSchema), metadata={"description": "with coupon codes"})
    feedback = fields.List(fields.Nested(FeedbackSchema))
    idempotency_records = fields.List(fields.Nested(IdempotencyRecordSchema))
    messages = fields.List(fields.Nested(ExportedMessageSchema), metadata={
        "description": "in and out, with addresses, contents, statuses and provider ids"})


# The schema of one row of each section, in the order the export writes them.
SECTION_SCHEMAS = {name: field.inner.schema for name, field in MemberExportSchema().fields.items()
                   if isinstance(field, fields.List)}
