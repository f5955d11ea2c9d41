"""SMS through Twilio's official SDK."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import requests
from twilio.base.exceptions import TwilioException
from twilio.rest import Client
from urllib3.exceptions import MaxRetryError, NewConnectionError

from engage.channels.base import ambiguous, not_taken
from engage.channels.twilio_http import PooledHttpClient
from engage.outbox.ports import (
    PERMANENT,
    TRANSIENT,
    Lookup,
    OutboundMessage,
    ProviderCopy,
    SendResult,
)

# Twilio error codes that mean "try again later" despite a 4xx status.
TRANSIENT_CODES = frozenset({20429, 30001, 63017})
OPTED_OUT_CODE = 21610
INVALID_TO_CODE = 21211
# Keep-alive connections per host: one per dispatcher thread, with room to spare.
POOL_SIZE = 32
# Reconciling: how many of a number's messages we read at most, and how far our clock may be off
# Twilio's. Not filtered by DateSent: a message waiting in Twilio's queue has none yet.
LOOKUP_LIMIT = 500
CLOCK_SKEW = timedelta(minutes=10)


class TwilioSmsChannel:
    """Sends SMS with the Twilio Messages API; one pooled client per instance."""

    name = "sms"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        api_base_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not (from_number or messaging_service_sid):
            raise ValueError("Twilio needs from_number or messaging_service_sid")
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.client = Client(account_sid, auth_token, http_client=PooledHttpClient(timeout, POOL_SIZE))
        if api_base_url:
            self._point_at(api_base_url)
        # Resolve the lazy SDK objects once, so concurrent senders share them.
        self._messages = self.client.messages

    def _point_at(self, api_base_url: str) -> None:
        """Send to another host (a fake or a proxy) instead of api.twilio.com."""
        # Edge/region (even from TWILIO_EDGE/TWILIO_REGION) make the SDK rebuild the
        # host by splitting on dots, which mangles "127.0.0.1:PORT".
        self.client.edge = None
        self.client.region = None
        self.client.api.base_url = api_base_url.rstrip("/")

    def send(self, message: OutboundMessage) -> SendResult:
        """Create the Twilio message; classify any failure instead of raising."""
        try:
            created = self._messages.create(**self._create_params(message))
        except TwilioException as exc:  # an error status, its body read in full
            return classify_twilio_error(exc)
        except Exception as exc:  # noqa: BLE001 - whatever it was, it must not be resent blindly
            return classify_requests_failure(exc)
        return SendResult.sent(created.sid, _segments(created.num_segments))

    def find(self, message: OutboundMessage, since: datetime) -> Lookup:
        """Twilio's Messages list: same To, same sender, same body, created since `since`."""
        sender = {} if self.messaging_service_sid else {"from_": self.from_number}
        try:
            listed = self._messages.list(to=message.to, limit=LOOKUP_LIMIT, page_size=100, **sender)
        except Exception as exc:  # noqa: BLE001 - any failure only means "ask again later"
            return Lookup.cannot_tell(f"Twilio Messages list failed: {type(exc).__name__}: {exc}")
        window = since - CLOCK_SKEW
        recent = [m for m in listed if m.date_created is None or m.date_created >= window]
        if len(listed) >= LOOKUP_LIMIT and len(recent) == len(listed):
            return Lookup.cannot_tell(f"over {LOOKUP_LIMIT} recent messages to this number: cannot prove none")
        return Lookup.found([_copy(m) for m in recent if self._ours(m, message)])

    def _ours(self, listed: Any, message: OutboundMessage) -> bool:
        """An outbound message from our sender with our body."""
        if not str(listed.direction or "").startswith("outbound") or listed.body != message.body:
            return False
        if self.messaging_service_sid:
            return listed.messaging_service_sid == self.messaging_service_sid
        return listed.from_ == self.from_number

    def _create_params(self, message: OutboundMessage) -> dict[str, Any]:
        """Keyword arguments for messages.create; the service SID wins over a number."""
        params: dict[str, Any] = {"to": message.to, "body": message.body}
        if self.messaging_service_sid:
            params["messaging_service_sid"] = self.messaging_service_sid
        else:
            params["from_"] = self.from_number
        if message.status_callback_url:
            params["status_callback"] = message.status_callback_url
        return params

    def close(self) -> None:
        """Release pooled connections."""
        session = getattr(self.client.http_client, "session", None)
        if session is not None:
            session.close()


def _copy(listed: Any) -> ProviderCopy:
    code = listed.error_code
    return ProviderCopy(listed.sid, str(listed.status or ""), listed.date_created,
                        str(code) if code else None)


def classify_requests_failure(exc: BaseException) -> SendResult:
    """A failure without a Twilio answer: refused before sending (retry) or ambiguous (reconcile).

    requests raises ConnectTimeout, or ConnectionError around urllib3's NewConnectionError, when no
    connection was made; a ReadTimeout, a connection aborted or reset once the request was written
    (urllib3's ProtocolError), or an unreadable answer leave the message possibly taken.
    """
    if isinstance(exc, requests.ConnectTimeout):
        return not_taken(exc, "connect_timeout")
    if isinstance(exc, requests.ConnectionError) and _never_connected(exc):
        return not_taken(exc, "refused")
    if isinstance(exc, requests.Timeout):
        return ambiguous(exc, "timeout")
    if isinstance(exc, requests.ConnectionError) or (
            isinstance(exc, OSError) and not isinstance(exc, requests.RequestException)):
        return ambiguous(exc, "connection")
    return ambiguous(exc, "unread")  # an answer we could not read (cut short, not JSON...)


def _never_connected(exc: requests.ConnectionError) -> bool:
    """True when requests gave up before a connection existed (refused, no route, no DNS)."""
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError)


def classify_twilio_error(exc: TwilioException) -> SendResult:
    """Map a Twilio REST/service error to transient or permanent."""
    status = _as_int(getattr(exc, "status", None))
    code = _as_int(getattr(exc, "code", None)) or status
    transient = status is not None and (status >= 500 or status == 429)
    kind = TRANSIENT if transient or code in TRANSIENT_CODES else PERMANENT
    return SendResult.failed(
        kind,
        str(code) if code is not None else "twilio",
        _twilio_message(exc),
        opted_out=code == OPTED_OUT_CODE,
        invalid_address=code == INVALID_TO_CODE,
    )


def _twilio_message(exc: TwilioException) -> str:
    """The provider's own text, without the SDK's multi-line decoration."""
    text = getattr(exc, "msg", None) or getattr(exc, "detail", None)
    text = text or getattr(exc, "title", None) or str(exc)
    return str(text)[:500]


def _segments(value: object) -> int | None:
    """Twilio sends num_segments as a string; "0" means no sender assigned yet."""
    segments = _as_int(value)
    return segments if segments else None


def _as_int(value: object) -> int | None:
    """int(value), or None when it is missing or not a number."""
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
