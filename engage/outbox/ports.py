"""The channel port: what the dispatcher hands a channel and what it gets back.

Defined here, below the services that build and record messages; the adapters in
`engage.channels` (Twilio, SendGrid, console) implement it, and only the dispatcher calls them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

TRANSIENT = "transient"
PERMANENT = "permanent"


@dataclass(frozen=True)
class OutboundMessage:
    """One outbox row, ready for a provider."""

    id: int  # our message id (outbox row id)
    channel: str  # "sms" | "email"
    to: str  # E.164 phone or email address
    body: str  # SMS body, or the email's text/plain part
    subject: str | None = None
    html: str | None = None
    status_callback_url: str | None = None  # SMS: .../webhooks/twilio/status?message_id=<id>
    unsubscribe_url: str | None = None  # email: .../unsubscribe/<token>


@dataclass(frozen=True)
class SendResult:
    """What happened at the provider; channels return this instead of raising."""

    ok: bool
    provider_id: str | None = None
    error_kind: str | None = None  # "transient" | "permanent"
    error_code: str | None = None  # provider code as string: "21610", "429", "timeout"...
    error_message: str | None = None
    opted_out: bool = False  # Twilio 21610: caller must opt the member out of SMS
    invalid_address: bool = False  # Twilio 21211 / SendGrid bad "to": mark address invalid
    segments: int | None = None  # Twilio num_segments when given

    @property
    def transient(self) -> bool:
        """True when a retry may succeed."""
        return self.error_kind == TRANSIENT

    @classmethod
    def sent(cls, provider_id: str | None, segments: int | None = None) -> SendResult:
        """A successful hand-off to the provider."""
        return cls(ok=True, provider_id=provider_id, segments=segments)

    @classmethod
    def failed(cls, kind: str, code: str, message: str, **flags: bool) -> SendResult:
        """A classified failure; flags are opted_out / invalid_address."""
        return cls(ok=False, error_kind=kind, error_code=code, error_message=message, **flags)


class Channel(Protocol):
    """A way to deliver an OutboundMessage; never raises for provider/network errors."""

    name: str  # "sms" | "email"

    def send(self, message: OutboundMessage) -> SendResult:
        """Hand the message to the provider and classify the outcome."""
        ...
