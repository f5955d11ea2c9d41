"""Suppression keys and redaction of provider texts (engage.messaging.personal_data)."""

from __future__ import annotations

from engage.messaging.personal_data import ERASED, address_key, phone_forms, redact


def test_an_address_key_holds_no_address_and_ignores_case_for_email():
    key = address_key("email", " Ana@Example.com ")
    assert key == address_key("email", "ana@example.com") and len(key) == 64 and "ana" not in key
    assert address_key("sms", "+31612345678") != address_key("email", "+31612345678")
    assert address_key("sms", None) == address_key("email", "") == ""


def test_phone_forms_are_the_ways_people_write_the_number():
    forms = phone_forms("+31612345678")
    assert {"+31612345678", "31612345678", "0612345678", "06 12345678", "+31 6 12345678"} <= forms
    assert phone_forms(None) == set()


def test_redact_takes_out_known_values_as_whole_words_in_any_case():
    text = "550 <ana.de.vries@example.com>: user Ana de Vries unknown; call 06 12345678 (Anastasia)"
    known = ["Ana", "de Vries", "ana.de.vries@example.com", *phone_forms("+31612345678")]
    assert redact(text, known) == f"550 <{ERASED}>: user {ERASED} {ERASED} unknown; call {ERASED} (Anastasia)"


def test_redact_takes_out_any_email_address_or_international_number():
    assert redact("bounced: someone@else.org, +447911123456 said no") == f"bounced: {ERASED}, {ERASED} said no"
    assert redact("550 5.1.1 twilio 21610 on 2026-12-04") == "550 5.1.1 twilio 21610 on 2026-12-04"
    assert redact(None) is None and redact("") == ""
