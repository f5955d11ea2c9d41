"""The email layout (marketer): the HTML shell every flow's email goes into, per locale, with its
versions kept and restorable like the flows' templates."""

from __future__ import annotations

from marshmallow import Schema, fields

from engage import state
from engage.api.auth import requires
from engage.api.flows import (
    SavedVersionSchema,
    TemplateVersionPageSchema,
    author,
    restore_link,
    template_json,
    versions_page,
)
from engage.api.parser import Blueprint
from engage.api.schemas import PageQuery
from engage.services import flow_admin
from engage.templating import LAYOUT
from engage.templating.defaults import LAYOUT_FILES

blp = Blueprint("layouts", __name__, url_prefix="/api/v1/layouts",
                description="The layout every flow's email HTML is put into")

LAYOUT_PATH = "/<channel>/<locale>"
# Only email has a layout (any other channel is a 404).
LAYOUT_CHANNEL = [{"in": "path", "name": "channel", "required": True,
                   "schema": {"type": "string", "enum": list(LAYOUT_FILES)}}]
HTML = ("the layout's HTML; it outputs the flow's own HTML with {{ content }} and may use the "
        "flows' email variables (member, program, unsubscribe_url …)")


class LayoutPartsSchema(Schema):
    """email: html."""

    html = fields.String(metadata={"description": HTML})


class LayoutSchema(LayoutPartsSchema, SavedVersionSchema):
    """A layout's saved version (0: the shipped default)."""


@blp.get(LAYOUT_PATH, parameters=LAYOUT_CHANNEL)
@requires("marketer")
@blp.response(200, LayoutSchema)
def live_layout(channel, locale):
    """The live layout of a channel's messages in a locale (version 0: the shipped default)."""
    return template_json(flow_admin.get_template(state.session(), LAYOUT, channel, locale))


@blp.put(LAYOUT_PATH, parameters=LAYOUT_CHANNEL)
@requires("marketer")
@blp.arguments(LayoutPartsSchema())
@blp.response(200, LayoutSchema)
@blp.doc(**restore_link("/api/v1/layouts/{channel}/{locale}/versions/{version}/restore", ("channel", "locale")))
def save_layout(parts, channel, locale):
    """Validate and save a layout as its newest version; 422 lists each error with its line."""
    saved = flow_admin.save_template(state.session(), LAYOUT, channel, locale, parts, author(), state.now())
    return template_json(saved)


@blp.get(LAYOUT_PATH + "/versions", parameters=LAYOUT_CHANNEL)
@requires("marketer")
@blp.arguments(PageQuery(), location="query")
@blp.response(200, TemplateVersionPageSchema)
def layout_versions(query, channel, locale):
    """Every saved version of a layout, newest first."""
    return versions_page(LAYOUT, channel, locale, query)


@blp.post(LAYOUT_PATH + "/versions/<int:version>/restore", parameters=LAYOUT_CHANNEL)
@requires("marketer")
@blp.response(201, LayoutSchema)
def restore_layout(channel, locale, version):
    """Save an earlier version of a layout (0: the shipped default) again as the newest one."""
    restored = flow_admin.restore_version(state.session(), LAYOUT, channel, locale, version, author(),
                                          state.now())
    return template_json(restored)
