"""Every shipped default template validates, renders and stays within SMS budgets."""

from __future__ import annotations

from datetime import date
from importlib import resources

import pytest

from engage.messaging.segments import count_segments
from engage.templating import (
    FLOW_KEYS,
    LAYOUT,
    REPLY_KEYS,
    SUPPORTED_LOCALES,
    UnknownTemplateError,
    default_template,
    locale_chain,
    render_message,
    render_reply,
    reply_text,
    resolve_locale,
    sample_context,
    sms_segments,
    validate_layout,
    validate_reply,
    validate_template,
)

TODAY = date(2025, 7, 10)
FLOWS = [(flow, locale) for flow in FLOW_KEYS for locale in SUPPORTED_LOCALES]
REPLIES = [(key, locale) for key in REPLY_KEYS for locale in SUPPORTED_LOCALES]
OPTIONAL = ("next_tier", "expiring", "reward", "purchase")


def without_optionals(context: dict) -> dict:
    return {**context, **dict.fromkeys(OPTIONAL), "shortfall": None}


def shipped_email(flow: str, locale: str) -> dict:
    """A flow's default email parts with the default layout, as the live lookup gives them."""
    return {**default_template(flow, "email", locale), LAYOUT: layout(locale)}


def layout(locale: str) -> str:
    return default_template(LAYOUT, "email", locale)["html"]


def test_every_default_file_exists() -> None:
    root = resources.files("engage") / "templates"
    files = [
        root / "flows" / flow / locale / name
        for flow, locale in FLOWS
        for name in ("sms.txt", "email_subject.txt", "email.html", "email.txt")
    ] + [root / "replies" / locale / f"{key}.txt" for key, locale in REPLIES]
    files += [root / "layouts" / "email.html"]
    files += [root / "layouts" / locale / "email_footer.html" for locale in SUPPORTED_LOCALES]
    assert len(files) == 128 + 48 + 1 + 4  # 8 flows x 4 locales x 4 files; 12 replies x 4 locales
    assert all(path.is_file() for path in files)


@pytest.mark.parametrize(("flow", "locale"), FLOWS)
@pytest.mark.parametrize("channel", ["sms", "email"])
def test_flow_default_validates(flow: str, locale: str, channel: str) -> None:
    parts = default_template(flow, channel, locale)
    assert validate_template(channel, parts, max_sms_segments=3, locale=locale) == []
    if channel == "email":
        assert validate_template(channel, shipped_email(flow, locale), locale=locale) == []


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_layout_default_validates(locale: str) -> None:
    assert validate_layout("email", {"html": layout(locale)}, locale) == []
    assert f'<html lang="{locale}">' in layout(locale)


@pytest.mark.parametrize(("flow", "locale"), FLOWS)
@pytest.mark.parametrize("shape", [dict, without_optionals])
def test_flow_default_renders(flow: str, locale: str, shape) -> None:
    context = shape(sample_context(locale, flow, today=TODAY))
    sms = render_message("sms", default_template(flow, "sms", locale), context, locale)
    email = render_message("email", shipped_email(flow, locale), context, locale)
    first_name = context["member"]["first_name"]
    assert first_name in sms.body and "STOP" in sms.body
    assert email.subject and "\n" not in email.subject
    assert email.html is not None and context["unsubscribe_url"] in email.html
    assert context["unsubscribe_url"] in email.body
    assert "None" not in sms.body + email.subject + email.body + email.html
    assert "  " not in sms.body


OPT_OUT_HINTS = {
    "en": "Reply STOP to opt out",
    "nl": "Afmelden? Stuur STOP",
    "de": "Abmelden: Antworte STOP",
    "ro": "Dezabonare: STOP",
}


@pytest.mark.parametrize(("flow", "locale"), FLOWS)
def test_flow_sms_ends_with_opt_out_hint(flow: str, locale: str) -> None:
    # The keyword stays English whatever the language: it is what the inbound parser knows.
    body = default_template(flow, "sms", locale)["body"]
    assert body.endswith(" " + OPT_OUT_HINTS[locale])


@pytest.mark.parametrize("flow", FLOW_KEYS)
@pytest.mark.parametrize("locale", ["en", "nl", "de"])
def test_sms_defaults_fit_two_gsm7_segments(flow: str, locale: str) -> None:
    context = sample_context(locale, flow, today=TODAY)
    body = render_message("sms", default_template(flow, "sms", locale), context, locale).body
    count = count_segments(body)
    assert count.encoding == "GSM-7", body
    assert count.segments <= 2 and sms_segments(body) <= 2


@pytest.mark.parametrize("flow", FLOW_KEYS)
def test_romanian_sms_stay_short_despite_ucs2(flow: str) -> None:
    context = sample_context("ro", flow, today=TODAY)
    body = render_message("sms", default_template(flow, "sms", "ro"), context, "ro").body
    assert sms_segments(body) <= 2, body


def test_romanian_uses_comma_below_diacritics() -> None:
    root = resources.files("engage") / "templates"
    texts = [
        (root / "flows" / flow / "ro" / name).read_text(encoding="utf-8")
        for flow in FLOW_KEYS
        for name in ("sms.txt", "email_subject.txt", "email.html", "email.txt")
    ] + [(root / "replies" / "ro" / f"{key}.txt").read_text(encoding="utf-8") for key in REPLY_KEYS]
    texts.append((root / "layouts" / "ro" / "email_footer.html").read_text(encoding="utf-8"))
    joined = "".join(texts)
    assert not set("şţŞŢ") & set(joined)  # cedilla forms are a common, visible mistake
    assert {"ș", "ț", "ă", "â", "î"} <= set(joined)


@pytest.mark.parametrize(("key", "locale"), REPLIES)
def test_reply_default_validates(key: str, locale: str) -> None:
    assert validate_reply(reply_text(key, locale)) == []


@pytest.mark.parametrize(("key", "locale"), REPLIES)
@pytest.mark.parametrize("shape", [dict, without_optionals])
def test_reply_default_renders(key: str, locale: str, shape) -> None:
    text = render_reply(key, locale, shape(sample_context(locale, key, today=TODAY)))
    assert text and "None" not in text and "{" not in text


@pytest.mark.parametrize("key", ["opt_out", "opt_in", "help", "not_member"])
def test_replies_to_strangers_need_no_member(key: str) -> None:
    # STOP from an unknown number must still be answered.
    text = render_reply(key, "en", {"program": {"name": "Corner Shop", "help_text": None}})
    assert "Corner Shop" in text


def test_opt_out_reply_says_how_to_come_back() -> None:
    for locale in SUPPORTED_LOCALES:
        assert "START" in render_reply("opt_out", locale, sample_context(locale))


def test_redeem_ok_has_code_for_coupons_and_thanks_for_donations() -> None:
    context = sample_context("en", "redeem_ok")
    assert "NW-7KQ2-93XD" in render_reply("redeem_ok", "en", context)
    context.update(redeemed={"name": "Donate €5", "cost": 50, "kind": "donation"}, coupon_code=None)
    donation = render_reply("redeem_ok", "en", context)
    assert "Thank you" in donation and "code" not in donation


def test_redeem_none_names_the_shortfall() -> None:
    text = render_reply("redeem_none", "de", sample_context("de", "redeem_none"))
    assert "30 Punkte" in text and "70 Punkte" in text


def test_balance_reply_says_top_tier_without_next_tier() -> None:
    context = {**sample_context("en"), "next_tier": None}
    assert "top tier" in render_reply("balance", "en", context)


def test_locale_chain_falls_back_language_program_then_english() -> None:
    assert locale_chain("nl-be", "de_AT") == ("nl_BE", "nl", "de_AT", "de", "en")
    assert locale_chain(None, None) == ("en",)
    assert locale_chain("../../etc", None) == ("en",)  # locales also name folders


def test_default_template_falls_back() -> None:
    assert resolve_locale("nl_BE") == "nl"
    assert resolve_locale("fr_FR", "de") == "de"
    assert resolve_locale("fr_FR", "it") == "en"
    assert default_template("welcome", "sms", "nl_BE") == default_template("welcome", "sms", "nl")
    assert default_template("welcome", "sms", "fr", program_locale="ro")["body"].startswith("Bun")
    assert reply_text("help", "pt") == reply_text("help", "en")


def test_default_template_shapes() -> None:
    assert set(default_template("welcome", "sms", "en")) == {"body"}
    assert set(default_template("welcome", "email", "en")) == {"subject", "html", "text"}
    assert set(default_template(LAYOUT, "email", "nl_BE")) == {"html"}
    assert default_template(LAYOUT, "email", "fr", program_locale="de") == {"html": layout("de")}
    with pytest.raises(UnknownTemplateError):
        default_template(LAYOUT, "sms", "en")
    with pytest.raises(UnknownTemplateError):
        default_template("birthday", "sms", "en")
    with pytest.raises(UnknownTemplateError):
        reply_text("bogus", "en")
