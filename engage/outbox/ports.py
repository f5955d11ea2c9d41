"""The channel port: what the dispatcher hands a channel and what it gets back.

Defined here, below the services that build and record messages; the adapters in
`engage.channels` (Twilio, SendGrid, console) implement it, and only the dispatcher calls them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

TRANSIENT = "transient"  # the provider provably did not take it: send again later
PERMANENT = "permanent"  # the provider refused it for good
# The provider may have taken it (a timeout, a connection lost after the request was written, an
# answer we could not read): never sent again blindly, settled with the provider instead.
AMBIGUOUS = "ambiguous"


# The email custom arg naming one try of one message; the event webhook echoes it back.
ATTEMPT_ARG = "engage_attempt"


def attempt_id(message_id: int, attempt: int) -> str:
    """The value of ATTEMPT_ARG for try `attempt` of message `message_id`."""
    return f"{message_id}-{attempt}"


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
    attempt: int = 1  # which try this is; email carries "<id>-<attempt>" so its events name the try


@dataclass(frozen=True)
class SendResult:
    """What happened at the provider; channels return this instead of raising."""

    ok: bool
    provider_id: str | None = None
    error_kind: str | None = None  # "transient" | "permanent" | "ambiguous"
    error_code: str | None = None  # provider code as string: "21610", "429", "timeout"...
    error_message: str | None = None
    opted_out: bool = False  # Twilio 21610: caller must opt the member out of SMS
    invalid_address: bool = False  # Twilio 21211 / SendGrid bad "to": mark address invalid
    segments: int | None = None  # Twilio num_segments when given

    @property
    def transient(self) -> bool:
        """True when a retry may succeed."""
        return self.error_kind == TRANSIENT

    @property
    def ambiguous(self) -> bool:
        """True when the provider may have taken the message: it must be reconciled, not resent."""
        return self.error_kind == AMBIGUOUS

    @classmethod
    def sent(cls, provider_id: str | None, segments: int | None = None) -> SendResult:
        """A successful hand-off to the provider."""
        return cls(ok=True, provider_id=provider_id, segments=segments)

    @classmethod
    def failed(cls, kind: str, code: str, message: str, **flags: bool) -> SendResult:
        """A classified failure; flags are opted_out / invalid_address."""
        return cls(ok=False, error_kind=kind, error_code=code, error_message=message, **flags)


@dataclass(frozen=True)
class ProviderCopy:
    """A message the provider holds that may be ours (same recipient, sender and body)."""

    provider_id: str
    status: str  # the provider's own word: "queued", "delivered", "failed"...
    created_at: datetime | None = None
    error_code: str | None = None


@dataclass(frozen=True)
class Lookup:
    """What the provider says about an ambiguous attempt.

    `copies` is meaningful only when `complete`: the provider answered and listed everything that
    matches (possibly nothing). Otherwise `reason` says why we cannot tell (the call failed, the
    provider has no way to look messages up).
    """

    complete: bool
    copies: tuple[ProviderCopy, ...] = field(default_factory=tuple)
    reason: str | None = None

    @classmethod
    def found(cls, copies: list[ProviderCopy] | tuple[ProviderCopy, ...]) -> Lookup:
        """The provider's full answer: these copies (none proves it never took the message)."""
        return cls(complete=True, copies=tuple(copies))

    @classmethod
    def cannot_tell(cls, reason: str) -> Lookup:
        """No answer worth acting on; ask again later."""
        return cls(complete=False, reason=reason[:300])


class Channel(Protocol):
    """A way to deliver an OutboundMessage; never raises for provider/network errors."""

    name: str  # "sms" | "email"

    def send(self, message: OutboundMessage) -> SendResult:
        """Hand the message to the provider and classify the outcome."""
        ...

    def find(self, message: OutboundMessage, since: datetime) -> Lookup:
        """The provider's messages like `message` (same recipient, sender, body) created since `since`."""
        ...
