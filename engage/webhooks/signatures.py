"""Provider signature checks. Anything unsigned or mis-signed is refused with 403."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import abort, request
from sendgrid.helpers.eventwebhook import EventWebhook
from twilio.request_validator import RequestValidator, compare

from engage import state

log = logging.getLogger(__name__)


def public_url() -> str:
    """The URL Twilio signed: ENGAGE_PUBLIC_URL + path (+ query), never the internal request.url.

    Werkzeug's full_path always ends in '?', which would break the signature; add the query only
    when there is one.
    """
    url = state.config().public_url + request.path
    query = request.query_string.decode("latin-1")
    return f"{url}?{query}" if query else url


def require_twilio_signature() -> None:
    token = state.config().twilio_auth_token
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        abort(403, description="missing or unverifiable X-Twilio-Signature")
    # The form itself, not a flat dict: the SDK then signs every value of a field given twice,
    # so a value appended to a signed request is refused instead of riding along unchecked.
    if not twilio_signature_matches(token, public_url(), request.form, signature):
        abort(403, description="X-Twilio-Signature does not match")


def twilio_signature_matches(token: str, url: str, params: Mapping, signature: str) -> bool:
    """The SDK's check, computing one HMAC instead of two when the request was signed over `url`.

    `RequestValidator.validate` always computes two signatures, over the URL with and without its
    default port (Twilio is not consistent about which one it signs), and accepts either. Twilio
    signs the URL as configured, so that one is tried first; the second HMAC over every parameter
    was about 4% of an inbound SMS's Python. Anything else (the other port form, a mismatch) goes
    to `validate` as before, so exactly the same requests are accepted.
    """
    validator = RequestValidator(token)
    return (compare(validator.compute_signature(url, params), signature)
            or validator.validate(url, params, signature))


def require_sendgrid_signature() -> None:
    key = state.config().sendgrid_webhook_public_key
    signature = request.headers.get("X-Twilio-Email-Event-Webhook-Signature", "")
    timestamp = request.headers.get("X-Twilio-Email-Event-Webhook-Timestamp", "")
    if not key or not signature or not timestamp:
        abort(403, description="missing or unverifiable SendGrid event webhook signature")
    try:
        valid = EventWebhook(key).verify_signature(request.get_data(as_text=True), signature, timestamp)
    except Exception:  # malformed base64 / DER raises instead of returning False
        log.warning("malformed SendGrid signature", exc_info=True)
        valid = False
    if not valid:
        abort(403, description="SendGrid event webhook signature does not match")
