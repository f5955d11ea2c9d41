"""Each flow's parameters: defaults in one dataclass, read from and written to stored JSON, checked."""

from __future__ import annotations

import pytest

from engage.defaults import FLOWS
from engage.messaging.flow_params import (
    PARAMS,
    ExpiryWarningParams,
    FeedbackRequestParams,
    RedemptionReminderParams,
    as_json,
    from_stored,
    json_schema,
    problems,
)


def test_defaults_are_the_dataclasses_and_the_stored_defaults_follow_them():
    assert FeedbackRequestParams().min_days_between == 30
    assert RedemptionReminderParams().repeat_days == 30
    assert ExpiryWarningParams().offsets_days == (30, 7)
    assert {key: flow["params"] for key, flow in FLOWS.items()} == {
        "welcome": {}, "redemption_reminder": {"repeat_days": 30},
        "expiry_warning": {"offsets_days": [30, 7]}, "tier_congratulations": {},
        "feedback_request": {"min_days_between": 30}, "membership_renewal": {"notice_days": 7},
        "challenge_progress": {}, "offer": {}}
    assert set(PARAMS) == set(FLOWS)


def test_stored_values_override_the_defaults_and_round_trip():
    params = from_stored("expiry_warning", {"offsets_days": [14, 3, 1]})
    assert params == ExpiryWarningParams(offsets_days=(14, 3, 1))
    assert as_json(params) == {"offsets_days": [14, 3, 1]}
    assert from_stored("feedback_request", None) == FeedbackRequestParams()
    assert from_stored("feedback_request", {}) == FeedbackRequestParams()


def test_stored_rows_read_as_the_flows_read_them_before():
    assert from_stored("feedback_request", {"min_days_between": "10"}).min_days_between == 10
    assert from_stored("feedback_request", {"min_days_between": None}) == FeedbackRequestParams()
    assert from_stored("redemption_reminder", {"repeat_days": 7, "gone": 1}) == RedemptionReminderParams(7)


@pytest.mark.parametrize(("flow", "changes", "expected"), [
    ("welcome", {"repeat_days": 7},
     {"repeat_days": ["welcome has no parameter 'repeat_days' (known: none)"]}),
    ("feedback_request", {"min_days_betwen": 5},
     {"min_days_betwen": ["feedback_request has no parameter 'min_days_betwen' (known: min_days_between)"]}),
    ("redemption_reminder", {"repeat_days": True}, {"repeat_days": ["must be a whole number from 1 to 365"]}),
    ("redemption_reminder", {"repeat_days": 7.0}, {"repeat_days": ["must be a whole number from 1 to 365"]}),
    ("expiry_warning", {"offsets_days": [7, 7]}, {"offsets_days": ["must not repeat a day"]}),
    ("expiry_warning", {"offsets_days": (7,)},
     {"offsets_days": ["must be a non-empty list of whole numbers of days from 1 to 365"]}),
    ("feedback_request", {"min_days_between": 0}, {}),
    ("expiry_warning", {"offsets_days": [365, 1]}, {}),
])
def test_problems_name_each_bad_parameter(flow, changes, expected):
    assert problems(flow, changes) == expected


def test_the_schema_gives_bounds_and_defaults():
    schema = json_schema("expiry_warning")
    assert schema["title"] == "expiry_warning" and schema["additionalProperties"] is False
    offsets = schema["properties"]["offsets_days"]
    assert offsets["default"] == [30, 7]
    assert offsets["items"] == {"type": "integer", "minimum": 1, "maximum": 365}
    assert json_schema("welcome")["properties"] == {}
