"""Personal data in stored values: suppression keys that hold no address, and free text with a
member's contact details taken out (what GDPR erasure leaves behind, provider error texts).

Suppressions are keyed by a SHA-256 of the channel and the normalised address, never the address:
the list must keep refusing a number or address after its member is erased, without holding it.
A hash of a phone number can be recovered by trying every number, so the key is pseudonymous,
not anonymous; it is kept only to honour the opt-out (docs/api.md, erasure).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

ERASED = "[erased]"  # what takes the place of personal data in a text that is kept

_EMAIL = re.compile(r"[^\s<>()\[\]\"',;:@]+@[^\s<>()\[\]\"',;:@]+\.[A-Za-z]{2,}")
_E164 = re.compile(r"\+\d{7,15}")


def normal_address(channel: str, address: str | None) -> str:
    """An address as suppressions compare it: email lower-case, phones as stored (E.164)."""
    address = (address or "").strip()
    return address.lower() if channel == "email" else address


def address_key(channel: str, address: str | None) -> str:
    """The suppression key of an address: a SHA-256 hex digest; "" for no address."""
    address = normal_address(channel, address)
    if not address:
        return ""
    return hashlib.sha256(f"{channel}:{address}".encode()).hexdigest()


def phone_forms(phone: str | None) -> set[str]:
    """The ways a stored E.164 number is written: +31612345678, 31612345678, 0612345678,
    06 12345678, +31 6 12345678."""
    if not phone:
        return set()
    forms = {phone, phone.lstrip("+")}
    try:
        number = phonenumbers.parse(phone, None)
    except NumberParseException:
        return forms
    for style in (PhoneNumberFormat.NATIONAL, PhoneNumberFormat.INTERNATIONAL):
        written = phonenumbers.format_number(number, style)
        forms |= {written, re.sub(r"[^\d+]", "", written)}
    return {form for form in forms if len(re.sub(r"\D", "", form)) >= 6}


def redact(text: str | None, known: Iterable[str] = ()) -> str | None:
    """`text` without the `known` values (whole words, any case) and without anything shaped like
    an email address or an international phone number."""
    if not text:
        return text
    for value in sorted({value for value in known if value and len(value) >= 3}, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", ERASED, text, flags=re.IGNORECASE)
    return _E164.sub(ERASED, _EMAIL.sub(ERASED, text))
