"""Flow emails are a flow's own HTML put into one shared, sandboxed layout.

data/shipped_emails.json is the HTML of every flow × locale email as the code at 0d6acd5
rendered it from the shipped defaults (each flow's email.html then held the whole document), for
the sample context with and without the optional variables. Moving the shell into the layout
must not change what members receive.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from engage.templating import (
    FLOW_KEYS,
    LAYOUT,
    SUPPORTED_LOCALES,
    TemplateError,
    TemplateRenderError,
    default_template,
    render_message,
    sample_context,
    validate_layout,
    validate_template,
)

TODAY = date(2025, 7, 10)
OPTIONAL = ("next_tier", "expiring", "reward", "purchase")
SHIPPED = json.loads((Path(__file__).parent / "data" / "shipped_emails.json").read_text("utf-8"))
EMAIL = {"subject": "Hi", "text": "Hi", "html": "<p>Hi {{ member.first_name }}</p>"}
LAYOUT_SOURCE = "<html><title>{{ program.name }}</title><body>{{ content }}</body></html>"


def context(flow: str, locale: str, shape: str) -> dict:
    full = sample_context(locale, flow, today=TODAY)
    return full if shape == "full" else {**full, **dict.fromkeys(OPTIONAL), "shortfall": None}


@pytest.mark.parametrize("flow", sorted({key.split("/")[0] for key in SHIPPED}))  # the flows of 0d6acd5
@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
@pytest.mark.parametrize("shape", ["full", "bare"])
def test_shipped_emails_render_as_before(flow: str, locale: str, shape: str) -> None:
    parts = default_template(flow, "email", locale)
    parts[LAYOUT] = default_template(LAYOUT, "email", locale)["html"]
    email = render_message("email", parts, context(flow, locale, shape), locale)
    assert email.html == SHIPPED[f"{flow}/{locale}/{shape}"]


@pytest.mark.parametrize("flow", FLOW_KEYS)
def test_a_flow_email_holds_only_its_content(flow: str) -> None:
    html = default_template(flow, "email", "en")["html"]
    assert "<html" not in html and "unsubscribe_url" not in html and "<body" not in html


def test_the_layout_wraps_the_html_and_both_escape_member_data() -> None:
    data = sample_context("en")
    data["member"]["first_name"] = "<b>Jo</b>"
    data["program"]["name"] = "A & B"
    email = render_message("email", {**EMAIL, LAYOUT: LAYOUT_SOURCE}, data, "en")
    assert email.html == (
        "<html><title>A &amp; B</title><body><p>Hi &lt;b&gt;Jo&lt;/b&gt;</p></body></html>"
    )
    assert email.subject == "Hi" and email.body == "Hi"


def test_without_a_layout_or_with_a_whole_document_the_html_is_sent_as_is() -> None:
    data = sample_context("en")
    assert render_message("email", EMAIL, data, "en").html == "<p>Hi Alex</p>"
    # A version saved before the layout existed holds the shell itself.
    whole = {**EMAIL, "html": "<!DOCTYPE html>\n<html><p>{{ member.first_name }}</p></html>"}
    html = render_message("email", {**whole, LAYOUT: LAYOUT_SOURCE}, data, "en").html
    assert html == "<!DOCTYPE html>\n<html><p>Alex</p></html>"


def test_a_layout_failing_at_render_is_a_render_error_of_the_layout() -> None:
    broken = {**EMAIL, LAYOUT: "{{ content }}\n{{ 'x' * 10**9 }}"}
    with pytest.raises(TemplateRenderError) as caught:
        render_message("email", broken, sample_context("en"), "en")
    assert caught.value.field == LAYOUT and caught.value.line == 2


def test_a_valid_layout_has_no_errors() -> None:
    assert validate_layout("email", {"html": LAYOUT_SOURCE}) == []
    assert validate_layout("email", {"html": "<div>{{ content|indent(4) }}</div>"}, "nl") == []


@pytest.mark.parametrize(
    "source",
    [
        "<html><body>{{ program.name }}</body></html>",
        "<html>{% if member.points > 10**6 %}{{ content }}{% endif %}</html>",
        "<html>{{ content|striptags }}</html>",
        "<html>{{ content|upper }}</html>",
    ],
)
def test_a_layout_must_output_the_content_whole(source: str) -> None:
    [error] = validate_layout("email", {"html": source})
    assert error.field == "html" and "{{ content }}" in error.message


def test_layout_errors_name_the_line() -> None:
    [syntax] = validate_layout("email", {"html": "<html>\n{{ content }}\n{% if x %}"})
    assert syntax.line == 3 and "syntax error" in syntax.message
    [unknown] = validate_layout("email", {"html": "{{ content }}\n{{ coupon_code }}"})
    assert unknown.line == 2 and "'coupon_code'" in unknown.message
    [escape] = validate_layout("email", {"html": "{{ content }}{{ ''.__class__ }}"})
    assert "unsafe" in escape.message


def test_layout_shape_errors() -> None:
    assert validate_layout("email", {}) == [TemplateError("html", "html is required")]
    assert validate_layout("email", {"html": " "}) == [TemplateError("html", "html must not be empty")]
    [extra] = validate_layout("email", {"html": "{{ content }}", "text": "x"})
    assert extra.field == "text" and "unexpected part" in extra.message
    assert validate_layout("sms", {"html": "{{ content }}"})[0].field == "channel"


def test_content_is_the_layouts_alone() -> None:
    [error] = validate_template("email", {**EMAIL, "html": "{{ content }}"})
    assert error.field == "html" and "'content'" in error.message


def test_an_email_with_its_layout_validates_both() -> None:
    assert validate_template("email", {**EMAIL, LAYOUT: LAYOUT_SOURCE}) == []
    [error] = validate_template("email", {**EMAIL, LAYOUT: "<html></html>"})
    assert error.field == LAYOUT
