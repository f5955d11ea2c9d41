"""SendGrid webhooks: the signed event webhook, and Inbound Parse (members' email replies).

Inbound Parse is not signed, so its URL is protected by a shared secret,
ENGAGE_INBOUND_EMAIL_SECRET, given either way (both are checked in constant time):

- in the query string: `https://engage.example.com/webhooks/sendgrid/inbound?secret=SECRET`, or
- as the HTTP Basic auth password (any user name):
  `https://engage:SECRET@engage.example.com/webhooks/sendgrid/inbound`, which keeps the secret
  out of access logs that record query strings.

Without the setting every inbound email is refused (403): an open endpoint would let anyone
spend a member's points by forging their From address. Only use it over HTTPS.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, abort, request

from engage import safe_json, state
from engage.messaging import email_reply
from engage.services import delivery, inbound
from engage.webhooks.signatures import require_sendgrid_signature

blp = Blueprint("sendgrid_webhooks", __name__, url_prefix="/webhooks/sendgrid")


@blp.post("/events")
def events():
    """Delivered, bounce, dropped, spam report, unsubscribe … (signed, deduplicated by sg_event_id)."""
    require_sendgrid_signature()
    text = request.get_data(as_text=True)
    try:
        payload = safe_json.loads(text)
    except ValueError:
        abort(400, description="body is not JSON")
    if safe_json.nuls_in(text, payload):
        abort(400, description="events may not contain the NUL character (\\u0000)")
    if not isinstance(payload, list):
        abort(400, description="expected a JSON array of events")
    applied = delivery.sendgrid_events(state.session(), payload, state.now())
    return {"applied": applied}, 200


def _same(given: str | None, secret: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode("utf-8", "replace"), secret.encode("utf-8"))


def require_inbound_secret() -> None:
    secret = state.config().inbound_email_secret
    if not secret:
        abort(403, description="inbound email is off: set ENGAGE_INBOUND_EMAIL_SECRET")
    auth = request.authorization
    password = auth.password if auth is not None and auth.type == "basic" else None
    if not (_same(request.args.get("secret"), secret) or _same(password, secret)):
        abort(403, description="missing or wrong inbound email secret")


def _parsed_email() -> email_reply.InboundEmail:
    raw = request.get_data(cache=True)  # kept so fields in other charsets can be re-read
    form = request.form
    content_type = request.content_type or ""
    if form.get("email"):  # "POST the raw, full MIME message" mode
        parts = email_reply.multipart_parts(raw, content_type, {"email"}) if raw else {}
        return email_reply.from_raw(parts.get("email") or form["email"], form.get("envelope"))
    names = ("from", "to", "subject", "text", "html", "headers", "envelope")
    fields = {name: form.get(name, "") for name in names}
    odd = email_reply.odd_charsets(form.get("charsets"))
    if odd and raw:
        fields.update(email_reply.multipart_fields(raw, content_type, odd))
    return email_reply.from_fields(fields)


@blp.post("/inbound")
def inbound_email():
    """A member's email reply (Inbound Parse, multipart): feedback, reply points, keywords.

    Always 200 once authorised, whatever the email says, so SendGrid does not retry it for days.
    """
    require_inbound_secret()
    answer = inbound.receive_email(state.session(), _parsed_email(), state.now())
    return {"action": answer.action, "message_id": answer.message_id}, 200
