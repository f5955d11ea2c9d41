"""Delivery channels: Twilio SMS, SendGrid email, or the console when unconfigured."""

from __future__ import annotations

from typing import Any

from engage.channels.console import ConsoleChannel
from engage.channels.instrumented import InstrumentedChannel
from engage.channels.sendgrid_email import SendGridEmailChannel
from engage.channels.twilio_sms import TwilioSmsChannel
from engage.outbox.ports import Channel, OutboundMessage, SendResult

__all__ = [
    "Channel",
    "ConsoleChannel",
    "InstrumentedChannel",
    "OutboundMessage",
    "SendGridEmailChannel",
    "SendResult",
    "TwilioSmsChannel",
    "build_channels",
]


def build_channels(config: Any) -> dict[str, Channel]:
    """{"sms": ..., "email": ...} from settings; console for whatever lacks credentials. Each is
    instrumented: provider latency and errors in /metrics, the message id on its log lines."""
    return {"sms": InstrumentedChannel(_sms_channel(config)),
            "email": InstrumentedChannel(_email_channel(config))}


def _sms_channel(config: Any) -> Channel:
    """Twilio when SID, token and a sender are all set; otherwise the console."""
    sid = getattr(config, "twilio_account_sid", None)
    token = getattr(config, "twilio_auth_token", None)
    from_number = getattr(config, "twilio_from_number", None)
    service_sid = getattr(config, "twilio_messaging_service_sid", None)
    if not (sid and token and (from_number or service_sid)):
        return ConsoleChannel("sms")
    return TwilioSmsChannel(
        sid,
        token,
        from_number=from_number,
        messaging_service_sid=service_sid,
        api_base_url=getattr(config, "twilio_api_base_url", None),
        timeout=_timeout(config),
    )


def _email_channel(config: Any) -> Channel:
    """SendGrid when an API key and a from address are set; otherwise the console."""
    api_key = getattr(config, "sendgrid_api_key", None)
    from_email = getattr(config, "sendgrid_from_email", None)
    if not (api_key and from_email):
        return ConsoleChannel("email")
    return SendGridEmailChannel(
        api_key,
        from_email,
        api_host=getattr(config, "sendgrid_api_host", None),
        timeout=_timeout(config),
    )


def _timeout(config: Any) -> float:
    """Provider timeout in seconds; 10 s when the setting is absent."""
    value = getattr(config, "provider_timeout_seconds", None)
    return float(value) if value else 10.0
