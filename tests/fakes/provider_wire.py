"""What the fake provider answers: Twilio and SendGrid bodies, errors and checks."""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs, urlencode

TWILIO_ACCOUNT_SID = "AC" + "0" * 32
TWILIO_AUTH_TOKEN = "fake-twilio-auth-token"
SENDGRID_API_KEY = "SG.fake-sendgrid-api-key"

TWILIO_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/Messages\.json$")
SENDGRID_SEND = "/v3/mail/send"

# Failure modes by channel; "timeout", "slow:<s>" (answer late, message taken), "drop" (close
# without answering, message not taken) and "reset" (message taken, connection reset instead of
# the answer) are handled by the server.
TWILIO_ERRORS: dict[str, tuple[int, int, str]] = {
    "500": (500, 20500, "An internal server error has occurred"),
    "503": (503, 20503, "Service unavailable"),
    "20429": (429, 20429, "Too Many Requests"),
    "21610": (400, 21610, "Attempt to send to unsubscribed recipient"),
    "21211": (400, 21211, "The 'To' number is not a valid phone number."),
    "400": (400, 21408, "Permission to send an SMS has not been enabled for the region"),
    "401": (401, 20003, "Authenticate"),
}
SENDGRID_ERRORS: dict[str, tuple[int, str | None, str]] = {
    "500": (500, None, "An internal error occurred."),
    "503": (503, None, "Service unavailable."),
    "429": (429, None, "too many requests"),
    "400": (400, "personalizations.0.to.0.email", "Does not contain a valid address."),
    "401": (401, None, "The provided authorization grant is invalid, expired, or revoked"),
}
DELAY_MODES = ("timeout", "drop", "reset")
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")


@dataclass
class Reply:
    """One HTTP answer."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: object, **headers: str) -> Reply:
        """A JSON answer."""
        body = json.dumps(payload).encode()
        return cls(status, body, {"Content-Type": "application/json; charset=utf-8", **headers})


def check_mode(channel: str, mode: str) -> None:
    """Raise ValueError unless `mode` is a failure mode the channel supports."""
    if channel == "sms_list":  # the Messages list (reconciling) answers with an error
        if mode in TWILIO_ERRORS:
            return
        raise ValueError(f"unknown failure mode {mode!r} for sms_list")
    errors = TWILIO_ERRORS if channel == "sms" else SENDGRID_ERRORS
    if channel not in ("sms", "email"):
        raise ValueError(f"unknown channel {channel!r}: use 'sms', 'email' or 'sms_list'")
    if mode in errors or mode in DELAY_MODES or (channel == "sms" and mode == "429"):
        return
    if mode.startswith("slow:") and _is_seconds(mode[5:]):
        return
    raise ValueError(f"unknown failure mode {mode!r} for {channel}")


def _is_seconds(text: str) -> bool:
    """True for a non-negative number of seconds."""
    try:
        return float(text) >= 0
    except ValueError:
        return False


def twilio_error(status: int, code: int, message: str) -> Reply:
    """Twilio's legacy error body, which the SDK turns into TwilioRestException."""
    more_info = f"https://www.twilio.com/docs/errors/{code}"
    payload = {"code": code, "message": message, "more_info": more_info, "status": status}
    return Reply.json(status, payload)


def twilio_failure(mode: str) -> Reply:
    """The reply for an injected SMS failure mode."""
    if mode == "429":  # a bare 429 (an edge proxy, say), no Twilio JSON body
        return Reply(429, b"Too Many Requests", {"Content-Type": "text/plain"})
    return twilio_error(*TWILIO_ERRORS[mode])


def sendgrid_error(status: int, field_name: str | None, message: str) -> Reply:
    """SendGrid's {"errors": [...]} body."""
    return Reply.json(status, {"errors": [{"field": field_name, "message": message}]})


def sendgrid_failure(mode: str) -> Reply:
    """The reply for an injected email failure mode."""
    return sendgrid_error(*SENDGRID_ERRORS[mode])


def check_twilio_form(form: dict[str, str]) -> Reply | None:
    """Twilio's own validation of a Messages create request; None when it passes."""
    to = form.get("To", "")
    if not to:
        return twilio_error(400, 21604, "A 'To' phone number is required.")
    if not _E164.match(to):
        return twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    if not (form.get("From") or form.get("MessagingServiceSid")):
        return twilio_error(400, 21603, "A 'From' phone number is required.")
    if not form.get("Body"):
        return twilio_error(400, 21602, "Message body is required.")
    if len(form["Body"]) > 1600:
        return twilio_error(400, 21617, "The concatenated message body exceeds 1600 chars.")
    return None


def twilio_message(account_sid: str, form: dict[str, str]) -> dict[str, object]:
    """The 201 Message resource Twilio returns for a create."""
    sid = "SM" + uuid.uuid4().hex
    at = datetime.now(timezone.utc)
    now = format_datetime(at, usegmt=True)
    service_sid = form.get("MessagingServiceSid")
    uri = f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}"
    return {
        "account_sid": account_sid, "api_version": "2010-04-01", "body": form["Body"],
        # Sent at once here; date_sent_iso (for the DateSent filters) is never sent out.
        "date_created": now, "date_updated": now, "date_sent": now, "date_sent_iso": at.isoformat(),
        "direction": "outbound-api", "error_code": None, "error_message": None,
        "from": None if service_sid else form.get("From"), "to": form["To"],
        "messaging_service_sid": service_sid, "num_media": "0",
        # With a Messaging Service no sender is picked yet, so Twilio answers "0".
        "num_segments": "0" if service_sid else str(num_segments(form["Body"])),
        "price": None, "price_unit": "USD", "sid": sid,
        "status": "accepted" if service_sid else "queued",
        "subresource_uris": {"media": f"{uri}/Media.json"}, "uri": f"{uri}.json",
    }


def num_segments(body: str) -> int:
    """SMS segments: GSM-7 160/153 septets, otherwise UCS-2 70/67 UTF-16 units."""
    if all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in body):
        units, single, multi = sum(2 if c in _GSM_EXTENDED else 1 for c in body), 160, 153
    else:
        units, single, multi = len(body.encode("utf-16-le")) // 2, 70, 67
    return 1 if units <= single else -(-units // multi)


def check_sendgrid_mail(mail: object) -> Reply | None:
    """The subset of SendGrid's mail-send validation the channels can trip; None if OK."""
    if not isinstance(mail, dict):
        return sendgrid_error(400, None, "Bad Request")
    people = mail.get("personalizations") or []
    if not people or not all(p.get("to") for p in people):
        return sendgrid_error(400, "personalizations", "The personalizations field is required.")
    for i, person in enumerate(people):
        for j, to in enumerate(person["to"]):
            if not _EMAIL.match(str(to.get("email", ""))):
                field_name = f"personalizations.{i}.to.{j}.email"
                return sendgrid_error(400, field_name, "Does not contain a valid address.")
    if not (mail.get("from") or {}).get("email"):
        return sendgrid_error(400, "from.email", "The from email does not contain a valid address.")
    return _check_content(mail)


def _check_content(mail: dict[str, object]) -> Reply | None:
    """Subject and content rules: text/plain, when present, must come first."""
    if not mail.get("subject") and not mail.get("template_id"):
        return sendgrid_error(400, "subject", "The subject is required.")
    types = [c.get("type") for c in mail.get("content") or []]  # type: ignore[union-attr]
    if not types and not mail.get("template_id"):
        return sendgrid_error(400, "content", "Unless a valid template_id is provided, "
                                              "the content parameter is required.")
    if "text/plain" in types and types[0] != "text/plain":
        return sendgrid_error(400, "content", "If present, text/plain must be first, "
                                              "followed by text/html, followed by any other.")
    return None


def sendgrid_message_id() -> str:
    """A 22-character id like SendGrid's X-Message-Id."""
    return secrets.token_urlsafe(16)


def parse_form(body: bytes) -> dict[str, Any]:
    """Form fields; a field sent once maps to its value, repeated ones to a list."""
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] if len(v) == 1 else v for k, v in fields.items()}


def json_body(body: bytes) -> Any:
    """Parsed JSON, or None when the body is not JSON."""
    try:
        return json.loads(body or b"null")
    except ValueError:
        return None


def basic_auth(headers: dict[str, str]) -> tuple[str, str] | None:
    """(user, password) from a Basic Authorization header."""
    scheme, _, encoded = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded).decode().partition(":")
    except ValueError:
        return None
    return user, password


# --- Twilio's Messages list (GET .../Messages.json): filters and pages as the SDK reads them ------

def twilio_list_filter(query: dict[str, str]):
    """A predicate over Message resources for the To, From and DateSent[<>] filters.

    DateSent compares dates (YYYY-MM-DD, GMT) as Twilio documents: `DateSent>` on or after,
    `DateSent<` on or before; the SDK sends a datetime's date and time, of which the date counts.
    """
    to, sender = query.get("To"), query.get("From")
    on, after, before = (_day(query.get(k)) for k in ("DateSent", "DateSent>", "DateSent<"))

    def keep(message: dict[str, Any]) -> bool:
        sent = _day(message.get("date_sent_iso"))
        return ((to is None or message["to"] == to) and (sender is None or message["from"] == sender)
                and (on is None or sent == on) and (after is None or (sent is not None and sent >= after))
                and (before is None or (sent is not None and sent <= before)))

    return keep


def _day(value: str | None) -> str | None:
    return value[:10] if value else None


def twilio_list_page(account_sid: str, messages: list[dict[str, Any]], query: dict[str, str]) -> Reply:
    """One page, newest first, with `next_page_uri` while more remain (the SDK follows it)."""
    size = max(1, min(int(query.get("PageSize") or 50), 1000))
    page = max(0, int(query.get("Page") or 0))
    chunk = messages[page * size:(page + 1) * size]
    base = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
    filters = {k: v for k, v in query.items() if k not in ("Page", "PageSize", "PageToken")}

    def uri(number: int) -> str:
        return base + "?" + urlencode({**filters, "PageSize": size, "Page": number,
                                       **({"PageToken": f"PA{number}"} if number else {})})

    more = (page + 1) * size < len(messages)
    return Reply.json(200, {
        "messages": [{k: v for k, v in m.items() if k != "date_sent_iso"} for m in chunk],
        "end": page * size + max(len(chunk) - 1, 0), "first_page_uri": uri(0),
        "next_page_uri": uri(page + 1) if more else None, "page": page, "page_size": size,
        "previous_page_uri": uri(page - 1) if page else None, "start": page * size, "uri": uri(page),
    })


def sendgrid_event(mail: dict[str, Any], provider_id: str, event: str) -> dict[str, Any]:
    """One Event Webhook event for a mail we took, with its custom_args at the top level."""
    to = ((mail.get("personalizations") or [{}])[0].get("to") or [{}])[0].get("email")
    return {"email": to, "timestamp": int(time.time()), "event": event,
            "sg_event_id": secrets.token_urlsafe(16), "sg_message_id": f"{provider_id}.filter0001.1.0",
            **(mail.get("custom_args") or {})}
