"""Settings from the environment (and `.env`), validated once at start-up."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import load_dotenv
from limits import parse_many

from engage.messaging.zones import parse_hhmm


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


def _default_database_url(instance_path: Path) -> str:
    return f"sqlite:///{instance_path / 'engage.sqlite'}"


def _url(name: str, value: str | None, *, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
    if value is None:
        return None
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not parsed.netloc:
        raise ConfigError(f"{name} must be an absolute {'/'.join(schemes)} URL, got {value!r}")
    return value.rstrip("/")


def _number(name: str, value: str | None, default: float, *, minimum: float, kind=float):
    if value is None or value == "":
        return kind(default)
    try:
        number = kind(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if number != number or number in (float("inf"), float("-inf")) or number < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value!r}")
    return number


def _whole(name: str, value: str | None, default: int, *, minimum: int, maximum: int) -> int:
    if value is None or value == "":
        return default
    if not value.isdigit() or not minimum <= int(value) <= maximum:
        raise ConfigError(f"{name} must be a whole number from {minimum} to {maximum}, got {value!r}")
    return int(value)


def _timezone(name: str, value: str | None) -> str:
    value = value or "UTC"
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name} must be an IANA time zone such as Europe/Amsterdam, got {value!r}") from None
    return value


def _database_url(value: str) -> str:
    scheme = urlparse(value).scheme
    if scheme in ("postgresql", "postgres", "postgresql+psycopg2"):
        # psycopg 3 is the driver we ship; plain postgresql:// would pick psycopg2.
        return "postgresql+psycopg" + value[len(scheme):]
    if scheme not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise ConfigError(f"ENGAGE_DATABASE_URL must be a sqlite:// or postgresql:// URL, got {value!r}")
    return value


def _daily_time(name: str, value: str | None) -> str:
    value = value or "00:05"
    try:
        return parse_hhmm(value).strftime("%H:%M")
    except ValueError:
        raise ConfigError(f"{name} must be a local time HH:MM, got {value!r}") from None


def _sender(name: str, value: str | None) -> str | None:
    """An E.164 number, a short code, or an alphanumeric sender id (what Twilio accepts as From)."""
    if value is None:
        return None
    if re.fullmatch(r"\+[1-9]\d{3,14}|\d{3,8}|[A-Za-z0-9 ]{1,11}", value) and not value.isspace():
        return value
    raise ConfigError(f"{name} must be an E.164 number such as +15005550006, got {value!r}")


def _public_key(name: str, value: str | None) -> str | None:
    """SendGrid shows the verification key as base64 DER; refuse anything that isn't one."""
    if value is None:
        return None
    try:
        from sendgrid.helpers.eventwebhook import EventWebhook

        EventWebhook(value)
    except Exception:  # malformed base64, not DER, not an EC key …
        raise ConfigError(f"{name} is not a valid public key (paste the base64 key SendGrid shows)") from None
    return value


def _choice(name: str, value: str | None, choices: tuple[str, ...], *, upper: bool = False) -> str | None:
    if value is None:
        return None
    value = value.upper() if upper else value.lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _rate_limit(name: str, value: str | None, default: str) -> str:
    """A Flask-Limiter rate such as "10/minute" or "10 per minute; 100 per hour"."""
    value = value or default
    try:
        rates = parse_many(value)
    except ValueError:
        rates = []
    if not rates or any(rate.amount < 1 for rate in rates):
        raise ConfigError(f"{name} must be a rate of at least 1 such as 10/minute or "
                          f"'10 per minute; 100 per hour', got {value!r}")
    return value


def _secret_key(value: str | None, public_url: str) -> str | None:
    """Required behind https (production); elsewhere the console generates one under instance/."""
    if value is None and public_url.startswith("https:"):
        raise ConfigError("ENGAGE_SECRET_KEY is required when ENGAGE_PUBLIC_URL is https "
                          "(a long random string, e.g. from `python -c 'import secrets; print(secrets.token_hex(32))'`)")
    if value is not None and len(value) < 16:
        raise ConfigError("ENGAGE_SECRET_KEY must be at least 16 characters")
    return value


@dataclass(frozen=True)
class Config:
    database_url: str
    public_url: str = "http://127.0.0.1:5000"
    timezone: str = "UTC"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base_url: str | None = None
    sendgrid_api_key: str | None = None
    sendgrid_from_email: str | None = None
    sendgrid_api_host: str | None = None
    sendgrid_webhook_public_key: str | None = None
    inbound_email_secret: str | None = None
    retry_base_seconds: float = 30.0
    max_attempts: int = 8
    provider_timeout_seconds: float = 10.0
    send_rate_per_second: float = 10.0
    unknown_after_seconds: float = 3600.0
    # How long after an ambiguous attempt began the provider is asked whether it took the message
    # (and again after each answer that could not tell); a `sending` row this old lost its worker.
    reconcile_after_seconds: float = 120.0
    sweep_time: str = "00:05"
    dispatcher_threads: int = 2
    flows_interval_seconds: float = 10.0
    log_format: str | None = None  # json | text; None: the entry point's default
    log_level: str | None = None  # None: the entry point's default
    metrics_port: int | None = None  # engage worker's own /metrics
    inbound_sms_per_number: str = "10/minute"
    inbound_sms_per_ip: str = "300/minute"
    redis_url: str | None = None
    trusted_proxies: int = 0
    # Signs the console's session cookies; None outside production: a generated one (engage.console).
    secret_key: str | None = None
    console_idle_minutes: int = 30
    testing: bool = False
    # Differential tests only: the plain steps on PostgreSQL too (engage.db.PLAIN_PATHS).
    plain_paths: bool = False
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, instance_path: Path | None = None) -> "Config":
        """Read and validate every setting; raise ConfigError naming the first bad one."""
        if env is None:
            load_dotenv(override=False)  # a .env file may hold settings; real env vars win
        env = dict(os.environ if env is None else env)
        get = lambda key: (env.get(key) or "").strip() or None  # noqa: E731
        instance_path = instance_path or Path.cwd() / "instance"
        sid, token = get("TWILIO_ACCOUNT_SID"), get("TWILIO_AUTH_TOKEN")
        if bool(sid) != bool(token):
            missing = "TWILIO_AUTH_TOKEN" if sid else "TWILIO_ACCOUNT_SID"
            raise ConfigError(f"{missing} is required when the other Twilio credential is set")
        if sid and not (get("TWILIO_FROM_NUMBER") or get("TWILIO_MESSAGING_SERVICE_SID")):
            raise ConfigError("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID is required with Twilio credentials")
        if get("SENDGRID_API_KEY") and not get("SENDGRID_FROM_EMAIL"):
            raise ConfigError("SENDGRID_FROM_EMAIL is required when SENDGRID_API_KEY is set")
        public_url = _url("ENGAGE_PUBLIC_URL", get("ENGAGE_PUBLIC_URL")) or "http://127.0.0.1:5000"
        return cls(
            database_url=_database_url(get("ENGAGE_DATABASE_URL") or _default_database_url(instance_path)),
            public_url=public_url,
            timezone=_timezone("ENGAGE_TIMEZONE", get("ENGAGE_TIMEZONE")),
            twilio_account_sid=sid,
            twilio_auth_token=token,
            twilio_from_number=_sender("TWILIO_FROM_NUMBER", get("TWILIO_FROM_NUMBER")),
            twilio_messaging_service_sid=get("TWILIO_MESSAGING_SERVICE_SID"),
            twilio_api_base_url=_url("TWILIO_API_BASE_URL", get("TWILIO_API_BASE_URL")),
            sendgrid_api_key=get("SENDGRID_API_KEY"),
            sendgrid_from_email=get("SENDGRID_FROM_EMAIL"),
            sendgrid_api_host=_url("SENDGRID_API_HOST", get("SENDGRID_API_HOST")),
            sendgrid_webhook_public_key=_public_key("SENDGRID_WEBHOOK_PUBLIC_KEY",
                                                    get("SENDGRID_WEBHOOK_PUBLIC_KEY")),
            inbound_email_secret=get("ENGAGE_INBOUND_EMAIL_SECRET"),
            retry_base_seconds=_number("ENGAGE_RETRY_BASE_SECONDS", get("ENGAGE_RETRY_BASE_SECONDS"), 30, minimum=0),
            max_attempts=_number("ENGAGE_MAX_ATTEMPTS", get("ENGAGE_MAX_ATTEMPTS"), 8, minimum=1, kind=int),
            provider_timeout_seconds=_number(
                "ENGAGE_PROVIDER_TIMEOUT_SECONDS", get("ENGAGE_PROVIDER_TIMEOUT_SECONDS"), 10, minimum=0.1
            ),
            send_rate_per_second=_number("ENGAGE_SEND_RATE", get("ENGAGE_SEND_RATE"), 10, minimum=0.1),
            unknown_after_seconds=_number(
                "ENGAGE_UNKNOWN_AFTER_SECONDS", get("ENGAGE_UNKNOWN_AFTER_SECONDS"), 3600, minimum=1
            ),
            reconcile_after_seconds=_number(
                "ENGAGE_RECONCILE_AFTER_SECONDS", get("ENGAGE_RECONCILE_AFTER_SECONDS"), 120, minimum=1
            ),
            sweep_time=_daily_time("ENGAGE_SWEEP_TIME", get("ENGAGE_SWEEP_TIME")),
            dispatcher_threads=_whole("ENGAGE_DISPATCHER_THREADS", get("ENGAGE_DISPATCHER_THREADS"), 2,
                                      minimum=1, maximum=64),
            flows_interval_seconds=_number(
                "ENGAGE_FLOWS_INTERVAL_SECONDS", get("ENGAGE_FLOWS_INTERVAL_SECONDS"), 10, minimum=1
            ),
            log_format=_choice("ENGAGE_LOG_FORMAT", get("ENGAGE_LOG_FORMAT"), ("json", "text")),
            log_level=_choice("ENGAGE_LOG_LEVEL", get("ENGAGE_LOG_LEVEL"),
                              ("DEBUG", "INFO", "WARNING", "ERROR"), upper=True),
            metrics_port=(None if get("ENGAGE_METRICS_PORT") is None else  # 0: any free port
                          _whole("ENGAGE_METRICS_PORT", get("ENGAGE_METRICS_PORT"), 0, minimum=0, maximum=65535)),
            inbound_sms_per_number=_rate_limit("ENGAGE_INBOUND_SMS_PER_NUMBER",
                                               get("ENGAGE_INBOUND_SMS_PER_NUMBER"), "10/minute"),
            inbound_sms_per_ip=_rate_limit("ENGAGE_INBOUND_SMS_PER_IP", get("ENGAGE_INBOUND_SMS_PER_IP"),
                                           "300/minute"),
            redis_url=_url("ENGAGE_REDIS_URL", get("ENGAGE_REDIS_URL"), schemes=("redis", "rediss")),
            trusted_proxies=_whole("ENGAGE_TRUSTED_PROXIES", get("ENGAGE_TRUSTED_PROXIES"), 0, minimum=0, maximum=10),
            secret_key=_secret_key(get("ENGAGE_SECRET_KEY"), public_url),
            console_idle_minutes=_whole("ENGAGE_CONSOLE_IDLE_MINUTES", get("ENGAGE_CONSOLE_IDLE_MINUTES"), 30,
                                        minimum=1, maximum=7 * 24 * 60),
        )

    def replace(self, **changes) -> "Config":
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Config(**values)
