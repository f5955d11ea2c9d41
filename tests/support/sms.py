"""A member's handset texting the inbound SMS webhook, signed the way Twilio signs."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

from tests.support.messaging import TWILIO_FROM
from tests.support.signing import twilio_signature

PUBLIC = "https://engage.example.com"
PATH = "/webhooks/twilio/sms"
PHONE = "+31612345678"
_sids = itertools.count(1)


class Phone:
    """A member's handset: texts the webhook the way Twilio would, signed with the SDK."""

    def __init__(self, app, token: str, number: str = PHONE):
        self.app, self.token, self.number = app, token, number
        self.client = app.test_client()

    def params(self, body: str, sid: str | None = None, **extra) -> dict:
        sid = sid or f"SM{next(_sids):032x}"
        return {"MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid, "AccountSid": "AC" + "0" * 32,
                "From": self.number, "To": TWILIO_FROM, "Body": body, "NumMedia": "0", "NumSegments": "1",
                "FromCountry": "NL", "ApiVersion": "2010-04-01", **extra}

    def post(self, params: dict, signature: str | None = None, **kwargs):
        signature = twilio_signature(self.token, PUBLIC + PATH, params) if signature is None else signature
        return self.client.post(PATH, data=params, headers={"X-Twilio-Signature": signature}, **kwargs)

    def text(self, body: str, sid: str | None = None, **extra) -> str | None:
        """Send a text; return the single answer in the TwiML (None for an empty <Response/>)."""
        response = self.post(self.params(body, sid, **extra))
        assert response.status_code == 200, response.get_data(as_text=True)
        return answer_of(response)


def answer_of(response) -> str | None:
    assert response.mimetype in ("text/xml", "application/xml")
    root = ET.fromstring(response.get_data())
    assert root.tag == "Response"
    messages = root.findall("Message")
    assert len(messages) <= 1
    return messages[0].text if messages else None
