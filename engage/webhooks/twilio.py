"""Twilio webhooks: delivery status callbacks and inbound SMS.

Both check X-Twilio-Signature over ENGAGE_PUBLIC_URL + path (+ query), never the URL the request
reached us on, so they keep working behind a proxy or TLS terminator.
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from twilio.twiml.messaging_response import MessagingResponse

from engage import state
from engage.services import delivery, inbound
from engage.webhooks.limits import inbound_sms_limits
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


def _count(value: str | None) -> int:
    text = (value or "").strip()
    return min(int(text), 100) if text.isdigit() else 0


@blp.post("/sms")
def inbound_sms():
    """A member's text: STOP/START/HELP, POINTS, REDEEM, a rating, feedback or a reply.

    Answers TwiML: one <Message> with the answer, or an empty <Response/> to say nothing. The
    effect (an opt-out above all) is committed before this answer leaves. Rate limited per
    address and per sending number (engage.webhooks.limits).
    """
    limits = inbound_sms_limits()
    refused = limits.refuse_flooding_address()  # before the signature: unsigned floods count here
    if refused is not None:
        return refused
    require_twilio_signature()
    if limits.sender_over_limit():  # after it: only a signed From spends a member's budget
        return Response(str(MessagingResponse()), status=200, mimetype="text/xml")
    form = request.form
    media = _count(form.get("NumMedia"))
    sms = inbound.InboundSms(
        sid=form.get("MessageSid") or form.get("SmsMessageSid") or form.get("SmsSid"),
        from_number=form.get("From", ""), to_number=form.get("To", ""), body=form.get("Body", ""),
        num_media=media, media_urls=tuple(url for n in range(min(media, 10)) if (url := form.get(f"MediaUrl{n}"))),
        opt_out_type=form.get("OptOutType"))
    answer = inbound.receive_sms(state.session(), sms, state.now())
    twiml = MessagingResponse()
    if answer.reply:
        twiml.message(answer.reply)
    return Response(str(twiml), status=200, mimetype="text/xml")
