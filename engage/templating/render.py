"""Rendering flow messages and SMS replies from template sources.

Every failure inside a template (syntax, undefined variable, sandbox violation, resource
limit, a filter given a bad value) surfaces as TemplateRenderError naming the part and line, so
callers catch one exception and bad marketer input never becomes a 500.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateSyntaxError
from markupsafe import Markup

from engage.templating import defaults, limits
from engage.templating.defaults import LAYOUT
from engage.templating.environment import HTML_FIELDS, compile_template
from engage.templating.filters import LOCALE_KEY
from engage.templating.samples import sample_context
from engage.templating.variables import Fields, project_context, variables_for

__all__ = [
    "RenderedMessage",
    "TemplateRenderError",
    "render_message",
    "render_part",
    "render_reply",
    "sample_context",
]

# A flow's HTML that is a whole document already (a version saved before the shared layout held
# the shell itself) is sent as it is, not wrapped in a second shell.
_WHOLE_DOCUMENT = re.compile(r"<(!doctype|html)\b", re.IGNORECASE)


@dataclass(frozen=True)
class RenderedMessage:
    subject: str | None
    body: str  # SMS text, or the plain-text part of an email
    html: str | None


class TemplateRenderError(Exception):
    """A template part could not be rendered."""

    def __init__(self, field: str, message: str, line: int | None = None) -> None:
        where = f" (line {line})" if line else ""
        super().__init__(f"{field}{where}: {message}")
        self.field, self.message, self.line = field, message, line


def render_message(
    channel: str, parts: Mapping[str, str], context: Mapping[str, Any], locale: str
) -> RenderedMessage:
    """Render a flow template: sms parts {"body"}, email parts {"subject", "html", "text"} and
    optionally LAYOUT, the source of the layout the rendered HTML is put into."""
    allowed = variables_for(channel)

    def part(field: str) -> str:
        source = parts.get(field)
        if not isinstance(source, str):
            raise TemplateRenderError(field, f"{field} is missing")
        return render_part(field, source, context, locale, allowed)

    if channel == "sms":
        return RenderedMessage(subject=None, body=part("body"), html=None)
    if channel != "email":
        raise ValueError(f"unknown channel {channel!r}")
    subject, text, html = part("subject"), part("text"), part("html")
    layout = parts.get(LAYOUT)
    if isinstance(layout, str) and not _WHOLE_DOCUMENT.match(html):
        names = variables_for("email", layout=True)
        html = render_part(LAYOUT, layout, context, locale, names, content=html)
    return RenderedMessage(subject=subject, body=text, html=html)


def render_reply(
    key: str,
    locale: str,
    context: Mapping[str, Any],
    *,
    program_locale: str | None = None,
    source: str | None = None,
) -> str:
    """Text of the SMS reply `key` (defaults.REPLY_KEYS) in the member's language."""
    resolved = defaults.resolve_locale(locale, program_locale)
    text = source if source is not None else defaults.reply_text(key, resolved)
    # Format numbers for the member's own region only when the words are in their language.
    same_language = defaults.normalize_locale(locale).split("_")[0] == resolved
    fmt_locale = defaults.normalize_locale(locale) if same_language else resolved
    return render_part("body", text, context, fmt_locale, variables_for("sms", reply=True))


def render_part(
    field: str,
    source: str,
    context: Mapping[str, Any],
    locale: str,
    allowed: Mapping[str, Fields] | None = None,
    content: str | None = None,
) -> str:
    """Render one part ("body", "subject", "html" or "text") and tidy its whitespace; or an
    email layout (field LAYOUT or "html") around `content`, a flow's rendered HTML."""
    names = allowed if allowed is not None else variables_for("email", reply=True)
    variables = project_context(context, names, locale)
    if content is not None:
        variables["content"] = Markup(content)  # escaped already, as the flow's HTML rendered
    variables[LOCALE_KEY] = locale
    try:
        text = limits.capped(compile_template(field, source).generate(variables))
    except TemplateSyntaxError as error:
        raise TemplateRenderError(field, error.message or str(error), error.lineno) from error
    except Exception as error:  # anything a template does wrong is the template's error
        raise TemplateRenderError(field, _describe(error), template_line(error)) from error
    return tidy(field, text)


def tidy(field: str, text: str) -> str:
    """Whitespace clean-up; `{% if %}` blocks leave doubled spaces and blank lines behind."""
    if field == "subject":
        return " ".join(text.split())
    if field in HTML_FIELDS:
        return text.strip()
    lines = [line.rstrip() for line in text.splitlines()]
    if field == "body":  # SMS: every character costs
        lines = [re.sub(r"[ \t]{2,}", " ", line).strip() for line in lines]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def template_line(error: BaseException) -> int | None:
    """Template line of a runtime error, from the frames Jinja rewrites to point at it."""
    line, tb = None, error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _describe(error: BaseException) -> str:
    if isinstance(error, RecursionError):
        return "template recurses too deeply"
    if isinstance(error, MemoryError):
        return "template needs too much memory"
    return str(error) or type(error).__name__
