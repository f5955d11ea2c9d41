"""Config.from_env with an explicit env dict: defaults, validation, credential pairs, URL rewriting."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.signing import SendGridSigner

PUBLIC_KEY = SendGridSigner().public_key

from engage.config import Config, ConfigError

INSTANCE = Path("/srv/engage/instance")

TWILIO = {"TWILIO_ACCOUNT_SID": "AC123", "TWILIO_AUTH_TOKEN": "secret", "TWILIO_FROM_NUMBER": "+3197010000000"}
SENDGRID = {"SENDGRID_API_KEY": "SG.key", "SENDGRID_FROM_EMAIL": "hello@example.com"}


def load(**env: str) -> Config:
    return Config.from_env(env, instance_path=INSTANCE)


def error_for(**env: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(**env)
    message = str(info.value)
    assert "\n" not in message, "ConfigError must be one line"
    return message


# --- defaults ------------------------------------------------------------------------------------

def test_defaults_from_empty_env():
    config = load()
    assert config.database_url == f"sqlite:///{INSTANCE / 'engage.sqlite'}"
    assert config.public_url == "http://127.0.0.1:5000"
    assert config.timezone == "UTC"
    assert config.twilio_account_sid is None
    assert config.twilio_auth_token is None
    assert config.twilio_from_number is None
    assert config.twilio_messaging_service_sid is None
    assert config.twilio_api_base_url is None
    assert config.sendgrid_api_key is None
    assert config.sendgrid_from_email is None
    assert config.sendgrid_api_host is None
    assert config.sendgrid_webhook_public_key is None
    assert config.inbound_email_secret is None
    assert config.retry_base_seconds == 30.0
    assert config.max_attempts == 8
    assert isinstance(config.max_attempts, int)
    assert config.provider_timeout_seconds == 10.0
    assert config.send_rate_per_second == 10.0
    assert config.unknown_after_seconds == 3600.0
    assert config.reconcile_after_seconds == 120.0
    assert config.sweep_time == "00:05"
    assert config.testing is False


def test_default_instance_path_is_cwd_instance(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert Config.from_env({}).database_url == f"sqlite:///{tmp_path / 'instance' / 'engage.sqlite'}"


def test_blank_and_whitespace_values_mean_unset():
    config = load(ENGAGE_DATABASE_URL="  ", ENGAGE_TIMEZONE="", ENGAGE_MAX_ATTEMPTS=" ",
                  ENGAGE_PUBLIC_URL="", TWILIO_ACCOUNT_SID="  ", SENDGRID_API_KEY="")
    assert config == load()


def test_values_are_stripped():
    config = load(ENGAGE_TIMEZONE="  Europe/Amsterdam ", ENGAGE_MAX_ATTEMPTS=" 5 ")
    assert config.timezone == "Europe/Amsterdam"
    assert config.max_attempts == 5


def test_env_dict_is_not_mixed_with_process_environment(monkeypatch):
    monkeypatch.setenv("ENGAGE_TIMEZONE", "Not/AZone")
    monkeypatch.setenv("ENGAGE_MAX_ATTEMPTS", "3")
    config = load()
    assert config.timezone == "UTC"
    assert config.max_attempts == 8


# --- valid settings ------------------------------------------------------------------------------

def test_all_settings_read():
    config = load(
        ENGAGE_DATABASE_URL="sqlite:////tmp/x.sqlite",
        ENGAGE_PUBLIC_URL="https://engage.example.com/",
        ENGAGE_SECRET_KEY="0123456789abcdef0123",
        ENGAGE_CONSOLE_IDLE_MINUTES="15",
        ENGAGE_TIMEZONE="Europe/Amsterdam",
        TWILIO_API_BASE_URL="http://127.0.0.1:8001/",
        SENDGRID_API_HOST="http://127.0.0.1:8002",
        SENDGRID_WEBHOOK_PUBLIC_KEY=PUBLIC_KEY,
        ENGAGE_INBOUND_EMAIL_SECRET="s3cret",
        ENGAGE_RETRY_BASE_SECONDS="0",
        ENGAGE_MAX_ATTEMPTS="1",
        ENGAGE_PROVIDER_TIMEOUT_SECONDS="0.1",
        ENGAGE_SEND_RATE="2.5",
        ENGAGE_UNKNOWN_AFTER_SECONDS="60",
        ENGAGE_RECONCILE_AFTER_SECONDS="5",
        ENGAGE_SWEEP_TIME="3:7",
        **TWILIO,
        **SENDGRID,
    )
    assert config.database_url == "sqlite:////tmp/x.sqlite"
    assert config.public_url == "https://engage.example.com"  # trailing slash dropped
    assert config.secret_key == "0123456789abcdef0123"
    assert config.console_idle_minutes == 15
    assert config.timezone == "Europe/Amsterdam"
    assert config.twilio_api_base_url == "http://127.0.0.1:8001"
    assert config.sendgrid_api_host == "http://127.0.0.1:8002"
    assert config.sendgrid_webhook_public_key == PUBLIC_KEY
    assert config.inbound_email_secret == "s3cret"
    assert config.retry_base_seconds == 0.0
    assert config.max_attempts == 1
    assert config.provider_timeout_seconds == 0.1
    assert config.send_rate_per_second == 2.5
    assert config.unknown_after_seconds == 60.0
    assert config.reconcile_after_seconds == 5.0
    assert config.sweep_time == "03:07"  # normalised
    assert (config.twilio_account_sid, config.twilio_auth_token) == ("AC123", "secret")
    assert config.twilio_from_number == "+3197010000000"
    assert (config.sendgrid_api_key, config.sendgrid_from_email) == ("SG.key", "hello@example.com")


@pytest.mark.parametrize("value", ["00:00", "23:59", "12:30"])
def test_sweep_time_bounds(value):
    assert load(ENGAGE_SWEEP_TIME=value).sweep_time == value


# --- database URL --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/engage", "postgresql+psycopg://u:p@db:5432/engage"),
        ("postgresql://u:p@db:5432/engage", "postgresql+psycopg://u:p@db:5432/engage"),
        ("postgresql://db/engage?sslmode=require", "postgresql+psycopg://db/engage?sslmode=require"),
        ("postgresql+psycopg://u@db/engage", "postgresql+psycopg://u@db/engage"),
        ("sqlite:///relative.sqlite", "sqlite:///relative.sqlite"),
        ("sqlite://", "sqlite://"),
    ],
)
def test_database_url(given, expected):
    assert load(ENGAGE_DATABASE_URL=given).database_url == expected


def test_postgres_rewrite_only_touches_the_scheme():
    url = "postgres://user:postgres@postgres.internal/postgres"
    assert load(ENGAGE_DATABASE_URL=url).database_url == (
        "postgresql+psycopg://user:postgres@postgres.internal/postgres")


@pytest.mark.parametrize("value", ["mysql://u@h/db", "http://example.com", "engage.sqlite", "/tmp/db.sqlite"])
def test_bad_database_url(value):
    message = error_for(ENGAGE_DATABASE_URL=value)
    assert message.startswith("ENGAGE_DATABASE_URL ")
    assert repr(value) in message


@pytest.mark.parametrize("value", ["postgresfoo://h/db", "sqlitex:///x"])
def test_lookalike_database_scheme_is_rejected(value):
    error_for(ENGAGE_DATABASE_URL=value)


# --- malformed settings: each error names the setting --------------------------------------------

@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ENGAGE_PUBLIC_URL", "engage.example.com"),
        ("ENGAGE_PUBLIC_URL", "ftp://engage.example.com"),
        ("ENGAGE_PUBLIC_URL", "https://"),
        ("ENGAGE_PUBLIC_URL", "/relative"),
        ("TWILIO_API_BASE_URL", "localhost:8001"),
        ("TWILIO_API_BASE_URL", "ws://localhost:8001"),
        ("SENDGRID_API_HOST", "api.sendgrid.com"),
        ("ENGAGE_TIMEZONE", "Mars/Olympus"),
        ("ENGAGE_TIMEZONE", "America"),
        ("ENGAGE_TIMEZONE", "../etc/passwd"),
        ("ENGAGE_TIMEZONE", "/etc/localtime"),
        ("ENGAGE_RETRY_BASE_SECONDS", "soon"),
        ("ENGAGE_RETRY_BASE_SECONDS", "-1"),
        ("ENGAGE_MAX_ATTEMPTS", "eight"),
        ("ENGAGE_MAX_ATTEMPTS", "2.5"),
        ("ENGAGE_MAX_ATTEMPTS", "0"),
        ("ENGAGE_MAX_ATTEMPTS", "-3"),
        ("ENGAGE_PROVIDER_TIMEOUT_SECONDS", "0"),
        ("ENGAGE_PROVIDER_TIMEOUT_SECONDS", "10s"),
        ("ENGAGE_SEND_RATE", "0.05"),
        ("ENGAGE_SEND_RATE", "fast"),
        ("ENGAGE_UNKNOWN_AFTER_SECONDS", "0.5"),
        ("ENGAGE_UNKNOWN_AFTER_SECONDS", "1h"),
        ("ENGAGE_RECONCILE_AFTER_SECONDS", "0"),
        ("ENGAGE_RECONCILE_AFTER_SECONDS", "2m"),
        ("ENGAGE_SWEEP_TIME", "24:00"),
        ("ENGAGE_SWEEP_TIME", "12:60"),
        ("ENGAGE_SWEEP_TIME", "noon"),
        ("ENGAGE_SWEEP_TIME", "12"),
        ("ENGAGE_SWEEP_TIME", "1:2:3"),
        ("ENGAGE_SWEEP_TIME", "-1:00"),
        ("ENGAGE_DISPATCHER_THREADS", "0"),
        ("ENGAGE_DISPATCHER_THREADS", "two"),
        ("ENGAGE_FLOWS_INTERVAL_SECONDS", "0.1"),
        ("ENGAGE_DATABASE_URL", "oracle://db"),
        ("ENGAGE_CONSOLE_IDLE_MINUTES", "0"),
        ("ENGAGE_CONSOLE_IDLE_MINUTES", "half an hour"),
    ],
)
def test_malformed_setting_raises_naming_it(name, value):
    message = error_for(**{name: value})
    assert message.startswith(name + " "), message
    assert repr(value) in message


def test_secret_key_is_required_behind_https_only():
    message = error_for(ENGAGE_PUBLIC_URL="https://engage.example.com")
    assert message.startswith("ENGAGE_SECRET_KEY is required when ENGAGE_PUBLIC_URL is https")
    assert "\n" not in message
    assert load(ENGAGE_PUBLIC_URL="http://127.0.0.1:5000").secret_key is None
    assert error_for(ENGAGE_SECRET_KEY="short").startswith("ENGAGE_SECRET_KEY must be at least 16")


def test_numeric_messages_say_what_is_wrong():
    assert error_for(ENGAGE_MAX_ATTEMPTS="x") == "ENGAGE_MAX_ATTEMPTS must be a number, got 'x'"
    assert error_for(ENGAGE_MAX_ATTEMPTS="0") == "ENGAGE_MAX_ATTEMPTS must be at least 1, got '0'"


def test_value_with_newline_still_gives_one_line():
    error_for(ENGAGE_TIMEZONE="Europe/\nAmsterdam")


@pytest.mark.parametrize("name", ["ENGAGE_RETRY_BASE_SECONDS", "ENGAGE_PROVIDER_TIMEOUT_SECONDS",
                                  "ENGAGE_SEND_RATE", "ENGAGE_UNKNOWN_AFTER_SECONDS",
                                  "ENGAGE_RECONCILE_AFTER_SECONDS"])
@pytest.mark.parametrize("value", ["nan", "inf"])
def test_non_finite_numbers_rejected(name, value):
    assert error_for(**{name: value}).startswith(name)


# --- provider credentials ------------------------------------------------------------------------

def test_twilio_sid_without_token():
    message = error_for(TWILIO_ACCOUNT_SID="AC123", TWILIO_FROM_NUMBER="+31970")
    assert message.startswith("TWILIO_AUTH_TOKEN ")


def test_twilio_token_without_sid():
    message = error_for(TWILIO_AUTH_TOKEN="secret", TWILIO_FROM_NUMBER="+31970")
    assert message.startswith("TWILIO_ACCOUNT_SID ")


def test_twilio_credentials_need_a_sender():
    message = error_for(TWILIO_ACCOUNT_SID="AC123", TWILIO_AUTH_TOKEN="secret")
    assert "TWILIO_FROM_NUMBER" in message and "TWILIO_MESSAGING_SERVICE_SID" in message


def test_twilio_with_messaging_service_instead_of_number():
    config = load(TWILIO_ACCOUNT_SID="AC123", TWILIO_AUTH_TOKEN="secret", TWILIO_MESSAGING_SERVICE_SID="MG1")
    assert config.twilio_messaging_service_sid == "MG1"
    assert config.twilio_from_number is None


def test_twilio_blank_token_counts_as_missing():
    message = error_for(TWILIO_ACCOUNT_SID="AC123", TWILIO_AUTH_TOKEN="   ", TWILIO_FROM_NUMBER="+31970")
    assert message.startswith("TWILIO_AUTH_TOKEN ")


def test_twilio_sender_alone_is_fine():
    assert load(TWILIO_FROM_NUMBER="+31970").twilio_account_sid is None


def test_sendgrid_key_without_sender():
    message = error_for(SENDGRID_API_KEY="SG.key")
    assert message.startswith("SENDGRID_FROM_EMAIL ")
    assert "SENDGRID_API_KEY" in message


def test_sendgrid_sender_alone_is_fine():
    assert load(SENDGRID_FROM_EMAIL="hello@example.com").sendgrid_api_key is None


def test_both_providers_configured():
    config = load(**TWILIO, **SENDGRID)
    assert config.twilio_account_sid == "AC123"
    assert config.sendgrid_api_key == "SG.key"


# --- replace -------------------------------------------------------------------------------------

def test_replace_returns_a_changed_copy():
    config = load()
    changed = config.replace(testing=True, max_attempts=3)
    assert (changed.testing, changed.max_attempts) == (True, 3)
    assert (config.testing, config.max_attempts) == (False, 8)
    assert changed.database_url == config.database_url


def test_malformed_sendgrid_key_and_twilio_sender_name_the_setting():
    from engage.config import Config, ConfigError

    with pytest.raises(ConfigError, match="SENDGRID_WEBHOOK_PUBLIC_KEY"):
        Config.from_env({"SENDGRID_WEBHOOK_PUBLIC_KEY": "not-a-key"})
    with pytest.raises(ConfigError, match="TWILIO_FROM_NUMBER"):
        Config.from_env({"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM_NUMBER": "+31 6 12!"})
    assert Config.from_env({"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t",
                            "TWILIO_FROM_NUMBER": "+15005550006"}).twilio_from_number == "+15005550006"


def test_logging_and_metrics_settings():
    assert (load().log_format, load().log_level, load().metrics_port) == (None, None, None)
    config = load(ENGAGE_LOG_FORMAT="JSON", ENGAGE_LOG_LEVEL="warning", ENGAGE_METRICS_PORT="9464")
    assert (config.log_format, config.log_level, config.metrics_port) == ("json", "WARNING", 9464)
    assert "ENGAGE_LOG_FORMAT must be one of json, text" in error_for(ENGAGE_LOG_FORMAT="xml")
    assert "ENGAGE_LOG_LEVEL" in error_for(ENGAGE_LOG_LEVEL="loud")
    assert "ENGAGE_METRICS_PORT" in error_for(ENGAGE_METRICS_PORT="70000")
    assert load(ENGAGE_METRICS_PORT="0").metrics_port == 0  # any free port
