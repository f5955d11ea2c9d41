"""The opt-out wording rule: an opt-out keyword in capitals, as a word, outside Jinja comments."""

from __future__ import annotations

from pathlib import Path

import pytest

from engage.messaging.opt_out_wording import (
    NO_OPT_OUT,
    has_opt_out_wording,
    missing_opt_out_message,
    sms_warnings,
    suggested_wording,
)

TEMPLATES = Path(__file__).resolve().parents[2] / "engage" / "templates" / "flows"


@pytest.mark.parametrize("body", [
    "Reply STOP to opt out",
    "Afmelden? Stuur STOP",
    "Abmelden: Antworte STOP",
    "Dezabonare: trimite STOP",
    "STOP",
    "Hi {{ member.first_name }}! (STOP to end)",
    "Text STOP.",
    "Reply UNSUBSCRIBE to leave",
    "Send STOPALL",
    "Reply OPTOUT",
    "QUIT, CANCEL or END stops these texts",
    "{% if reward %}Reply REDEEM{% endif %}. Reply STOP",
    "Bye\nSTOP",
])
def test_opt_out_wording_found(body):
    assert has_opt_out_wording(body)
    assert sms_warnings(body, "en") == []


@pytest.mark.parametrize("body", [
    "",
    "Welcome to the club!",
    "reply stop to opt out",  # lower case reads as an ordinary word
    "Stuur Stop",
    "We never STOPPED",
    "NONSTOP deals",
    "STOP_NOW",
    "Reply HELP for help",
    "Hi {# Reply STOP to opt out #}there",  # a comment is never sent
])
def test_opt_out_wording_missing(body):
    assert not has_opt_out_wording(body)


@pytest.mark.parametrize(("locale", "wording", "language"), [
    ("en", "Reply STOP to opt out", "English"),
    ("nl", "Afmelden? Stuur STOP", "Dutch"),
    ("nl_BE", "Afmelden? Stuur STOP", "Dutch"),
    ("nl-BE", "Afmelden? Stuur STOP", "Dutch"),
    ("de", "Abmelden: Antworte STOP", "German"),
    ("ro", "Dezabonare: trimite STOP", "Romanian"),
    ("fr", "Reply STOP to opt out", "English"),
    (None, "Reply STOP to opt out", "English"),
])
def test_the_suggestion_is_in_the_templates_language(locale, wording, language):
    assert suggested_wording(locale) == wording
    message = missing_opt_out_message(locale)
    assert wording in message and language in message


def test_a_body_without_it_gets_one_warning_with_its_code():
    (warning,) = sms_warnings("Welkom!", "nl")
    assert warning.code == NO_OPT_OUT
    assert "Stuur STOP" in warning.message


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("*/*/sms.txt")), ids=lambda p: f"{p.parts[-3]}/{p.parts[-2]}")
def test_every_shipped_sms_template_has_opt_out_wording(path):
    assert has_opt_out_wording(path.read_text(encoding="utf-8"))
