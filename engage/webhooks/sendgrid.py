"""SendGrid webhooks: the signed event webhook (and Inbound Parse)."""

from __future__ import annotations

import json

from flask import Blueprint, abort, request

from engage import state
from engage.services import delivery
from engage.webhooks.signatures import require_sendgrid_signature

blp = Blueprint("sendgrid_webhooks", __name__, url_prefix="/webhooks/sendgrid")


@blp.post("/events")
def events():
    """Delivered, bounce, dropped, spam report, unsubscribe … (signed, deduplicated by sg_event_id)."""
    require_sendgrid_signature()
    try:
        payload = json.loads(request.get_data(as_text=True))
    except ValueError:
        abort(400, description="body is not JSON")
    if not isinstance(payload, list):
        abort(400, description="expected a JSON array of events")
    applied = delivery.sendgrid_events(state.session(), payload, state.now())
    return {"applied": applied}, 200
