"""Sign webhook requests the way the providers do, with their own code."""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from twilio.request_validator import RequestValidator


def twilio_signature(token: str, url: str, params: dict) -> str:
    return RequestValidator(token).compute_signature(url, params)


class SendGridSigner:
    """A P-256 key pair; `public_key` is what SENDGRID_WEBHOOK_PUBLIC_KEY holds."""

    def __init__(self):
        self.private = ec.generate_private_key(ec.SECP256R1())
        der = self.private.public_key().public_bytes(serialization.Encoding.DER,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo)
        self.public_key = base64.b64encode(der).decode()

    def headers(self, body: str, timestamp: str = "1700000000") -> dict:
        signature = self.private.sign((timestamp + body).encode(), ec.ECDSA(hashes.SHA256()))
        return {"X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
                "X-Twilio-Email-Event-Webhook-Timestamp": timestamp, "Content-Type": "application/json"}

    def post(self, client, events: list, **overrides):
        body = json.dumps(events)
        return client.post("/webhooks/sendgrid/events", data=body, headers={**self.headers(body), **overrides})
