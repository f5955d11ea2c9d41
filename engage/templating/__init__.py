"""Message templates: defaults, a hardened Jinja sandbox, validation and rendering.

Pure: no Flask and no database. Callers pass plain dicts or simple objects as context.
"""

from engage.templating.defaults import (
    FLOW_KEYS,
    LAYOUT,
    REPLY_KEYS,
    SUPPORTED_LOCALES,
    UnknownTemplateError,
    default_template,
    locale_chain,
    reply_text,
    resolve_locale,
)
from engage.templating.render import (
    RenderedMessage,
    TemplateRenderError,
    render_message,
    render_part,
    render_reply,
    sample_context,
)
from engage.templating.validation import (
    TemplateError,
    sms_segments,
    validate_layout,
    validate_reply,
    validate_template,
)
from engage.templating.variables import variables_for

__all__ = [
    "FLOW_KEYS",
    "LAYOUT",
    "REPLY_KEYS",
    "SUPPORTED_LOCALES",
    "RenderedMessage",
    "TemplateError",
    "TemplateRenderError",
    "UnknownTemplateError",
    "default_template",
    "locale_chain",
    "render_message",
    "render_part",
    "render_reply",
    "reply_text",
    "resolve_locale",
    "sample_context",
    "sms_segments",
    "validate_layout",
    "validate_reply",
    "validate_template",
    "variables_for",
]
