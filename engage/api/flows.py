"""Flows (marketer): settings, templates per channel and locale with their versions, previews
against a real member, and test sends."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate

from engage import state
from engage.api import pagination
from engage.api.auth import requires
from engage.api.fields import ID_MAX, Bool, Int, locale_field
from engage.api.messages import MessageSchema
from engage.api.parser import Blueprint
from engage.api.schemas import PageQuery
from engage.messaging import flow_params
from engage.models import TemplateVersion
from engage.services import flow_admin, flow_preview
from engage.services.audit import Actor
from engage.templating import FLOW_KEYS
from engage.vocabulary import Channel

blp = Blueprint("flows", __name__, url_prefix="/api/v1/flows",
                description="Lifecycle flows: settings, templates, previews and test sends")

CHANNEL = validate.OneOf(list(Channel))
TEMPLATE = "/<key>/templates/<channel>/<locale>"
# The path's names, declared (any other is a 404): a client or a fuzzer reads which exist.
FLOW_KEY = {"in": "path", "name": "key", "required": True,
            "schema": {"type": "string", "enum": list(FLOW_KEYS)}}
CHANNEL_PATH = {"in": "path", "name": "channel", "required": True,
                "schema": {"type": "string", "enum": list(Channel)}}
# Each flow's parameters with their types, bounds and defaults, from the flows' dataclasses.
PARAMS_DOC = {"anyOf": [flow_params.json_schema(flow) for flow in flow_params.PARAMS]}


def _distinct(values: list) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("List each channel once.")


class FlowSchema(Schema):
    key = fields.String()
    enabled = Bool()
    channels = fields.List(fields.String(), metadata={"description": "in order of preference"})
    delay = Int(metadata={"description": "seconds between the trigger and the message"})
    params = fields.Dict(keys=fields.String(), metadata={
        "description": "the flow's parameters: those of the schema titled with its key", **PARAMS_DOC})


class FlowPageSchema(Schema):
    items = fields.List(fields.Nested(FlowSchema))
    next = fields.String(allow_none=True)


class FlowPatchSchema(Schema):
    enabled = Bool()
    channels = fields.List(fields.String(validate=CHANNEL), validate=[validate.Length(min=1), _distinct],
                           metadata={"uniqueItems": True, "description": "in order of preference, each once"})
    delay = Int(validate=validate.Range(min=0, max=flow_admin.MAX_DELAY_SECONDS),
                metadata={"description": "seconds, at most 90 days"})
    params = fields.Dict(keys=fields.String(), metadata={
        "description": "merged into the current ones; only those of the schema titled with the flow's key "
                       "(422 for any other name or an invalid value)", **PARAMS_DOC})


class TemplatePartsSchema(Schema):
    """sms: body; email: subject, html and text."""

    body = fields.String()
    subject = fields.String()
    html = fields.String()
    text = fields.String()


class SavedVersionSchema(Schema):
    """Whose version it is and who saved it: a flow template's, or the email layout's."""

    channel = fields.String()
    locale = fields.String()
    version = Int(metadata={"description": "0 is the shipped default"})
    created_at = fields.DateTime(allow_none=True)
    created_by = fields.String(allow_none=True, metadata={"description": "name of the API key"})
    restored_from = Int(allow_none=True)


class TemplateWarningSchema(Schema):
    """Something to fix that does not stop a save (the welcome SMS's opt-out wording does)."""

    code = fields.String(metadata={"enum": ["no_opt_out"], "description": "no_opt_out: an SMS without "
                                   "an opt-out keyword (STOP …) in capitals"})
    message = fields.String(metadata={"description": "what to add, in the template's language"})


def warnings_field() -> fields.List:
    return fields.List(fields.Nested(TemplateWarningSchema), metadata={
        "description": "what a marketer should fix but may save (empty when nothing)"})


class TemplateSchema(TemplatePartsSchema, SavedVersionSchema):
    flow = fields.String()
    warnings = warnings_field()


class TemplateVersionSchema(Schema):
    version = Int()
    created_at = fields.DateTime()
    created_by = fields.String(allow_none=True)
    restored_from = Int(allow_none=True)
    parts = fields.Dict(keys=fields.String(), values=fields.String())


class TemplateVersionPageSchema(Schema):
    items = fields.List(fields.Nested(TemplateVersionSchema))
    next = fields.String(allow_none=True)


class PreviewRequestSchema(TemplatePartsSchema):
    member_id = Int(required=True, validate=validate.Range(min=1, max=ID_MAX))
    channel = fields.String(required=True, validate=CHANNEL)
    locale = locale_field(metadata={"description": "default: the member's own"})


class PreviewSchema(Schema):
    flow = fields.String()
    channel = fields.String()
    locale = fields.String(metadata={"description": "the template's locale"})
    subject = fields.String()
    body = fields.String(metadata={"description": "SMS text, or the email's plain-text part"})
    html = fields.String()
    segments = Int(allow_none=True, metadata={"description": "SMS only"})
    encoding = fields.String(allow_none=True, metadata={"description": "SMS only: GSM-7 or UCS-2"})
    warnings = warnings_field()


class TestSendSchema(Schema):
    member_id = Int(required=True, validate=validate.Range(min=1, max=ID_MAX))
    channel = fields.String(validate=CHANNEL, metadata={"description": "default: the flow's channels"})


def template_json(version: dict) -> dict:
    """A saved version as the API shows it: its parts beside its other fields."""
    return {**{k: v for k, v in version.items() if k != "parts"}, **version["parts"]}


def restore_link(restore_path: str, names: tuple[str, ...]) -> dict:
    """OpenAPI link from saving a template (or layout) to restoring the version the save answered:
    a client, or schemathesis' stateful phase, can follow it."""
    pointer = restore_path.replace("~", "~0").replace("/", "~1")
    parameters = {**{name: f"$request.path.{name}" for name in names}, "version": "$response.body#/version"}
    return {"responses": {200: {"links": {"RestoreThisVersion": {  # 200: flask-smorest keys statuses as ints
        "operationRef": f"#/paths/{pointer}/post", "parameters": parameters,
        "description": "save this version again as the newest (after later saves)"}}}}}


def author() -> str | None:
    """Name of the API key making the request: who saved a version."""
    key = g.get("api_key")
    return key.name if key is not None else None


def versions_page(flow: str, channel: str, locale: str, query: dict) -> dict:
    """A page of a template's saved versions (also the layout's), newest first."""
    stmt = flow_admin.template_versions(flow, channel, locale)
    rows, cursor = pagination.page(state.session(), stmt, TemplateVersion.id, query["limit"],
                                   query.get("cursor"))
    return {"items": [flow_admin.version_json(row) for row in rows], "next": cursor}


@blp.route("")
class Flows(MethodView):
    @requires("marketer")
    @blp.response(200, FlowPageSchema)
    def get(self):
        """The lifecycle flows with their settings."""
        return {"items": flow_admin.list_flows(state.session()), "next": None}


@blp.route("/<key>", parameters=[FLOW_KEY])
class FlowItem(MethodView):
    @requires("marketer")
    @blp.response(200, FlowSchema)
    def get(self, key):
        """One flow's settings."""
        return flow_admin.get_flow(state.session(), key)

    @requires("marketer")
    @blp.arguments(FlowPatchSchema())
    @blp.response(200, FlowSchema)
    def patch(self, data, key):
        """Switch a flow on or off; change its channels, delay or parameters (audited)."""
        actor = Actor(name=f"key:{g.api_key.name}")  # a machine: the audit log names its key
        return flow_admin.update_flow(state.session(), key, data, state.now(), actor)


@blp.route(TEMPLATE, parameters=[FLOW_KEY, CHANNEL_PATH])
class FlowTemplate(MethodView):
    @requires("marketer")
    @blp.response(200, TemplateSchema)
    def get(self, key, channel, locale):
        """The live template for a channel and locale (version 0: the shipped default)."""
        return template_json(flow_admin.get_template(state.session(), key, channel, locale))

    @requires("marketer")
    @blp.arguments(TemplatePartsSchema())
    @blp.response(200, TemplateSchema)
    @blp.doc(**restore_link("/api/v1/flows/{key}/templates/{channel}/{locale}/versions/{version}/restore",
                            ("key", "channel", "locale")))
    def put(self, parts, key, channel, locale):
        """Validate and save a template as its newest version; 422 lists each error with its line."""
        saved = flow_admin.save_template(state.session(), key, channel, locale, parts, author(), state.now())
        return template_json(saved)


@blp.route(TEMPLATE + "/versions", parameters=[FLOW_KEY, CHANNEL_PATH])
class FlowTemplateVersions(MethodView):
    @requires("marketer")
    @blp.arguments(PageQuery(), location="query")
    @blp.response(200, TemplateVersionPageSchema)
    def get(self, query, key, channel, locale):
        """Every saved version of a template, newest first."""
        return versions_page(key, channel, locale, query)


@blp.route(TEMPLATE + "/versions/<int:version>/restore", parameters=[FLOW_KEY, CHANNEL_PATH])
class FlowTemplateRestore(MethodView):
    @requires("marketer")
    @blp.response(201, TemplateSchema)
    def post(self, key, channel, locale, version):
        """Save an earlier version (0: the shipped default) again as the newest one."""
        restored = flow_admin.restore_version(state.session(), key, channel, locale, version, author(),
                                              state.now())
        return template_json(restored)


@blp.route("/<key>/preview", parameters=[FLOW_KEY])
class FlowPreview(MethodView):
    @requires("marketer")
    @blp.arguments(PreviewRequestSchema())
    @blp.response(200, PreviewSchema)
    def post(self, data, key):
        """Render the live template, or a draft, for a real member, with SMS segments and encoding."""
        return flow_preview.preview(state.session(), key, data, state.now())


@blp.route("/<key>/test", parameters=[FLOW_KEY])
class FlowTestSend(MethodView):
    @requires("marketer")
    @blp.arguments(TestSendSchema())
    @blp.response(201, MessageSchema)
    def post(self, data, key):
        """Queue one real test message to a member (201 with status `suppressed` if they can't get it)."""
        return flow_preview.send_test(state.session(), key, data["member_id"], data.get("channel"),
                                      state.now(), author())
