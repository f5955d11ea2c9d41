"""Webhooks refuse what the provider did not sign for this URL, and a replay has no second effect.

Signatures are made with the providers' own code: twilio's RequestValidator, and ECDSA P-256 over
timestamp + body as SendGrid signs (tests.support.signing).
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from engage.jobs import dispatcher_for
from engage.models import ConsentEvent, LedgerEntry, Member, Message, Redemption, WebhookEvent
from tests.support.messaging import message, queue
from tests.support.signing import SendGridSigner, twilio_signature
from tests.support.sms import PATH, PUBLIC, Phone, answer_of

STATUS = "/webhooks/twilio/status"
SIGNER = SendGridSigner()  # the module's SendGrid key pair


@pytest.fixture
def provider_overrides():
    return {"sendgrid_webhook_public_key": SIGNER.public_key}


@pytest.fixture
def phone(papp, fake_provider):
    return Phone(papp, fake_provider.twilio_auth_token)


def footprint(app) -> dict:
    """Everything an inbound SMS or a callback could change, counted."""
    with app.extensions["engage.db"].session() as session:
        counts = {model.__name__: session.scalar(select(func.count()).select_from(model))
                  for model in (Message, WebhookEvent, LedgerEntry, Redemption, ConsentEvent)}
        counts["opted out"] = session.scalar(select(func.count()).select_from(Member)
                                             .where(Member.sms_opted_out.is_(True)))
        counts["statuses"] = sorted(session.scalars(select(Message.status)))
    return counts


# --- Twilio: signed for another URL ---------------------------------------------------------

ELSEWHERE = {
    "another path": PUBLIC + STATUS,
    "another host": "https://attacker.example.net" + PATH,
    "a look-alike host": "https://engage.example.com.attacker.example.net" + PATH,
    "plain http": "http://engage.example.com" + PATH,
    "another port": "https://engage.example.com:8443" + PATH,
    "a query added": PUBLIC + PATH + "?x=1",
    "a trailing slash": PUBLIC + PATH + "/",
}


@pytest.mark.parametrize("where", ELSEWHERE)
def test_inbound_sms_signed_for_another_url_is_refused(papp, papi, phone, where):
    papi.enrol("elsewhere")
    before = footprint(papp)
    params = phone.params("STOP")
    signature = twilio_signature(phone.token, ELSEWHERE[where], params)  # the right token, the wrong URL
    assert phone.post(params, signature=signature).status_code == 403
    assert footprint(papp) == before


def test_a_status_callback_resigned_for_inbound_sms_is_refused_both_ways(papp, papi, phone, fake_provider, clock):
    member = papi.enrol("swap")
    message_id = queue(papp.extensions["engage.db"], member["id"], clock.current, channels=("sms",))
    dispatcher_for(papp).run_once()
    before = footprint(papp)
    client = papp.test_client()
    status = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "undelivered", "ErrorCode": "21610"}
    sms = phone.params("STOP")
    # A request Twilio really signed, sent to the other endpoint.
    for params, signed_for, sent_to in ((sms, PATH, f"{STATUS}?message_id={message_id}"),
                                        (status, f"{STATUS}?message_id={message_id}", PATH)):
        signature = twilio_signature(phone.token, PUBLIC + signed_for, params)
        assert client.post(sent_to, data=params, headers={"X-Twilio-Signature": signature}).status_code == 403
    assert footprint(papp) == before


def test_a_status_callback_signed_for_another_message_is_refused(papp, papi, phone, clock):
    db = papp.extensions["engage.db"]
    member = papi.enrol("other-message")
    first = queue(db, member["id"], clock.current, channels=("sms",))
    second = queue(db, member["id"], clock.current, flow="expiry_warning", channels=("sms",))
    params = {"MessageSid": "SM" + "2" * 32, "MessageStatus": "failed", "ErrorCode": "30003"}
    signature = twilio_signature(phone.token, f"{PUBLIC}{STATUS}?message_id={first}", params)
    response = papp.test_client().post(f"{STATUS}?message_id={second}", data=params,
                                       headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert message(db, first).status == message(db, second).status == "queued"


@pytest.mark.parametrize("signature", ["", "forged", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", "other token"])
@pytest.mark.parametrize("path", [PATH, STATUS + "?message_id=1"])
def test_twilio_webhooks_refuse_missing_and_forged_signatures(papp, papi, phone, path, signature):
    papi.enrol("forged")
    before = footprint(papp)
    params = {**phone.params("STOP"), "MessageStatus": "delivered"}
    if signature == "other token":
        signature = twilio_signature("not-our-auth-token", PUBLIC + path, params)
    response = papp.test_client().post(path, data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403 and response.get_json()["message"]
    assert footprint(papp) == before


@pytest.mark.parametrize("change", ["a field added", "a field dropped", "a second value for From"])
def test_inbound_sms_changed_after_signing_is_refused(papp, papi, phone, change):
    papi.enrol("changed")
    before = footprint(papp)
    params = phone.params("STOP")
    signature = twilio_signature(phone.token, PUBLIC + PATH, params)
    if change == "a field added":
        data = {**params, "OptOutType": "STOP"}
    elif change == "a field dropped":
        data = {name: value for name, value in params.items() if name != "NumMedia"}
    else:  # Twilio never sends a field twice; a value appended to a signed request is not signed
        data = {**params, "From": [params["From"], "+31699999999"]}
    response = papp.test_client().post(PATH, data=data, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert footprint(papp) == before


# --- Replays ----------------------------------------------------------------------------------

def test_a_replayed_inbound_sms_has_no_second_effect(papp, papi, phone):
    member = papi.enrol("replay")
    params = phone.params("REDEEM")
    signature = twilio_signature(phone.token, PUBLIC + PATH, params)
    first = phone.post(params, signature=signature)
    after_first = footprint(papp)
    replayed = phone.post(params, signature=signature)  # byte for byte what Twilio sent
    assert first.status_code == replayed.status_code == 200
    assert answer_of(first) == answer_of(replayed) and "code:" in answer_of(first)
    assert footprint(papp) == after_first
    assert papi.get(f"/members/{member['id']}").get_json()["points"] == 0  # one redemption


def test_a_replayed_status_callback_has_no_second_effect(papp, papi, phone, clock):
    db = papp.extensions["engage.db"]
    member = papi.enrol("replay-status")
    message_id = queue(db, member["id"], clock.current, channels=("sms",))
    dispatcher_for(papp).run_once()
    path = f"{STATUS}?message_id={message_id}"
    delivered = {"MessageSid": message(db, message_id).provider_id, "MessageStatus": "delivered"}
    signature = twilio_signature(phone.token, PUBLIC + path, delivered)
    client = papp.test_client()
    assert client.post(path, data=delivered, headers={"X-Twilio-Signature": signature}).status_code == 204
    after_first = footprint(papp)
    assert client.post(path, data=delivered, headers={"X-Twilio-Signature": signature}).status_code == 204
    assert footprint(papp) == after_first and message(db, message_id).status == "delivered"


def test_a_replayed_sendgrid_batch_has_no_second_effect(papp, papi):
    papi.enrol("replay-sg", email="replay@example.com")
    body = json.dumps([{"email": "replay@example.com", "event": "spamreport", "sg_event_id": "sg-replay-1",
                        "timestamp": 1700000000}])
    headers = SIGNER.headers(body)
    client = papp.test_client()
    assert client.post("/webhooks/sendgrid/events", data=body, headers=headers).get_json() == {"applied": 1}
    after_first = footprint(papp)
    assert client.post("/webhooks/sendgrid/events", data=body, headers=headers).get_json() == {"applied": 0}
    assert footprint(papp) == after_first


# --- SendGrid: what the signature covers ----------------------------------------------------

@pytest.mark.parametrize("tamper", ["timestamp", "another key", "missing timestamp", "body re-encoded"])
def test_sendgrid_refuses_what_it_did_not_sign(papp, papi, tamper):
    papi.enrol("sg-tamper", email="tamper@example.com")
    events = [{"email": "tamper@example.com", "event": "spamreport", "sg_event_id": "sg-tamper-1"}]
    body = json.dumps(events)
    headers = SIGNER.headers(body)
    if tamper == "timestamp":  # an old signature presented as new: the timestamp is signed too
        headers["X-Twilio-Email-Event-Webhook-Timestamp"] = "1700000001"
    elif tamper == "another key":
        headers = SendGridSigner().headers(body)
    elif tamper == "missing timestamp":
        del headers["X-Twilio-Email-Event-Webhook-Timestamp"]
    else:  # the same events, other bytes: the raw body is what was signed
        body = json.dumps(events, indent=1)
    before = footprint(papp)
    assert papp.test_client().post("/webhooks/sendgrid/events", data=body, headers=headers).status_code == 403
    assert footprint(papp) == before


def test_an_api_key_opens_no_webhook(papp, papi, phone):
    papi.enrol("key-no-webhook")
    response = phone.client.post(PATH, data=phone.params("STOP"), headers=papi.headers("admin"))
    assert response.status_code == 403
