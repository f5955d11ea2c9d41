"""Inbound SMS (POST /webhooks/twilio/sms): whole conversations, signed with Twilio's own validator."""

from __future__ import annotations

import re
import threading
from urllib.parse import quote

import pytest
from flask import request
from sqlalchemy import func, select

from engage import create_app
from engage.jobs import JOBS
from engage.models import (
    ConsentEvent,
    Feedback,
    LedgerEntry,
    Member,
    Message,
    Redemption,
    WebhookEvent,
)
from tests.support.messaging import queue
from tests.support.signing import twilio_signature
from tests.support.sms import PATH, PUBLIC, Phone, answer_of


@pytest.fixture
def flows_on():
    return True  # whole conversations: welcome, feedback requests …


@pytest.fixture
def phone(papp, fake_provider):
    return Phone(papp, fake_provider.twilio_auth_token)


def deliver(app) -> dict:
    """The outbox job: prepare due flow messages, then send everything due."""
    now = app.extensions["engage.clock"]()
    return JOBS["outbox"].run(app, now.date(), now)


def db_of(app):
    return app.extensions["engage.db"]


def count(app, model, *where) -> int:
    with db_of(app).session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def member_row(app, member_id) -> Member:
    with db_of(app).session() as session:
        return session.get(Member, member_id)


def balance(papi, member_id) -> int:
    return papi.get(f"/members/{member_id}").get_json()["points"]


def ledger(app, member_id) -> list[LedgerEntry]:
    with db_of(app).session() as session:
        return list(session.scalars(select(LedgerEntry).where(LedgerEntry.member_id == member_id)
                                    .order_by(LedgerEntry.id)))


def inbound_rows(app, member_id=None) -> list[Message]:
    with db_of(app).session() as session:
        query = select(Message).where(Message.direction == "in").order_by(Message.id)
        if member_id is not None:
            query = query.where(Message.member_id == member_id)
        return list(session.scalars(query))


def sms_sent_to_provider(fake_provider) -> list[str]:
    return [r["form"]["Body"] for r in fake_provider.requests("sms") if r.get("status") == 201]


# --- Whole conversations ------------------------------------------------------------------------


def test_welcome_points_redeem_coupon(papp, papi, phone, fake_provider):
    member = papi.enrol("conv-1")
    deliver(papp)
    assert len(sms_sent_to_provider(fake_provider)) == 1  # the welcome SMS

    points = phone.text("POINTS")
    assert "100" in points and "Bronze" in points and "400" in points  # balance, tier, to Silver
    assert "REDEEM" in points  # EUR 10 off is affordable

    redeemed = phone.text("redeem")
    code = re.search(r"code: (\S+)", redeemed).group(1)
    assert "EUR 10 off" in redeemed
    with db_of(papp).session() as session:
        assert session.scalar(select(Redemption.coupon_code).where(Redemption.member_id == member["id"])) == code
    assert balance(papi, member["id"]) == 0

    again = phone.text("REDEEM")
    assert "100" in again and code not in again  # short by 100 for EUR 10 off
    assert count(papp, Redemption) == 1

    # One thread: inbound texts and the TwiML answers, each answer pointing at its question.
    thread = papi.get(f"/members/{member['id']}/messages").get_json()["items"]
    inbound = [m for m in thread if m["direction"] == "in"]
    answers = [m for m in thread if m["direction"] == "out" and m["in_reply_to_id"]]
    assert [m["action"] for m in reversed(inbound)] == ["balance", "redeem", "redeem_refused"]
    assert [m["body"] for m in reversed(inbound)] == ["POINTS", "redeem", "REDEEM"]
    assert {a["in_reply_to_id"] for a in answers} == {m["id"] for m in inbound}
    assert all(a["status"] == "sent" and a["flow"] is None for a in answers)
    assert any(m["flow"] == "welcome" for m in thread)
    # TwiML answers are not sent again through the API.
    deliver(papp)
    assert len(sms_sent_to_provider(fake_provider)) == 1


def test_feedback_request_then_rating_earns_once(papp, papi, phone, clock):
    member = papi.enrol("conv-2")
    assert papi.purchase(member["id"], "20.00").status_code == 201
    clock.advance(days=3, minutes=1)
    deliver(papp)
    with db_of(papp).session() as session:
        request_id = session.scalar(select(Message.id).where(Message.flow == "feedback_request",
                                                             Message.status == "sent"))
    assert request_id
    before = balance(papi, member["id"])

    sid = "SM" + "f" * 32
    thanks = phone.text("4", sid=sid)
    assert "Thank you for your feedback" in thanks
    assert balance(papi, member["id"]) == before + 25
    assert phone.text("4", sid=sid) == thanks  # Twilio retry: same answer, nothing new
    assert phone.text(" 5 stars ") is not None  # a second rating is just a reply now
    assert balance(papi, member["id"]) == before + 25

    with db_of(papp).session() as session:
        rows = list(session.scalars(select(Feedback)))
        assert [(f.rating, f.request_message_id) for f in rows] == [(4, request_id)]
        entry = session.scalar(select(LedgerEntry).where(LedgerEntry.source == f"feedback:message:{request_id}"))
        assert entry.points == 25 and f"inbound message {rows[0].inbound_message_id}" in entry.reason
    # The shop reporting the same feedback through the API does not pay twice.
    event = papi.post(f"/members/{member['id']}/events", {"type": "feedback"}).get_json()
    assert event["points_awarded"] == 0
    actions = [m.action for m in inbound_rows(papp, member["id"])]
    assert actions == ["feedback", "reply"]
    assert inbound_rows(papp, member["id"])[0].in_reply_to_id == request_id


def test_free_text_after_feedback_request_is_feedback(papp, papi, phone, clock):
    member = papi.enrol("conv-3", locale="de")
    papi.purchase(member["id"], "30.00")
    clock.advance(days=3, minutes=1)
    deliver(papp)
    thanks = phone.text("Sehr netter Service, danke!")
    assert "Danke" in thanks or "danke" in thanks
    with db_of(papp).session() as session:
        row = session.scalar(select(Feedback))
        assert row.rating is None and row.text == "Sehr netter Service, danke!"
    # GDPR erasure takes what the member wrote, in the thread and in the feedback.
    assert papi.delete(f"/members/{member['id']}").status_code in (200, 204)
    with db_of(papp).session() as session:
        assert session.scalar(select(Feedback)).text is None
        assert {m.body for m in session.scalars(select(Message).where(Message.direction == "in"))} == {""}


def test_stop_blocks_every_sms_flow_email_continues_then_start(papp, papi, phone, fake_provider):
    member = papi.enrol("conv-4")  # welcome queued by SMS
    confirmation = phone.text("Stop")
    assert "unsubscribed" in confirmation and "START" in confirmation
    assert member_row(papp, member["id"]).sms_opted_out is True
    with db_of(papp).session() as session:
        event = session.scalar(select(ConsentEvent).where(ConsentEvent.change == "opt_out"))
        assert event.channel == "sms" and event.source.startswith("sms:STOP:message:")

    # Nothing more by SMS: the welcome queued as an SMS goes by email instead, and so do new flows.
    papi.purchase(member["id"], "600.00")  # Silver: tier congratulations, reminder, feedback later
    deliver(papp)
    deliver(papp)  # the welcome, rendered again for email by the first run, goes with the next
    assert sms_sent_to_provider(fake_provider) == []
    with db_of(papp).session() as session:
        welcome = session.scalar(select(Message).where(Message.member_id == member["id"],
                                                       Message.flow == "welcome"))
        assert (welcome.channel, welcome.status, welcome.segments) == ("email", "sent", None)
        assert welcome.subject and "sms: opted out" in welcome.reason
    assert fake_provider.request_count("email") >= 2
    assert phone.text("POINTS") is None  # no answer to an opted-out member
    assert phone.text("help") is not None  # HELP is answered regardless

    assert "subscribed" in phone.text("START")
    row = member_row(papp, member["id"])
    assert row.sms_opted_out is False
    papi.purchase(member["id"], "1000.00")  # Gold: tier congratulations by SMS again
    deliver(papp)
    assert any("Gold" in body for body in sms_sent_to_provider(fake_provider))
    changes = [(e.change, e.source.split(":")[1]) for e in _consent_events(papp, member["id"])
               if e.channel == "sms" and e.change in ("opt_out", "opt_in")]
    assert changes == [("opt_out", "STOP"), ("opt_in", "START")]


def test_stop_with_no_other_channel_suppresses_the_queued_sms(papp, papi, phone, fake_provider):
    member = papi.enrol("conv-4b", consent={"sms": True, "email": False})  # welcome queued by SMS
    assert "unsubscribed" in phone.text("STOP")
    deliver(papp)
    deliver(papp)
    assert sms_sent_to_provider(fake_provider) == [] and fake_provider.request_count("email") == 0
    with db_of(papp).session() as session:
        welcome = session.scalar(select(Message).where(Message.member_id == member["id"],
                                                       Message.flow == "welcome"))
        assert welcome.status == "suppressed" and welcome.data["chosen_again"] is True


def _consent_events(app, member_id):
    with db_of(app).session() as session:
        return list(session.scalars(select(ConsentEvent).where(ConsentEvent.member_id == member_id)
                                    .order_by(ConsentEvent.id)))


def test_twilio_21610_suppression_is_lifted_by_start(papp, papi, phone, clock, fake_provider):
    member = papi.enrol("conv-5")
    fake_provider.fail_next("sms", "21610")
    deliver(papp)
    assert member_row(papp, member["id"]).sms_opted_out is True
    assert phone.text("START") is not None
    message_id = queue(db_of(papp), member["id"], clock.current, flow="tier_congratulations", channels=("sms",))
    deliver(papp)
    with db_of(papp).session() as session:
        assert session.get(Message, message_id).status == "sent"


# --- Keywords -------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["STOP", "stop", "  Stop!  ", "UNSUBSCRIBE", "cancel.", "End", "quit",
                                  "REVOKE", "optout", "STOPALL", "\uff33\uff34\uff2f\uff30", "stop 🛑"])
def test_stop_and_synonyms_opt_out(papp, papi, phone, body):
    member = papi.enrol("kw-1")
    assert "START" in phone.text(body)
    assert member_row(papp, member["id"]).sms_opted_out is True


@pytest.mark.parametrize("body", ["please stop", "stop it", "STOP STOP", "don't stop"])
def test_stop_inside_a_sentence_is_just_a_reply(papp, papi, phone, body):
    member = papi.enrol("kw-2")
    assert "Thanks for your message" in phone.text(body)
    assert member_row(papp, member["id"]).sms_opted_out is False


@pytest.mark.parametrize("locale,needle", [("en", "you have"), ("nl", "je hebt"), ("de", "Punkte"),
                                           ("ro", "puncte")])
def test_answers_in_the_members_language(papp, papi, phone, locale, needle):
    papi.enrol("kw-3", locale=locale)
    assert needle.lower() in phone.text("balance").lower()


def test_info_and_yes_and_unstop(papp, papi, phone):
    member = papi.enrol("kw-4")
    assert "POINTS" in phone.text("INFO")
    phone.text("QUIT")
    assert "START" not in phone.text("yes")
    assert member_row(papp, member["id"]).sms_opted_out is False
    phone.text("CANCEL")
    phone.text("unstop")
    assert member_row(papp, member["id"]).sms_opted_out is False


def test_opt_out_type_from_advanced_opt_out_is_honoured(papp, papi, phone):
    member = papi.enrol("kw-5")
    phone.text("ARRET", OptOutType="STOP")  # a custom keyword Twilio recognised
    assert member_row(papp, member["id"]).sms_opted_out is True


def test_stop_opts_out_everyone_on_the_number(papp, papi, phone):
    first, second = papi.enrol("kw-6"), papi.enrol("kw-7")
    phone.text("STOP")
    assert member_row(papp, first["id"]).sms_opted_out and member_row(papp, second["id"]).sms_opted_out


def test_answers_are_never_held_by_quiet_hours_or_caps(papp, papi, phone, clock):
    from datetime import datetime, timezone

    papi.enrol("kw-8")
    clock.set(datetime(2026, 3, 2, 23, 30, tzinfo=timezone.utc))  # 00:30 in Amsterdam
    for _ in range(4):
        assert phone.text("POINTS")


# --- Reply to earn --------------------------------------------------------------------------


def test_reply_points_once_per_message_and_three_a_day(papp, papi, phone, clock):
    member = papi.enrol("earn-1", email=None)
    db = db_of(papp)

    def flow_message():
        message_id = queue(db, member["id"], clock.current, flow="redemption_reminder", channels=("sms",),
                           exempt=True)
        deliver(papp)
        return message_id

    start = balance(papi, member["id"])
    first = flow_message()
    assert "Thanks for your message" in phone.text("Great, thanks!")
    phone.text("👍")
    assert balance(papi, member["id"]) == start + 5  # once per outbound message
    flow_message()
    phone.text("ok")
    flow_message()
    phone.text("ok")
    assert balance(papi, member["id"]) == start + 15
    fourth = flow_message()
    phone.text("ok")
    assert balance(papi, member["id"]) == start + 15  # three a day
    clock.advance(days=1)
    phone.text("ok again")
    assert balance(papi, member["id"]) == start + 20  # a new local day

    entries = [e for e in ledger(papp, member["id"]) if e.source.startswith("reply:")]
    assert entries[0].source == f"reply:message:{first}" and entries[-1].source == f"reply:message:{fourth}"
    inbound = {m.id: m for m in inbound_rows(papp, member["id"])}
    for entry in entries:
        named = int(re.search(r"inbound message (\d+)", entry.reason).group(1))
        assert inbound[named].action == "reply" and inbound[named].data["points"] == 5
    reasons = [m.data.get("reason") for m in inbound.values()]
    assert "daily reply limit reached" in reasons and "this message was already rewarded" in reasons


def test_reply_without_a_recent_flow_message_earns_nothing(papp, papi, phone, clock):
    member = papi.enrol("earn-2", email=None)
    start = balance(papi, member["id"])
    clock.advance(days=8)  # the welcome SMS (if any) is older than the reply window
    assert phone.text("hello?") is not None
    assert balance(papi, member["id"]) == start


# --- Retries, strangers, odd input, signatures ---------------------------------------------


def test_same_message_sid_twice_changes_nothing(papp, papi, phone):
    member = papi.enrol("dup-1")
    params = phone.params("REDEEM")
    first, second = answer_of(phone.post(params)), answer_of(phone.post(params))
    assert first == second and "code:" in first
    assert count(papp, Redemption) == 1
    assert len(inbound_rows(papp, member["id"])) == 1
    assert balance(papi, member["id"]) == 0


def test_concurrent_retries_are_handled_once(papp, papi, phone):
    member = papi.enrol("dup-2")
    params = phone.params("REDEEM")
    answers: list = []
    barrier = threading.Barrier(3)

    def deliver():
        barrier.wait()
        answers.append(answer_of(phone.post(params)))

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(answers)) == 1 and "code:" in answers[0]
    assert count(papp, Redemption) == 1 and len(inbound_rows(papp, member["id"])) == 1


def test_concurrent_replies_to_one_message_earn_once(papp, papi, phone, clock):
    """The facts (was this message rewarded, replies today) are read after the member's lock."""
    member = papi.enrol("race-reply", email=None)
    queue(db_of(papp), member["id"], clock.current, flow="redemption_reminder", channels=("sms",), exempt=True)
    deliver(papp)
    start = balance(papi, member["id"])
    barrier = threading.Barrier(8)
    answers: list = []

    def reply(n: int):
        barrier.wait()
        answers.append(Phone(papp, phone.token).text(f"thanks {n}"))

    threads = [threading.Thread(target=reply, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 8 and all("Thanks for your message" in answer for answer in answers)
    assert balance(papi, member["id"]) == start + 5
    rows = inbound_rows(papp, member["id"])
    assert len(rows) == 8 and sum(1 for row in rows if row.data.get("points")) == 1


def test_unknown_sender_gets_not_a_member_and_nothing_is_stored(papp, papi, fake_provider):
    stranger = Phone(papp, fake_provider.twilio_auth_token, "+31687654321")
    answer = stranger.text("POINTS")
    assert "isn't linked" in answer and "Engage Rewards" in answer
    assert stranger.text("STOP") is None
    assert count(papp, Message) == 0
    assert count(papp, WebhookEvent, WebhookEvent.provider == "twilio_sms") == 2


@pytest.mark.parametrize("body,extra", [
    ("", {}),
    ("", {"NumMedia": "1", "MediaUrl0": "https://api.twilio.com/media/ME1", "MediaContentType0": "image/jpeg"}),
    ("😀🎉👍🏽", {}),
    ("⭐⭐⭐⭐", {}),
    ("x" * 1600, {}),
    ("Ünïcödé ṫëẍṫ \u200b\u202e", {}),
    ("nul\x00byte", {}),
    ("line\r\nbreaks\ttabs", {}),
    ("POINTS", {"NumMedia": "lots"}),
])
def test_odd_bodies_never_fail(papp, papi, phone, body, extra):
    member = papi.enrol("odd-1")
    response = phone.post(phone.params(body, **extra))
    assert response.status_code == 200
    answer_of(response)
    assert len(inbound_rows(papp, member["id"])) == 1


@pytest.mark.parametrize("sender", ["", "abc", "+1", "whatsapp:+31612345678", "+316123456789012345678",
                                    "0031 6 12 34 56 78 ☎", "\x00"])
def test_malformed_numbers_are_strangers(papp, papi, fake_provider, sender):
    papi.enrol("odd-2")
    stranger = Phone(papp, fake_provider.twilio_auth_token, sender)
    response = stranger.post(stranger.params("POINTS"))
    assert response.status_code == 200
    assert "isn't linked" in answer_of(response)


def test_invalid_utf8_is_read_not_refused(papp, papi, phone):
    member = papi.enrol("odd-4")
    params = phone.params("placeholder")
    raw = "&".join(f"{k}={quote(v)}" for k, v in params.items() if k != "Body") + "&Body=%FF%FE%ED%A0%BDok"
    with papp.test_request_context(PATH, method="POST", data=raw, content_type="application/x-www-form-urlencoded"):
        seen = request.form.to_dict()  # Twilio signs what it sent; sign what the parser reads
    response = phone.client.post(PATH, data=raw, content_type="application/x-www-form-urlencoded",
                                 headers={"X-Twilio-Signature": twilio_signature(phone.token, PUBLIC + PATH, seen)})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert inbound_rows(papp, member["id"])[0].body.endswith("ok")


def test_empty_message_says_nothing(papp, papi, phone):
    member = papi.enrol("odd-3")
    assert phone.text("   ") is None
    assert inbound_rows(papp, member["id"])[0].action == "empty"


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl", "internal", "other-token"])
def test_unsigned_or_mis_signed_is_refused_and_nothing_stored(papp, papi, phone, signature):
    member = papi.enrol("sig-1")
    params = phone.params("STOP")
    if signature == "internal":  # signed for the URL the proxy forwarded to, not the public one
        signature = twilio_signature(phone.token, "http://localhost" + PATH, params)
    elif signature == "other-token":
        signature = twilio_signature("not-the-token", PUBLIC + PATH, params)
    response = phone.post(params, signature=signature)
    assert response.status_code == 403
    assert member_row(papp, member["id"]).sms_opted_out is False
    assert count(papp, Message, Message.direction == "in") == 0 and count(papp, WebhookEvent) == 0


def test_tampered_body_is_refused(papp, papi, phone):
    papi.enrol("sig-2")
    params = phone.params("POINTS")
    signature = twilio_signature(phone.token, PUBLIC + PATH, params)
    response = phone.post({**params, "Body": "STOP"}, signature=signature)
    assert response.status_code == 403


@pytest.mark.parametrize("signed_url", [PUBLIC + PATH, "https://engage.example.com:443" + PATH])
def test_signature_over_either_port_form_of_the_public_url_is_accepted(papp, papi, phone, signed_url):
    # Twilio signs the URL with or without its default port; the SDK accepts both, and so do we.
    member = papi.enrol("sig-4")
    params = phone.params("STOP")
    assert phone.post(params, signature=twilio_signature(phone.token, signed_url, params)).status_code == 200
    assert member_row(papp, member["id"]).sms_opted_out is True


def test_signature_checks_the_public_url_behind_a_proxy(papp, papi, phone):
    member = papi.enrol("sig-3")
    params = phone.params("STOP")
    response = phone.client.post(
        PATH, data=params, base_url="http://10.0.0.7:8000",
        headers={"X-Twilio-Signature": twilio_signature(phone.token, PUBLIC + PATH, params),
                 "X-Forwarded-Proto": "https", "X-Forwarded-Host": "engage.example.com"})
    assert response.status_code == 200
    assert member_row(papp, member["id"]).sms_opted_out is True


def test_no_auth_token_configured_refuses_everything(database_url, clock):
    from engage.config import Config

    app = create_app(Config(database_url=database_url, public_url=PUBLIC, testing=True), clock=clock)
    try:
        phone = Phone(app, "anything")
        assert phone.post(phone.params("STOP")).status_code == 403
    finally:
        app.extensions["engage.db"].dispose()
