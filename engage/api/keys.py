"""API keys (admin): list, create (the key is shown once), revoke."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from engage import state
from engage.api.auth import requires
from engage.api.parser import Blueprint
from engage.services import keys

blp = Blueprint("keys", __name__, url_prefix="/api/v1", description="API keys (admin)")


class KeySchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    role = fields.String(required=True, validate=validate.OneOf(keys.ROLES))
    prefix = fields.String(dump_only=True, metadata={"description": "the key's first characters, to tell keys apart"})
    created_at = fields.DateTime(dump_only=True)
    last_used_at = fields.DateTime(dump_only=True, allow_none=True, metadata={
        "description": "when the key last authenticated a request, to the minute (null: never)"})
    revoked_at = fields.DateTime(dump_only=True, allow_none=True)


class KeyCreatedSchema(KeySchema):
    key = fields.String(dump_only=True, metadata={"description": "the key itself: shown this once, never again"})


class KeyListSchema(Schema):
    items = fields.List(fields.Nested(KeySchema))
    next = fields.String(allow_none=True)


@blp.route("/keys")
class Keys(MethodView):
    @requires("admin")
    @blp.response(200, KeyListSchema)
    def get(self):
        """Every key, revoked ones too (never the key itself: only its hash is stored)."""
        return {"items": keys.listed(state.session()), "next": None}

    @requires("admin")
    @blp.arguments(KeySchema())
    @blp.response(201, KeyCreatedSchema)
    def post(self, data):
        """Create a key; the answer holds the key itself, the only time it is shown."""
        row, key = keys.issue(state.session(), data["role"], data["name"], state.now())
        shown = {name: getattr(row, name) for name in ("id", "name", "role", "prefix", "created_at", "last_used_at",
                                                       "revoked_at")}
        return {**shown, "key": key}


@blp.route("/keys/<int:key_id>")
class KeyItem(MethodView):
    @requires("admin")
    @blp.response(204)
    @blp.alt_response(404, description="no such key")
    @blp.alt_response(409, description="a key cannot revoke itself")
    def delete(self, key_id):
        """Revoke a key for good: it answers 401 from then on (other processes: within 30 s)."""
        keys.revoke(state.session(), key_id, state.now(), by=g.api_key.id)
