"""Checks run when a marketer saves a template, reported per part with line numbers.

Static checks (syntax, unknown variables and attributes, unknown filters) come first; only a
template that passes them is rendered against the sample context, which catches runtime
mistakes (a filter given text instead of a number) and SMS that cost too many segments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from jinja2 import TemplateSyntaxError, meta, nodes

from engage.messaging.segments import count_segments
from engage.templating.defaults import LAYOUT, LAYOUT_FILES
from engage.templating.environment import environment_for
from engage.templating.render import TemplateRenderError, render_part
from engage.templating.samples import sample_context
from engage.templating.variables import Fields, variables_for

REQUIRED_PARTS: dict[str, tuple[str, ...]] = {
    "sms": ("body",),
    "email": ("subject", "html", "text"),
}
MAX_SOURCE_CHARS = 100_000
# What a layout is rendered around when it is validated: it must come out whole.
SAMPLE_CONTENT = '<p style="margin:0 0 16px;">Sample content of a flow email.</p>'


@dataclass(frozen=True)
class TemplateError:
    field: str  # body, subject, html, text or layout
    message: str
    line: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {"field": self.field, "message": self.message, "line": self.line}


def sms_segments(text: str) -> int:
    """Segments `text` costs, by the messaging rule, so validation counts what is sent."""
    return count_segments(text).segments


def validate_template(
    channel: str,
    parts: Mapping[str, object],
    max_sms_segments: int | None = None,
    *,
    variables: Mapping[str, Fields] | None = None,
    locale: str = "en",
) -> list[TemplateError]:
    """Every problem with a template's parts; an empty list means it can be saved."""
    if channel not in REQUIRED_PARTS:
        return [TemplateError("channel", f"unknown channel {channel!r}")]
    allowed = variables if variables is not None else variables_for(channel)
    optional = (LAYOUT,) if channel == "email" else ()  # the live layout, in previews
    errors = _shape_errors(channel, REQUIRED_PARTS[channel], parts, optional)
    for field in REQUIRED_PARTS[channel]:
        source = parts.get(field)
        if isinstance(source, str) and source.strip():
            errors += validate_part(field, source, allowed, locale)
    layout = parts.get(LAYOUT)
    if optional and isinstance(layout, str) and layout.strip():
        errors += _layout_errors(LAYOUT, layout, locale)
    if not errors and channel == "sms" and max_sms_segments is not None:
        errors += _segment_errors(str(parts["body"]), allowed, locale, max_sms_segments)
    return errors


def validate_layout(
    channel: str, parts: Mapping[str, object], locale: str = "en"
) -> list[TemplateError]:
    """Every problem with the layout of a channel's messages (email: {"html"}); empty if none."""
    if channel not in LAYOUT_FILES:
        return [TemplateError("channel", f"no layout for channel {channel!r}")]
    errors = _shape_errors(f"the {channel} layout", tuple(LAYOUT_FILES[channel]), parts)
    return errors or _layout_errors("html", str(parts["html"]), locale)


def validate_reply(source: str, max_sms_segments: int | None = None) -> list[TemplateError]:
    """Validate an SMS reply template (it may also use coupon_code, redeemed, shortfall)."""
    allowed = variables_for("sms", reply=True)
    return validate_template("sms", {"body": source}, max_sms_segments, variables=allowed)


def validate_part(
    field: str,
    source: str,
    allowed: Mapping[str, Fields],
    locale: str = "en",
    content: str | None = None,
) -> list[TemplateError]:
    """Static checks for one part, then a render against the sample context; for a layout,
    around `content`, which must come out whole."""
    errors = _static_errors(field, source, allowed)
    if errors:
        return errors
    try:
        rendered = render_part(field, source, sample_context(locale), locale, allowed, content)
    except TemplateRenderError as error:
        return [TemplateError(field, error.message, error.line)]
    if content is not None and content not in rendered:
        return [TemplateError(field, "the layout must output the email's content: {{ content }}")]
    return [] if rendered else [TemplateError(field, f"{field} renders empty with sample data")]


def _layout_errors(field: str, source: str, locale: str) -> list[TemplateError]:
    allowed = variables_for("email", layout=True)
    return validate_part(field, source, allowed, locale, SAMPLE_CONTENT)


def _static_errors(field: str, source: str, allowed: Mapping[str, Fields]) -> list[TemplateError]:
    if len(source) > MAX_SOURCE_CHARS:
        return [TemplateError(field, f"template is longer than {MAX_SOURCE_CHARS} characters")]
    env = environment_for(field)
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as error:
        return [TemplateError(field, f"syntax error: {error.message}", error.lineno)]
    try:
        env.compile(source)  # unknown filters and tests are only found when compiling
    except TemplateSyntaxError as error:
        return [TemplateError(field, error.message or str(error), error.lineno)]
    return _name_errors(field, tree, allowed, set(env.globals))


def _shape_errors(
    owner: str,
    required: tuple[str, ...],
    parts: Mapping[str, object],
    optional: tuple[str, ...] = (),
) -> list[TemplateError]:
    errors = [
        TemplateError(field, f"unexpected part {field!r} for {owner}")
        for field in parts
        if field not in required and field not in optional
    ]
    for field in (*required, *(field for field in optional if field in parts)):
        source = parts.get(field)
        if source is None:
            errors.append(TemplateError(field, f"{field} is required"))
        elif not isinstance(source, str):
            errors.append(TemplateError(field, f"{field} must be text"))
        elif not source.strip():
            errors.append(TemplateError(field, f"{field} must not be empty"))
    return errors


def _name_errors(
    field: str, tree: nodes.Template, allowed: Mapping[str, Fields], builtins: set[str]
) -> list[TemplateError]:
    free = meta.find_undeclared_variables(tree)
    errors: list[TemplateError] = []
    reported: set[str] = set()
    known = ", ".join(sorted(allowed))
    for name in tree.find_all(nodes.Name):
        if name.name not in free or name.name in allowed or name.name in builtins:
            continue  # declared in the template, allowed, or a Jinja global such as range
        if name.name not in reported:
            reported.add(name.name)
            message = f"unknown variable '{name.name}' (known: {known})"
            errors.append(TemplateError(field, message, name.lineno))
    return errors + _attribute_errors(field, tree, allowed, free)


def _attribute_errors(
    field: str, tree: nodes.Template, allowed: Mapping[str, Fields], free: set[str]
) -> list[TemplateError]:
    errors: list[TemplateError] = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        base = node.node
        if not isinstance(base, nodes.Name) or base.name not in free:
            continue  # a loop variable or {% set %} name: its shape is the template's own
        fields = allowed.get(base.name)
        attribute = _attribute_name(node)
        if fields is None or attribute is None or attribute in fields:
            continue
        known = ", ".join(sorted(fields))
        errors.append(
            TemplateError(
                field,
                f"unknown attribute '{attribute}' of '{base.name}' (known: {known})",
                node.lineno,
            )
        )
    return errors


def _attribute_name(node: nodes.Getattr | nodes.Getitem) -> str | None:
    if isinstance(node, nodes.Getattr):
        return node.attr
    if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        return node.arg.value
    return None  # member[some_expression]: only knowable at render time


def _segment_errors(
    body: str, allowed: Mapping[str, Fields], locale: str, limit: int
) -> list[TemplateError]:
    try:
        text = render_part("body", body, sample_context(locale), locale, allowed)
    except TemplateRenderError as error:
        return [TemplateError("body", error.message, error.line)]
    segments = sms_segments(text)
    if segments <= limit:
        return []
    return [
        TemplateError("body", f"SMS needs {segments} segments with sample data (limit {limit})")
    ]
