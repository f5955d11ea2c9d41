"""Twilio webhooks: delivery status callbacks (and inbound SMS)."""

from __future__ import annotations

from flask import Blueprint, request

from engage import state
from engage.services import delivery
from engage.webhooks.signatures import require_twilio_signature

blp = Blueprint("twilio_webhooks", __name__, url_prefix="/webhooks/twilio")


@blp.post("/status")
def status_callback():
    """Move a message on (sent, delivered, failed) from Twilio's status callback."""
    require_twilio_signature()
    message_id = request.args.get("message_id", "")
    delivery.twilio_status(
        state.session(), int(message_id) if message_id.isdigit() else None,
        request.form.get("MessageSid") or request.form.get("SmsSid"),
        request.form.get("MessageStatus") or request.form.get("SmsStatus") or "",
        (request.form.get("ErrorCode") or "").strip() or None, state.now())
    return "", 204
