"""Email through SendGrid's official SDK (v3 mail send)."""

from __future__ import annotations

import json
import re
import urllib.error
from datetime import datetime

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import CustomArg, Header, Mail

from engage.channels.base import ambiguous, not_taken
from engage.outbox.ports import (
    ATTEMPT_ARG,
    PERMANENT,
    TRANSIENT,
    Lookup,
    OutboundMessage,
    SendResult,
    attempt_id,
)

DEFAULT_HOST = "https://api.sendgrid.com"
# SendGrid names the offending field; a bad recipient is "personalizations.N.to.M.email".
_BAD_TO_FIELD = re.compile(r"^personalizations\.\d+\.to\.\d+\.email$")


class SendGridEmailChannel:
    """Sends email with SendGrid's v3 mail send API."""

    name = "email"

    def __init__(
        self,
        api_key: str,
        from_email: str,
        api_host: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.from_email = from_email
        self.sg = SendGridAPIClient(api_key, host=(api_host or DEFAULT_HOST).rstrip("/"))
        # The SDK has no timeout by default: a stuck socket would hang a dispatcher forever.
        self.sg.client.timeout = timeout
        # The SDK setdefault()s this on a dict shared by every request; set it once up
        # front so concurrent sends never mutate it while another thread reads it.
        self.sg.client.request_headers["Content-Type"] = "application/json"

    def send(self, message: OutboundMessage) -> SendResult:
        """Post the mail; classify any failure instead of raising."""
        try:
            response = self.sg.send(build_mail(self.from_email, message))
        except HTTPError as exc:  # an error status, its body read in full
            return classify_sendgrid_error(exc)
        except Exception as exc:  # noqa: BLE001 - whatever it was, it must not be resent blindly
            return classify_urllib_failure(exc)
        return SendResult.sent(response.headers.get("X-Message-Id"))

    def find(self, message: OutboundMessage, since: datetime) -> Lookup:
        """SendGrid cannot look a mail up by our id: its event webhook settles the attempt."""
        return Lookup.cannot_tell("SendGrid has no lookup by custom arg: waiting for its event webhook "
                                  f"({ATTEMPT_ARG}={attempt_id(message.id, message.attempt)})")

    def close(self) -> None:
        """Nothing to release: the SDK's urllib opens a connection per request."""


def build_mail(from_email: str, message: OutboundMessage) -> Mail:
    """The SendGrid Mail: text/plain then text/html, our id, one-click unsubscribe."""
    mail = Mail(
        from_email=from_email,
        to_emails=message.to,
        subject=message.subject,
        plain_text_content=message.body,
        html_content=message.html,
    )
    # Both come back in every event webhook: events map to our outbox row, and the attempt id
    # tells which try SendGrid took, which is how an ambiguous attempt gets settled.
    mail.custom_arg = CustomArg("engage_message_id", str(message.id))
    mail.custom_arg = CustomArg(ATTEMPT_ARG, attempt_id(message.id, message.attempt))
    if message.unsubscribe_url:
        # RFC 8058 one-click: the mailbox POSTs "List-Unsubscribe=One-Click" to the URL.
        mail.header = Header("List-Unsubscribe", f"<{message.unsubscribe_url}>")
        mail.header = Header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
    return mail


def classify_urllib_failure(exc: BaseException) -> SendResult:
    """A failure without a SendGrid answer: not sent (retry) or ambiguous (reconcile).

    urllib wraps in URLError only what fails while connecting and writing the request: then the
    provider never had a whole request. A timeout or a lost connection while waiting for the
    answer, or a body we could not read, come raw (TimeoutError, RemoteDisconnected,
    IncompleteRead...): the mail may have been taken.
    """
    if isinstance(exc, urllib.error.URLError):
        return not_taken(exc, "refused" if isinstance(exc.reason, ConnectionRefusedError) else "connection")
    if isinstance(exc, TimeoutError):
        return ambiguous(exc, "timeout")
    if isinstance(exc, OSError):
        return ambiguous(exc, "connection")
    return ambiguous(exc, "unread")


def classify_sendgrid_error(exc: HTTPError) -> SendResult:
    """429 and 5xx are worth a retry; any other 4xx is not."""
    status = int(getattr(exc, "status_code", 0) or 0)
    errors = _errors(getattr(exc, "body", b""))
    transient = status == 429 or status >= 500
    return SendResult.failed(
        TRANSIENT if transient else PERMANENT,
        str(status),
        _error_text(errors, exc),
        invalid_address=any(_BAD_TO_FIELD.match(str(e.get("field") or "")) for e in errors),
    )


def _errors(body: object) -> list[dict[str, object]]:
    """SendGrid's {"errors": [{"message", "field"}...]} list, or [] for other bodies."""
    try:
        raw = body.decode("utf-8") if isinstance(body, bytes) else str(body)
        errors = json.loads(raw).get("errors", [])
    except (ValueError, AttributeError):
        return []
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _error_text(errors: list[dict[str, object]], exc: HTTPError) -> str:
    """The provider's messages joined, or the HTTP reason when there are none."""
    messages = [str(e.get("message")) for e in errors if e.get("message")]
    text = "; ".join(messages) or str(getattr(exc, "reason", "") or exc)
    return text[:500]
