"""Rendering: locale-aware filters, escaping per part, context projection, clean errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from engage.templating import (
    RenderedMessage,
    TemplateRenderError,
    render_message,
    render_part,
    render_reply,
    sample_context,
)

EMAIL = {
    "subject": "Hi {{ member.first_name }}",
    "html": '<p>Hi {{ member.first_name }}</p><a href="{{ unsubscribe_url }}">x</a>',
    "text": "Hi {{ member.first_name }}",
}


def render(source: str, locale: str = "en", field: str = "body", **context) -> str:
    return render_part(field, source, {**sample_context(locale), **context}, locale)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("en", "€10.00"), ("nl", "€ 10,00"), ("de", "10,00 €"), ("ro", "10,00 EUR")],
)
def test_money_is_formatted_for_the_locale(locale: str, expected: str) -> None:
    assert render("{{ 10|money('EUR') }}", locale) == expected


def test_money_defaults_to_euro_and_accepts_decimal_strings() -> None:
    assert render("{{ '42.5'|money }}", "nl") == "€ 42,50"
    assert render("{{ purchase.amount|money(purchase.currency) }}", "de") == "42,50 €"


def test_text_gets_plain_spaces_html_keeps_no_break_spaces() -> None:
    # A no-break space would make the whole SMS UCS-2 and double its cost.
    assert "\xa0" not in render("{{ 10|money }}", "nl")
    assert render("{{ 10|money }}", "nl", field="html") == "€\xa010,00"


def test_dates_are_formatted_for_the_locale() -> None:
    day = date(2025, 8, 2)
    context = {"expiring": {"points": 120, "date": day}}
    assert render("{{ expiring.date|date }}", "de", **context) == "02.08.2025"
    assert render("{{ expiring.date|date('long') }}", "de", **context) == "2. August 2025"
    assert render("{{ expiring.date|date('long') }}", "nl", **context) == "2 augustus 2025"
    assert render("{{ expiring.date|date('long') }}", "ro", **context) == "2 august 2025"
    assert render("{{ expiring.date|date }}", "en", **context) == "Aug 2, 2025"


def test_iso_date_strings_are_accepted() -> None:
    context = {"expiring": {"points": 1, "date": "2025-08-02"}}
    assert render("{{ expiring.date|date('long') }}", "en", **context) == "August 2, 2025"


def test_numbers_and_points_follow_locale_and_plural_rules() -> None:
    assert render("{{ 1250|number }}", "de") == "1.250"
    assert render("{{ 1250|number }}", "en") == "1,250"
    assert render("{{ 1|points }} / {{ 2|points }}", "en") == "1 point / 2 points"
    assert render("{{ 1|points }} / {{ 2|points }}", "de") == "1 Punkt / 2 Punkte"
    assert render("{{ 1|points }} / {{ 2|points }}", "nl") == "1 punt / 2 punten"
    # Romanian: "de" from twenty on, except numbers ending in 01-19.
    romanian = (
        "{{ 1|points }}; {{ 19|points }}; {{ 20|points }}; {{ 101|points }}; {{ 1250|points }}"
    )
    assert render(romanian, "ro") == "1 punct; 19 puncte; 20 de puncte; 101 puncte; 1.250 de puncte"


def test_equal_numbers_written_differently_keep_their_own_form() -> None:
    # 1 and 1.0 are equal Decimals, but CLDR plurals tell them apart (visible fraction digits):
    # whichever is formatted first must not decide the other's words.
    def with_points(source: str, value) -> str:
        return render(source, member={**sample_context("en")["member"], "points": value})

    assert with_points("{{ member.points|points }}", Decimal("1")) == "1 point"
    assert with_points("{{ member.points|points }}", Decimal("1.0")) == "1 points"
    assert with_points("{{ member.points|points }}", Decimal("1")) == "1 point"
    assert with_points("{{ member.points|number }}", Decimal("-0")) == "-0"
    assert with_points("{{ member.points|number }}", Decimal("0")) == "0"


def test_regional_locale_formats_and_unknown_locale_falls_back() -> None:
    assert render("{{ 10|money }}", "nl_BE") == "€ 10,00"
    assert render("{{ 1250|number }}", "xx_YY") == "1,250"


def test_html_is_autoescaped_but_sms_and_text_are_not() -> None:
    context = sample_context("en")
    context["member"]["first_name"] = "<script>alert(1)</script> & Co"
    email = render_message("email", EMAIL, context, "en")
    assert "<script>" not in email.html and "&lt;script&gt;" in email.html
    assert "&amp; Co" in email.html
    assert email.body == "Hi <script>alert(1)</script> & Co"
    assert email.subject == "Hi <script>alert(1)</script> & Co"
    sms = render_message("sms", {"body": "Hi {{ member.first_name }}"}, context, "en")
    assert sms.body == "Hi <script>alert(1)</script> & Co"


def test_markup_in_data_is_escaped_too() -> None:
    from markupsafe import Markup

    context = sample_context("en")
    context["member"]["first_name"] = Markup("<b>bold</b>")
    assert (
        render_part("html", "{{ member.first_name }}", context, "en") == "&lt;b&gt;bold&lt;/b&gt;"
    )


def test_render_message_shapes() -> None:
    context = sample_context("en")
    sms = render_message("sms", {"body": "{{ member.points }}"}, context, "en")
    assert sms == RenderedMessage(subject=None, body="620", html=None)
    email = render_message("email", EMAIL, context, "en")
    assert email.subject == "Hi Alex" and email.body == "Hi Alex" and email.html


def test_missing_part_is_a_render_error() -> None:
    with pytest.raises(TemplateRenderError) as caught:
        render_message("email", {"subject": "x", "html": "x"}, sample_context("en"), "en")
    assert caught.value.field == "text"


@dataclass
class Member:
    first_name: str
    last_name: str | None
    points: int
    tier: object
    locale: str


@dataclass
class Tier:
    name: str


def test_objects_are_projected_to_plain_values() -> None:
    member = Member("Ana", None, 1250, Tier("Gold"), "ro")
    context = {"member": member, "program": {"name": "Shop"}}
    text = render_part(
        "body", "{{ member.first_name }} {{ member.last_name }}|{{ member.tier }}", context, "ro"
    )
    assert text == "Ana |Gold"
    assert (
        render_part("body", "{{ member.first_name ~ ' ' ~ member.last_name }}!", context, "ro")
        == "Ana !"
    )


def test_absent_variables_are_none_so_if_works() -> None:
    assert render_part("body", "{% if reward %}x{% else %}none{% endif %}", {}, "en") == "none"


def test_undefined_attribute_is_an_error_with_line() -> None:
    with pytest.raises(TemplateRenderError) as caught:
        render("line one\n{{ expiring.points }}", expiring=None)
    assert caught.value.field == "body" and caught.value.line == 2


def test_unknown_variable_is_an_error_at_render_time() -> None:
    with pytest.raises(TemplateRenderError, match="nope"):
        render("{{ nope }}")


def test_filter_errors_are_render_errors() -> None:
    with pytest.raises(TemplateRenderError, match="not a number"):
        render("{{ member.first_name|money }}")


def test_syntax_error_is_a_render_error_with_line() -> None:
    with pytest.raises(TemplateRenderError) as caught:
        render("ok\n{% if %}")
    assert caught.value.line == 2


def test_sms_whitespace_is_tidied() -> None:
    source = "Hi {{ member.first_name }}, {% if reward %}  {% endif %} bye  \n\n\n\nend "
    assert render(source, reward=None) == "Hi Alex, bye\n\nend"


def test_reply_formats_with_member_region_when_language_matches() -> None:
    context = sample_context("nl", "balance")
    context["member"]["points"] = Decimal(1250)
    assert "1.250 punten" in render_reply("balance", "nl_BE", context)
    # French has no defaults: English words, English number format.
    assert "1,250 points" in render_reply("balance", "fr_FR", context)


def test_reply_source_override() -> None:
    assert render_reply("help", "en", sample_context("en"), source="{{ program.name }}") == (
        "Northwind Rewards"
    )
