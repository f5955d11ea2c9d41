"""Validation on save: errors name the part, the problem and the line."""

from __future__ import annotations

import pytest

from engage.messaging.segments import count_segments
from engage.templating import TemplateError, sms_segments, validate_reply, validate_template

EMAIL = {"subject": "Hi {{ member.first_name }}", "html": "<p>Hi</p>", "text": "Hi"}


def sms(body: str, **kwargs) -> list[TemplateError]:
    return validate_template("sms", {"body": body}, **kwargs)


def test_valid_templates_have_no_errors() -> None:
    assert sms("Hi {{ member.first_name }}, {{ member.points|points }}") == []
    assert validate_template("email", {**EMAIL, "text": "{{ unsubscribe_url }}"}) == []


def test_syntax_error_reports_its_line() -> None:
    [error] = sms("Hello\n{{ member.first_name }}\n{% if reward %}\nno end")
    assert error.field == "body" and error.line == 4
    assert "syntax error" in error.message


def test_unclosed_expression_reports_its_line() -> None:
    [error] = validate_template("email", {**EMAIL, "html": "<p>\n\n{{ member.first_name </p>"})
    assert error.field == "html" and error.line == 3


def test_unknown_variable_is_named_with_its_line() -> None:
    [error] = sms("Hi\n{{ customer.first_name }}")
    assert error.line == 2 and "'customer'" in error.message and "member" in error.message


def test_unknown_attribute_of_a_known_variable() -> None:
    [error] = sms("Hi {{ member.fist_name }}")
    assert error.line == 1
    assert "'fist_name'" in error.message and "'member'" in error.message
    assert "first_name" in error.message  # the message lists what does exist


def test_unknown_attribute_by_subscript_and_in_conditions() -> None:
    assert "'nickname'" in sms("{{ member['nickname'] }}")[0].message
    assert "'points_to_go'" in sms("{% if next_tier.points_to_go %}x{% endif %}")[0].message


def test_loop_and_set_variables_are_not_unknown() -> None:
    body = "{% set n = member.points %}{% for b in tier.benefits %}{{ b }}{{ loop.index }}{% endfor %}{{ n }}"
    assert sms(body) == []


def test_unsubscribe_url_is_email_only() -> None:
    [error] = sms("{{ unsubscribe_url }}")
    assert "'unsubscribe_url'" in error.message


def test_reply_variables_are_allowed_only_in_replies() -> None:
    assert validate_reply("Code: {{ coupon_code }} {{ redeemed.name }} {{ shortfall }}") == []
    assert sms("{{ coupon_code }}")
    assert "'price'" in validate_reply("{{ redeemed.price }}")[0].message


def test_unknown_filter_is_reported() -> None:
    [error] = sms("{{ member.points|currency }}")
    assert "currency" in error.message and error.line == 1


def test_runtime_errors_against_the_sample_are_reported() -> None:
    [error] = sms("ok\n{{ member.first_name|money }}")
    assert error.line == 2 and "not a number" in error.message


def test_missing_and_empty_parts() -> None:
    errors = validate_template("email", {"subject": "  ", "html": "<p>x</p>"})
    assert {(e.field, e.message) for e in errors} == {
        ("subject", "subject must not be empty"),
        ("text", "text is required"),
    }
    assert sms("") == [TemplateError("body", "body must not be empty")]
    assert validate_template("sms", {}) == [TemplateError("body", "body is required")]


def test_unexpected_parts_and_channels() -> None:
    assert validate_template("sms", {"body": "x", "subject": "y"})[0].field == "subject"
    assert validate_template("fax", {"body": "x"})[0].field == "channel"


def test_body_that_renders_empty() -> None:
    [error] = sms("{% if false %}x{% endif %}")
    assert "empty" in error.message


def test_sms_over_the_segment_limit() -> None:
    [error] = sms("x" * 400, max_sms_segments=2)
    assert error.field == "body" and "3 segments" in error.message
    assert sms("x" * 300, max_sms_segments=2) == []
    assert sms("ă" * 100, max_sms_segments=1)[0].message.startswith("SMS needs 2 segments")


@pytest.mark.parametrize(
    ("text", "segments", "encoding"),
    [
        ("", 1, "GSM-7"),
        ("x" * 160, 1, "GSM-7"),
        ("x" * 161, 2, "GSM-7"),
        ("€" * 80, 1, "GSM-7"),  # extension characters take two septets
        ("€" * 81, 2, "GSM-7"),
        ("x" * 152 + "€", 1, "GSM-7"),
        ("x" * 152 + "€" + "x" * 10, 2, "GSM-7"),  # escape pair not split
        ("ă" * 70, 1, "UCS-2"),
        ("ă" * 71, 2, "UCS-2"),
        ("x" * 66 + "😀" + "x" * 5, 2, "UCS-2"),
        ("Grüße aus Köln, Ça va?", 1, "GSM-7"),
        ("ça", 1, "UCS-2"),  # only the capital Ç is GSM-7
    ],
)
def test_segments_are_the_messaging_count(text: str, segments: int, encoding: str) -> None:
    assert sms_segments(text) == count_segments(text).segments == segments
    assert count_segments(text).encoding == encoding


def test_sandbox_violations_are_validation_errors() -> None:
    [error] = sms("{{ ''.__class__ }}")
    assert "unsafe" in error.message


def test_error_as_dict() -> None:
    assert TemplateError("body", "bad", 3).as_dict() == {
        "field": "body",
        "message": "bad",
        "line": 3,
    }
