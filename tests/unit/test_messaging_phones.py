"""Phone normalisation to E.164 with clear refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engage.messaging.phones import InvalidPhoneNumber, normalize_phone


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+31612345678", None, "+31612345678"),
        ("+31 6 12345678", None, "+31612345678"),
        ("  +31 (0)6-1234-5678 ", None, "+31612345678"),
        ("06 12345678", "NL", "+31612345678"),
        ("0031612345678", "NL", "+31612345678"),
        ("+1 (201) 555-0123", None, "+12015550123"),
        ("201.555.0123", "US", "+12015550123"),
        ("201/555/0123", "us", "+12015550123"),
        ("+44 7400 123456", "NL", "+447400123456"),  # an explicit + beats the default region
        ("＋３１６１２３４５６７８", None, "+31612345678"),  # full-width digits and plus
        ("+31\u00a0612345678", None, "+31612345678"),
        ("+٣١٦١٢٣٤٥٦٧٨", None, "+31612345678"),  # Arabic-Indic digits
    ],
)
def test_accepts_what_people_type(raw: str, region: str | None, expected: str) -> None:
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region", "code"),
    [
        ("", None, "missing"),
        ("   ", None, "missing"),
        ("0612345678", None, "country_code"),
        ("+999 1234567", None, "country_code"),
        ("+31 6 1234", None, "invalid"),
        ("+3161234567890123", None, "invalid"),
        ("+1 800 FLOWERS", None, "characters"),
        ("+1 650 253 0000 ext. 12", None, "characters"),
        ("tel:+31612345678", None, "characters"),
        ("call me", None, "characters"),
        ("+31612345678; DROP TABLE", None, "characters"),
        ("+" + "1" * 40, None, "too_long"),
        ("1" * 33, "NL", "too_long"),
        ("+1 555 555 5555", None, "invalid"),  # a possible but unassigned US number
        ("+", None, "invalid"),
    ],
)
def test_refuses_with_a_clear_reason(raw: str, region: str | None, code: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as caught:
        normalize_phone(raw, region)
    assert caught.value.code == code
    assert "use international format like +31612345678" in str(caught.value)


def test_error_is_a_value_error_with_a_human_message() -> None:
    with pytest.raises(ValueError, match="^not a valid phone number; use international format"):
        normalize_phone("+31 6 1234")


def test_none_is_refused_cleanly() -> None:
    with pytest.raises(InvalidPhoneNumber, match="missing"):
        normalize_phone(None)  # type: ignore[arg-type]


def test_unknown_default_region_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="unknown default region") as caught:
        normalize_phone("0612345678", "XX")
    assert not isinstance(caught.value, InvalidPhoneNumber)


@given(st.text(max_size=40))
def test_property_never_crashes_and_output_is_e164(raw: str) -> None:
    try:
        result = normalize_phone(raw, "NL")
    except InvalidPhoneNumber as exc:
        assert str(exc)
    else:
        assert result.startswith("+") and result[1:].isdigit() and len(result) <= 16
        assert normalize_phone(result) == result  # idempotent


@given(st.from_regex(r"6[1-5][0-9]{7}", fullmatch=True))
def test_property_dutch_mobiles_normalise_from_national_format(subscriber: str) -> None:
    assert normalize_phone("0" + subscriber, "NL") == "+31" + subscriber
