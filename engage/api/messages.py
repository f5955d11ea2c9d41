"""Messages, in and out: the outbox, delivery state and each member's conversation."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from engage import state
from engage.api import pagination
from engage.api.auth import requires
from engage.api.fields import ID_MAX, Bool, Int, QueryInt
from engage.api.parser import Blueprint
from engage.models import Message
from engage.store import members
from engage.vocabulary import Channel, Direction, MessageStatus

blp = Blueprint("messages", __name__, url_prefix="/api/v1", description="Messages (SMS and email)")


class MessageSchema(Schema):
    id = Int()
    member_id = Int(allow_none=True)
    direction = fields.String(validate=validate.OneOf(list(Direction)))
    flow = fields.String(allow_none=True)
    channel = fields.String(validate=validate.OneOf(list(Channel)))
    status = fields.String(validate=validate.OneOf(list(MessageStatus)))
    to = fields.String(attribute="to_address", allow_none=True)
    subject = fields.String(allow_none=True)
    body = fields.String()
    html = fields.String(allow_none=True)
    locale = fields.String(allow_none=True)
    send_after = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    provider_id = fields.String(allow_none=True)
    segments = Int(allow_none=True)
    encoding = fields.String(allow_none=True)
    attempts = Int()
    error = fields.String(allow_none=True)
    error_code = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    action = fields.String(allow_none=True, metadata={"description": "inbound: what the reply did"})
    in_reply_to_id = Int(allow_none=True)
    experiment_id = Int(allow_none=True, metadata={"description": "the experiment this flow message was part of"})
    variant = fields.String(allow_none=True, validate=validate.OneOf(["A", "B"]),
                            metadata={"description": "its variant in that experiment (kept after it stops)"})
    is_test = Bool()
    simulated = Bool(metadata={"description": "typed in (or answered by) the console's phone simulator"})
    created_at = fields.DateTime()


class MessagePageSchema(Schema):
    items = fields.List(fields.Nested(MessageSchema))
    next = fields.String(allow_none=True)


class MessageQuery(Schema):
    status = fields.String(validate=validate.OneOf(list(MessageStatus)))
    flow = fields.String(validate=validate.Length(max=40))
    member_id = QueryInt(validate=validate.Range(min=1, max=ID_MAX))
    channel = fields.String(validate=validate.OneOf(list(Channel)))
    direction = fields.String(validate=validate.OneOf(list(Direction)))
    limit = QueryInt(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = pagination.cursor_field()


def _filtered(query: dict):
    stmt = select(Message)
    for field in ("status", "flow", "member_id", "channel", "direction"):
        if field in query:
            stmt = stmt.where(getattr(Message, field) == query[field])
    return stmt


@blp.route("/messages")
class Messages(MethodView):
    @requires("marketer")
    @blp.arguments(MessageQuery(), location="query")
    @blp.response(200, MessagePageSchema)
    def get(self, query):
        """Messages, newest first, filtered by status, flow, member, channel or direction."""
        rows, cursor = pagination.page(state.session(), _filtered(query), Message.id, query["limit"],
                                       query.get("cursor"))
        return {"items": rows, "next": cursor}


@blp.route("/members/<int:member_id>/messages")
class MemberMessages(MethodView):
    @requires("integration")
    @blp.arguments(MessageQuery(), location="query")
    @blp.response(200, MessagePageSchema)
    def get(self, query, member_id):
        """One member's conversation: outbound and inbound messages in one thread, newest first.

        An erased member's thread still answers, with statuses and no contents."""
        session = state.session()
        members.known(session, member_id)
        query = {**query, "member_id": member_id}
        rows, cursor = pagination.page(session, _filtered(query), Message.id, query["limit"], query.get("cursor"))
        return {"items": rows, "next": cursor}
