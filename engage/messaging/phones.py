"""Phone numbers: accept what people type, store E.164, refuse anything not dialable."""

from __future__ import annotations

import functools
import unicodedata

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

MAX_INPUT_LENGTH = 32  # E.164 is at most 15 digits; generous room for spaces and dashes
EXAMPLE = "+31612345678"
# Regions whose national numbers phonenumbers can read: the program's phone_region is one of these.
REGIONS = tuple(sorted(phonenumbers.SUPPORTED_REGIONS))
# Separators people type between digits; letters (vanity numbers, "ext.") are refused
# because an SMS cannot be sent to an extension or spelled-out number.
_SEPARATORS = frozenset(" +-().\u00a0/\t")


class InvalidPhoneNumber(ValueError):
    """A phone number that cannot be stored; `code` names the problem for API errors."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


def _fail(problem: str, code: str) -> InvalidPhoneNumber:
    return InvalidPhoneNumber(f"{problem}; use international format like {EXAMPLE}", code)


def _check_shape(raw: object) -> str:
    """Return the NFKC-normalised, trimmed input or raise if it cannot be a number."""
    if not isinstance(raw, str) or not raw.strip():
        raise _fail("phone number is missing", "missing")
    if len(raw) > MAX_INPUT_LENGTH:
        raise _fail(f"phone number is too long (at most {MAX_INPUT_LENGTH} characters)", "too_long")
    text = unicodedata.normalize("NFKC", raw).strip()  # full-width digits and plus sign
    if any(not (ch in _SEPARATORS or unicodedata.category(ch) == "Nd") for ch in text):
        raise _fail("phone number may contain only digits, spaces and + - ( ) . /", "characters")
    return text


def _check_region(default_region: str | None) -> str | None:
    # A wrong region is a configuration bug, not the member's mistake: plain ValueError.
    if default_region is None:
        return None
    region = default_region.strip().upper()
    if region not in REGIONS:
        raise ValueError(f"unknown default region {default_region!r}; use ISO codes like 'NL'")
    return region


def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber:
    try:
        return phonenumbers.parse(text, region)
    except NumberParseException as exc:
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
            raise _fail("phone number has no valid country code", "country_code") from None
        raise _fail("not a valid phone number", "invalid") from None


@functools.lru_cache(maxsize=4096)  # each inbound SMS parses its sender; members text again and again
def normalize_phone(raw: str, default_region: str | None = None) -> str:
    """Return `raw` as a valid E.164 number, or raise InvalidPhoneNumber saying why."""
    region = _check_region(default_region)
    number = _parse(_check_shape(raw), region)
    if not phonenumbers.is_valid_number(number):
        raise _fail("not a valid phone number", "invalid")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)
