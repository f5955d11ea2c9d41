"""GDPR: the export holds everything about a member; erasure leaves nothing of them in any table.

One member lives a full life first: enrolment, consent changes, purchases and a redemption with
Idempotency-Keys made of their shop id, SMS and email both ways through the real webhooks (signed
with Twilio's validator and an ECDSA SendGrid key) and the dispatcher with the fake provider, an
MMS, feedback, a bounce, STOP. Then every column of every table is searched for their details.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from alembic import command
from sqlalchemy import MetaData, func, insert, select, text

from engage import migrate
from engage.api.export_schemas import SECTION_SCHEMAS
from engage.jobs import JOBS
from engage.messaging.personal_data import address_key
from engage.models import LedgerEntry, Member, Message, Suppression
from engage.services import member_export
from tests.integration.test_inbound_email import parse_fields, post
from tests.support.signing import SendGridSigner, twilio_signature
from tests.support.sms import PUBLIC, Phone

SECRET = "inbound-s3cret"
EXTERNAL_ID = "shop-cust-Zq7Xw93"
FIRST, LAST = "Quillontine", "Vandermolenhoek"
EMAIL = "Quill.Vandermolenhoek@example.org"
PHONE = "+31687654329"
# The number as people and providers write it, besides E.164.
PHONE_FORMS = ("31687654329", "0687654329", "06 87654329", "+31 6 87654329", "687654329")
DISTINCTIVE = (EXTERNAL_ID, FIRST, LAST, EMAIL, PHONE, *PHONE_FORMS)
MESSAGE_ID = f"<{FIRST}.reply-1@mail.example.org>"
MEDIA_URL = f"https://api.twilio.com/2010-04-01/Accounts/AC00/Messages/MM01/Media/{FIRST}-selfie"


@pytest.fixture
def flows_on():
    return True


@pytest.fixture
def signer():
    return SendGridSigner()


@pytest.fixture
def provider_overrides(signer):
    return {"inbound_email_secret": SECRET, "sendgrid_webhook_public_key": signer.public_key}


@pytest.fixture
def phone(papp, fake_provider):
    return Phone(papp, fake_provider.twilio_auth_token, number=PHONE)


def deliver(app) -> None:
    now = app.extensions["engage.clock"]()
    JOBS["outbox"].run(app, now.date(), now)


def _messages(db, member_id, **where) -> list[Message]:
    with db.session() as session:
        return list(session.scalars(select(Message).filter_by(member_id=member_id, **where).order_by(Message.id)))


def _twilio_status(app, token, message: Message, status: str):
    path = f"/webhooks/twilio/status?message_id={message.id}"
    params = {"MessageSid": message.provider_id, "MessageStatus": status, "To": PHONE}
    headers = {"X-Twilio-Signature": twilio_signature(token, PUBLIC + path, params)}
    assert app.test_client().post(path, data=params, headers=headers).status_code == 204


def live_a_life(papp, papi, pdb, phone, clock, signer, fake_provider) -> dict:
    """A member who did everything a member can do; also a friend they referred. Their ids."""
    member = papi.enrol(EXTERNAL_ID, first_name=FIRST, last_name=LAST, email=EMAIL, phone=PHONE, locale="en",
                        timezone="Europe/Amsterdam")
    friend = papi.enrol("friend-1", first_name="Bystander", email="friend@example.net", phone="+31612345670",
                        referral_code=member["referral_code"])
    mid = member["id"]
    assert papi.patch(f"/members/{mid}", {"consent": {"email": False}}).status_code == 200
    assert papi.patch(f"/members/{mid}", {"consent": {"email": True}}).status_code == 200
    assert papi.purchase(mid, "42.50", key=f"order-{EXTERNAL_ID}-1").status_code == 201
    deliver(papp)  # the welcome SMS
    [welcome] = _messages(pdb, mid, flow="welcome")
    assert welcome.status == "sent" and FIRST in welcome.body
    _twilio_status(papp, fake_provider.twilio_auth_token, welcome, "delivered")

    phone.text(f"Hi, {FIRST} {LAST} here", NumMedia="1", MediaUrl0=MEDIA_URL, MediaContentType0="image/jpeg")
    clock.advance(days=3, minutes=1)
    deliver(papp)  # the feedback request
    assert _messages(pdb, mid, flow="feedback_request")[0].status == "sent"
    phone.text(f"Lovely shop! {FIRST} {LAST}, call me on 06 87654329")

    test_send = papi.post("/flows/welcome/test", {"member_id": mid, "channel": "email"}, role="marketer")
    assert test_send.status_code == 201, test_send.get_json()
    response = post(papp, parse_fields(EMAIL.lower(), f"Thanks, see you soon! -- {FIRST}",
                                       subject=f"Re: Welcome {FIRST}", message_id=MESSAGE_ID))
    assert response.get_json()["action"] == "reply"
    deliver(papp)  # the test email and the answer to the email
    emails = _messages(pdb, mid, channel="email", direction="out")
    assert [m.status for m in emails] == ["sent", "sent"] and all(m.provider_id for m in emails)
    events = [{"email": EMAIL.lower(), "event": "delivered", "sg_event_id": "sg-1",
               "engage_message_id": str(emails[0].id)},
              {"email": EMAIL.lower(), "event": "bounce", "sg_event_id": "sg-2",
               "engage_message_id": str(emails[1].id),
               "reason": f"550 5.1.1 <{EMAIL.lower()}>: Recipient address rejected: {FIRST} unknown"}]
    assert signer.post(papp.test_client(), events).status_code == 200

    redeemed = papi.post(f"/members/{mid}/redemptions", {"reward_id": 1},
                         headers={"Idempotency-Key": f"redeem-{EXTERNAL_ID}"})
    assert redeemed.status_code == 201, redeemed.get_json()
    assert "unsubscribed" in phone.text("STOP")
    return {"member": mid, "friend": friend["id"]}


@pytest.fixture
def life(papp, papi, pdb, phone, clock, signer, fake_provider) -> dict:
    return live_a_life(papp, papi, pdb, phone, clock, signer, fake_provider)


# --- export ------------------------------------------------------------------------------------


def test_the_export_holds_every_kind_of_data_about_the_member(papi, life):
    response = papi.get(f"/members/{life['member']}/export")
    assert response.status_code == 200 and response.mimetype == "application/json"
    export = response.get_json()
    assert set(export) == {"exported_at", "member", *SECTION_SCHEMAS}
    profile = export["member"]
    fields = ("external_id", "first_name", "last_name", "email", "phone")
    assert [profile[name] for name in fields] == [EXTERNAL_ID, FIRST, LAST, EMAIL, PHONE]
    assert profile["consent"] == {"sms": True, "email": True} and profile["opted_out"]["sms"] is True
    assert profile["erased_at"] is None and profile["points"] == sum(e["points"] for e in export["ledger"])

    changes = {(e["channel"], e["change"], e["source"].split(":")[0]) for e in export["consent_events"]}
    assert {("email", "consent_withdrawn", "api"), ("email", "consent_given", "api"),
            ("sms", "opt_out", "sms")} <= changes
    assert [s["channel"] for s in export["suppressions"]] == ["email"]
    assert {e["reason"].split(" ")[0] for e in export["ledger"]} >= {"signup", "purchase", "reply", "feedback",
                                                                       "EUR"}  # EUR 10 off: the redemption
    assert {e["kind"] for e in export["ledger"]} == {"earn", "redeem"}
    assert export["lots"] and all(lot["remaining"] <= lot["points"] for lot in export["lots"])
    assert [(e["type"], e["amount"]) for e in export["events"]] == [("purchase", "42.50")]
    [redemption] = export["redemptions"]
    assert redemption["coupon_code"].startswith("ENG-") and redemption["reward"] == "EUR 10 off"
    assert any(f["text"] and FIRST in f["text"] for f in export["feedback"])
    assert {r["key"] for r in export["idempotency_records"]} == {f"order-{EXTERNAL_ID}-1", f"redeem-{EXTERNAL_ID}"}

    messages = export["messages"]
    assert [m["id"] for m in messages] == sorted(m["id"] for m in messages)
    assert {(m["direction"], m["channel"]) for m in messages} == {("out", "sms"), ("in", "sms"), ("out", "email"),
                                                                  ("in", "email")}
    inbound = [m for m in messages if m["direction"] == "in"]
    assert all(m["from"] in (PHONE, EMAIL.lower()) and m["body"] for m in inbound)
    assert any(m["data"].get("media") == [MEDIA_URL] for m in inbound)
    assert any(m["provider_id"] == MESSAGE_ID for m in inbound)
    emails = [m for m in messages if m["direction"] == "out" and m["channel"] == "email"]
    assert all(m["subject"] and m["html"] and m["to"] == EMAIL for m in emails)
    assert {m["status"] for m in messages} >= {"delivered", "sent", "received", "failed"}
    assert any(m["error"] for m in messages)


def test_the_export_of_many_messages_is_complete_and_in_order(api, db, clock):
    member = api.enrol("many-1")
    count = member_export.BATCH * 2 + 7  # three batches
    now = clock.current
    rows = [{"member_id": member["id"], "direction": "in", "channel": "sms", "status": "received",
             "body": f"message {n}", "send_after": now, "created_at": now, "updated_at": now, "data": {}}
            for n in range(count)]
    with db.session() as session, session.begin():
        session.execute(insert(Message), rows)
    export = api.get(f"/members/{member['id']}/export").get_json()
    bodies = [m["body"] for m in export["messages"] if m["direction"] == "in"]
    assert bodies == [f"message {n}" for n in range(count)]


def test_export_answers_404_for_no_such_member_and_401_without_a_key(api):
    assert api.get("/members/999999/export").status_code == 404
    assert api.client.get("/api/v1/members/1/export").status_code == 401


def test_the_export_is_in_the_openapi_document(api):
    document = api.client.get("/api/openapi.json").get_json()
    operation = document["paths"]["/api/v1/members/{member_id}/export"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/MemberExport")
    properties = document["components"]["schemas"]["MemberExport"]["properties"]
    assert set(properties) == {"exported_at", "member", *SECTION_SCHEMAS}


# --- erasure -----------------------------------------------------------------------------------


def leftovers(db, values) -> list[tuple[str, str, str]]:
    """(table, column, value) wherever any of `values` appears, in any case, in any column of any
    table the database has (reflected, so a table added later is searched too)."""
    wanted = [value.lower() for value in values]
    metadata = MetaData()
    found = []
    with db.engine.connect() as connection:
        metadata.reflect(connection)
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)).mappings():
                for column, value in row.items():
                    shown = json.dumps(value, default=str) if isinstance(value, (dict, list)) else str(value)
                    if any(needle in shown.lower() for needle in wanted):
                        found.append((table.name, column, shown[:120]))
    return found


def _ledger_sum(db, member_id) -> int:
    with db.session() as session:
        return session.scalar(select(func.sum(LedgerEntry.points)).where(LedgerEntry.member_id == member_id))


def test_erasure_leaves_no_personal_data_in_any_table(papp, papi, pdb, life):
    mid = life["member"]
    assert len(leftovers(pdb, DISTINCTIVE)) > 20  # the search finds them while they are there
    balance = papi.get(f"/members/{mid}").get_json()["points"]
    ledger_before = papi.get(f"/members/{mid}/ledger?limit=200").get_json()["items"]

    assert papi.delete(f"/members/{mid}").status_code == 204

    left = leftovers(pdb, DISTINCTIVE)
    assert left == [], "\n".join(map(str, left))
    assert papi.get(f"/members/{mid}").status_code == 404
    assert papi.delete(f"/members/{mid}").status_code == 404
    ledger = papi.get(f"/members/{mid}/ledger?limit=200")
    assert ledger.status_code == 200 and ledger.get_json()["items"] == ledger_before
    assert _ledger_sum(pdb, mid) == balance
    thread = papi.get(f"/members/{mid}/messages?limit=200").get_json()["items"]
    assert thread and all(m["body"] == "" and m["to"] is None and m["subject"] is None for m in thread)
    with pdb.session() as session:
        row = session.get(Member, mid)
        assert row.erased_at is not None and (row.sms_consent, row.email_consent) == (False, False)
    # what stays is about nobody: an export now shows only the anonymised remains
    export = papi.get(f"/members/{mid}/export").get_json()
    assert export["member"]["erased_at"] and export["feedback"] and export["feedback"][0]["text"] is None
    assert export["idempotency_records"] == [] and len(export["ledger"]) == len(ledger_before)


def test_erasure_touches_no_one_else(papi, pdb, life):
    assert papi.delete(f"/members/{life['member']}").status_code == 204
    friend = papi.get(f"/members/{life['friend']}").get_json()
    assert (friend["first_name"], friend["email"]) == ("Bystander", "friend@example.net")
    assert all(m.body and m.to_address for m in _messages(pdb, life["friend"]))


def test_queued_messages_of_an_erased_member_are_skipped(papp, papi, pdb, fake_provider):
    member = papi.enrol("queued-1", first_name=FIRST, phone=PHONE, email=EMAIL)
    [welcome] = _messages(pdb, member["id"])
    assert welcome.status == "queued"
    assert papi.delete(f"/members/{member['id']}").status_code == 204
    deliver(papp)
    [welcome] = _messages(pdb, member["id"])
    assert (welcome.status, welcome.reason, welcome.body) == ("skipped", "member erased", "")
    assert fake_provider.request_count() == 0


def test_an_opt_out_outlives_the_erased_member(papp, papi, pdb, phone, fake_provider):
    """STOP stays honoured: the shop enrolling the person anew (same number, consent given) does
    not text them until they text START."""
    first = papi.enrol("stop-1", phone=PHONE, email=None)
    assert "unsubscribed" in phone.text("STOP")
    assert papi.delete(f"/members/{first['id']}").status_code == 204
    with pdb.session() as session:
        [kept] = session.scalars(select(Suppression)).all()
        assert kept.address_hash == address_key("sms", PHONE) and "opted out" in kept.reason

    again = papi.enrol("stop-2", phone=PHONE, email=None)
    deliver(papp)
    [welcome] = _messages(pdb, again["id"])
    assert welcome.status == "suppressed" and fake_provider.request_count("sms") == 0

    assert "subscribed" in phone.text("START")
    papi.post("/flows/welcome/test", {"member_id": again["id"]}, role="marketer")
    deliver(papp)
    assert fake_provider.request_count("sms") == 1


def test_an_email_opt_out_outlives_the_erased_member_until_the_shop_has_consent_again(papp, papi, pdb):
    first = papi.enrol("unsub-1", phone=None, email=EMAIL)
    assert papp.test_client().post(f"/unsubscribe/{_token(pdb, first['id'])}").status_code < 400
    assert papi.delete(f"/members/{first['id']}").status_code == 204

    again = papi.enrol("unsub-2", phone=None, email=EMAIL.upper())
    test = papi.post("/flows/welcome/test", {"member_id": again["id"]}, role="marketer").get_json()
    assert test["status"] == "suppressed"
    assert papi.patch(f"/members/{again['id']}", {"consent": {"email": True}}).status_code == 200
    test = papi.post("/flows/welcome/test", {"member_id": again["id"]}, role="marketer").get_json()
    assert test["status"] == "queued"


def _token(db, member_id) -> str:
    with db.session() as session:
        return session.get(Member, member_id).unsubscribe_token


# --- migration 0006 ----------------------------------------------------------------------------


def test_the_migration_hashes_suppressions_and_finds_the_members_of_idempotency_keys(api, db):
    member = api.enrol("mig-1")["id"]
    assert api.purchase(member, "10.00", key="order-mig-1").status_code == 201
    assert api.post(f"/members/{member}/redemptions", {"reward_id": 1},
                    headers={"Idempotency-Key": "redeem-mig-1"}).status_code == 201
    config = migrate.alembic_config(db.engine)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO suppressions (channel, address, reason, created_at) VALUES "
            "('email', 'Bounced@Example.com', 'sendgrid bounce: 550 <bounced@example.com> unknown', "
            "CURRENT_TIMESTAMP)"))
    migrate.upgrade(db.engine)
    with db.session() as session:
        [row] = session.scalars(select(Suppression)).all()
        assert row.address_hash == address_key("email", "bounced@example.com")
        assert row.reason == "sendgrid bounce: 550 <[erased]> unknown"
        keys = dict(session.execute(text("SELECT key, member_id FROM idempotency_records")).all())
    assert keys == {"order-mig-1": member, "redeem-mig-1": member}


def test_decimal_values_in_the_export_are_strings(api):
    member = api.enrol("dec-1")["id"]
    api.purchase(member, "19.99")
    [event] = api.get(f"/members/{member}/export").get_json()["events"]
    assert Decimal(event["amount"]) == Decimal("19.99")
