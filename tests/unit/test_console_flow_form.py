"""The flow settings form read into the API's PATCH changes, with each error by its field."""

from werkzeug.datastructures import MultiDict

from engage.console import flow_form


def read(flow, **fields):
    return flow_form.read(flow, MultiDict(fields))


def test_a_valid_form_is_the_patch_body():
    changes, errors = read("expiry_warning", enabled="on", channel_1="email", channel_2="sms", delay="2",
                           delay_unit="hours", offsets_days="30, 7; 1")
    assert errors == {}
    assert changes == {"enabled": True, "channels": ["email", "sms"], "delay": 7200,
                       "params": {"offsets_days": [30, 7, 1]}}


def test_each_error_is_by_its_field():
    changes, errors = read("redemption_reminder", channel_1="sms", channel_2="sms", delay="-1",
                           delay_unit="days", repeat_days="often")
    assert changes["enabled"] is False
    assert errors == {"channel_1": "List each channel once.",
                      "delay": "Must be greater than or equal to 0 and less than or equal to 7776000.",
                      "repeat_days": "must be a whole number from 1 to 365"}
    _, errors = read("welcome", delay="1", delay_unit="weeks")
    assert errors == {"delay": "Choose seconds, minutes, hours or days.",
                      "channel_1": "Shorter than minimum length 1."}


def test_the_form_shows_the_delay_in_its_largest_whole_unit():
    values = flow_form.form_values({"enabled": True, "channels": ["sms"], "delay": 3 * 86400,
                                    "params": {"offsets_days": [30, 7]}})
    assert values == {"enabled": True, "delay": "3", "delay_unit": "days", "channel_1": "sms", "channel_2": "",
                      "offsets_days": "30, 7"}
    assert flow_form.delay_parts(90) == (90, "seconds")  # what the API set is shown as it is
    assert flow_form.delay_parts(0) == (0, "minutes")
    assert flow_form.delay_parts(5400) == (90, "minutes")
