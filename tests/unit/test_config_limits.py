"""Settings for the inbound SMS rate limits and their storage: malformed values name the setting."""

from __future__ import annotations

import pytest

from engage.config import Config, ConfigError


def config(**env) -> Config:
    return Config.from_env({"ENGAGE_DATABASE_URL": "sqlite://", **env})


def test_defaults():
    settings = config()
    assert settings.inbound_sms_per_number == "10/minute" and settings.inbound_sms_per_ip == "300/minute"
    assert settings.redis_url is None and settings.trusted_proxies == 0


def test_values_are_read():
    settings = config(ENGAGE_INBOUND_SMS_PER_NUMBER="5 per minute; 50 per day", ENGAGE_INBOUND_SMS_PER_IP="1000/hour",
                      ENGAGE_REDIS_URL="redis://127.0.0.1:6379/2", ENGAGE_TRUSTED_PROXIES="1")
    assert settings.inbound_sms_per_number == "5 per minute; 50 per day"
    assert settings.inbound_sms_per_ip == "1000/hour"
    assert settings.redis_url == "redis://127.0.0.1:6379/2" and settings.trusted_proxies == 1


@pytest.mark.parametrize(("name", "value"), [
    ("ENGAGE_INBOUND_SMS_PER_NUMBER", "ten a minute"),
    ("ENGAGE_INBOUND_SMS_PER_NUMBER", "0/minute"),
    ("ENGAGE_INBOUND_SMS_PER_NUMBER", "10/fortnight"),
    ("ENGAGE_INBOUND_SMS_PER_IP", "-1/minute"),
    ("ENGAGE_INBOUND_SMS_PER_IP", "300"),
    ("ENGAGE_REDIS_URL", "127.0.0.1:6379"),
    ("ENGAGE_REDIS_URL", "http://127.0.0.1:6379"),
    ("ENGAGE_TRUSTED_PROXIES", "-1"),
    ("ENGAGE_TRUSTED_PROXIES", "yes"),
])
def test_malformed_values_fail_in_one_line_naming_the_setting(name, value):
    with pytest.raises(ConfigError) as raised:
        config(**{name: value})
    message = str(raised.value)
    assert message.startswith(name + " ") and repr(value) in message and "\n" not in message
