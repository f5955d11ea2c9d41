"""Delivery callbacks: Twilio status (signed), SendGrid events (signed ECDSA), unsubscribe link."""

from __future__ import annotations

import pytest

from engage.jobs import dispatcher_for
from engage.messaging.personal_data import address_key
from engage.models import Member, Suppression
from tests.support.messaging import message, queue
from tests.support.signing import SendGridSigner, twilio_signature

PUBLIC = "https://engage.example.com"


@pytest.fixture
def signer():
    return SendGridSigner()


@pytest.fixture
def provider_overrides(signer):
    return {"sendgrid_webhook_public_key": signer.public_key}


def _status(papp, fake, message_id, params, signature=None):
    path = f"/webhooks/twilio/status?message_id={message_id}"
    signature = signature or twilio_signature(fake.twilio_auth_token, PUBLIC + path, params)
    return papp.test_client().post(path, data=params, headers={"X-Twilio-Signature": signature})


def test_twilio_status_moves_message_forward_only(papp, papi, fake_provider, clock):
    db = papp.extensions["engage.db"]
    member = papi.enrol("cb-1")
    message_id = queue(db, member["id"], clock.current, channels=("sms",))
    dispatcher_for(papp).run_once()
    sid = message(db, message_id).provider_id
    assert _status(papp, fake_provider, message_id, {"MessageSid": sid, "MessageStatus": "delivered"}).status_code == 204
    assert message(db, message_id).status == "delivered"
    _status(papp, fake_provider, message_id, {"MessageSid": sid, "MessageStatus": "sent"})
    assert message(db, message_id).status == "delivered"


def test_twilio_status_settles_a_crashed_send_and_reports_errors(papp, papi, fake_provider, clock):
    db = papp.extensions["engage.db"]
    member = papi.enrol("cb-2")
    message_id = queue(db, member["id"], clock.current, channels=("sms",))
    params = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "undelivered", "ErrorCode": "21610"}
    _status(papp, fake_provider, message_id, params)
    settled = message(db, message_id)
    assert settled.status == "failed" and settled.error_code == "21610"
    with db.session() as session:
        assert session.get(Member, member["id"]).sms_opted_out is True


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl", None])
def test_twilio_status_refuses_bad_signatures(papp, papi, fake_provider, clock, signature):
    db = papp.extensions["engage.db"]
    member = papi.enrol("cb-3")
    message_id = queue(db, member["id"], clock.current, channels=("sms",))
    params = {"MessageSid": "SMx", "MessageStatus": "delivered"}
    if signature is None:  # signed for another URL (e.g. the internal one behind a proxy)
        signature = twilio_signature(fake_provider.twilio_auth_token, "http://localhost/webhooks/twilio/status", params)
    response = papp.test_client().post(f"/webhooks/twilio/status?message_id={message_id}", data=params,
                                       headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert message(db, message_id).status == "queued"


def test_sendgrid_events_deliver_bounce_and_dedupe(papp, papi, fake_provider, clock, signer):
    db = papp.extensions["engage.db"]
    member = papi.enrol("sg-1", phone=None, email="Lena@Example.com")
    message_id = queue(db, member["id"], clock.current)
    dispatcher_for(papp).run_once()
    client = papp.test_client()
    delivered = {"email": "lena@example.com", "event": "delivered", "sg_event_id": "e1",
                 "engage_message_id": str(message_id), "timestamp": 1700000000}
    assert signer.post(client, [delivered]).status_code == 200
    assert message(db, message_id).status == "delivered"
    bounce = {"email": "lena@example.com", "event": "bounce", "sg_event_id": "e2", "reason": "550 no such user",
              "engage_message_id": str(message_id)}
    assert signer.post(client, [bounce, bounce]).get_json() == {"applied": 1}
    with db.session() as session:
        assert session.query(Suppression).filter_by(channel="email", address_hash=address_key("email", "lena@example.com")).count() == 1
    later = queue(db, member["id"], clock.current, flow="expiry_warning", channels=("email",))
    dispatcher_for(papp).run_once()
    assert message(db, later).status == "suppressed"
    assert fake_provider.request_count("email") == 1


def test_sendgrid_unsubscribe_and_spam_report_opt_out(papp, papi, clock, signer):
    member = papi.enrol("sg-2")
    signer.post(papp.test_client(), [{"email": "sg-2@example.com", "event": "spamreport", "sg_event_id": "s1"}])
    assert papi.get(f"/members/{member['id']}").get_json()["opted_out"]["email"] is True


@pytest.mark.parametrize("tamper", ["body", "signature", "missing", "garbage"])
def test_sendgrid_refuses_bad_signatures(papp, signer, tamper):
    client = papp.test_client()
    body = '[{"event": "delivered", "sg_event_id": "x"}]'
    headers = signer.headers(body)
    if tamper == "body":
        body = body.replace("delivered", "bounce")
    elif tamper == "signature":
        headers["X-Twilio-Email-Event-Webhook-Signature"] = SendGridSigner().headers(body)[
            "X-Twilio-Email-Event-Webhook-Signature"]
    elif tamper == "missing":
        headers.pop("X-Twilio-Email-Event-Webhook-Signature")
    else:
        headers["X-Twilio-Email-Event-Webhook-Signature"] = "%%%not-base64"
    assert client.post("/webhooks/sendgrid/events", data=body, headers=headers).status_code == 403


def test_unsubscribe_link_one_click_and_visit(papp, papi):
    member = papi.enrol("unsub-1")
    db = papp.extensions["engage.db"]
    with db.session() as session:
        token = session.get(Member, member["id"]).unsubscribe_token
    client = papp.test_client()
    response = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert papi.get(f"/members/{member['id']}").get_json()["opted_out"]["email"] is True
    assert client.get(f"/unsubscribe/{token}").status_code == 200
    assert client.get("/unsubscribe/not-a-token").status_code == 404


def test_messages_api_filters_and_member_thread(papp, papi, clock):
    db = papp.extensions["engage.db"]
    member = papi.enrol("api-msg")
    queue(db, member["id"], clock.current, channels=("sms",))
    queue(db, member["id"], clock.current, flow="expiry_warning", channels=("email",))
    dispatcher_for(papp).run_once()
    page = papi.get("/messages?channel=email", role="marketer").get_json()
    assert [m["flow"] for m in page["items"]] == ["expiry_warning"]
    item = page["items"][0]
    for field in ("id", "member_id", "direction", "flow", "channel", "status", "body", "subject", "send_after",
                  "sent_at", "provider_id", "segments", "error"):
        assert field in item
    assert papi.get("/messages", role="integration").status_code == 403
    thread = papi.get(f"/members/{member['id']}/messages").get_json()["items"]
    assert len(thread) == 2 and thread[1]["segments"] == 1
    assert papi.get("/messages?status=bogus", role="marketer").status_code == 422


@pytest.mark.parametrize("body", ["[" * 2000 + "]" * 2000, '[{"event": "delivered", "sg_event_id": "x\\u0000"}]'],
                         ids=["too-deep", "nul"])
def test_sendgrid_events_that_break_a_parser_or_a_database_are_a_400(papp, signer, body):
    response = papp.test_client().post("/webhooks/sendgrid/events", data=body, headers=signer.headers(body))
    assert response.status_code == 400
