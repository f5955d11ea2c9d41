"""Inbound email (POST /webhooks/sendgrid/inbound, SendGrid Inbound Parse): replies, feedback, keywords."""

from __future__ import annotations

import base64
import itertools
import json

import pytest
from sqlalchemy import func, select

from engage import create_app
from engage.jobs import JOBS
from engage.models import ConsentEvent, Feedback, LedgerEntry, Member, Message, WebhookEvent
from tests.support.messaging import provider_config

SECRET = "inbound-s3cret"
PATH = "/webhooks/sendgrid/inbound"
_ids = itertools.count(1)


@pytest.fixture
def flows_on():
    return True


@pytest.fixture
def provider_overrides():
    return {"inbound_email_secret": SECRET}


def multipart(fields: dict) -> tuple[bytes, str]:
    """A multipart/form-data body the way Inbound Parse posts it (each value as raw bytes)."""
    boundary = b"xYzZY"
    body = b""
    for name, value in fields.items():
        data = value if isinstance(value, bytes) else str(value).encode("utf-8")
        body += (b"--" + boundary + b"\r\nContent-Disposition: form-data; name=\"" + name.encode()
                 + b"\"\r\n\r\n" + data + b"\r\n")
    return body + b"--" + boundary + b"--\r\n", "multipart/form-data; boundary=xYzZY"


def parse_fields(sender: str, text: str, *, subject="Re: Welcome to Engage Rewards", message_id=None,
                 extra_headers: str = "", **extra) -> dict:
    message_id = message_id or f"<reply-{next(_ids)}@mail.example.com>"
    headers = (f"Received: by mx.sendgrid.net\nFrom: Ana <{sender}>\nTo: rewards@reply.shop.example\n"
               f"Subject: {subject}\nMessage-ID: {message_id}\nMIME-Version: 1.0\n{extra_headers}")
    return {"headers": headers, "dkim": "{@example.com : pass}", "to": "rewards@reply.shop.example",
            "from": f"Ana <{sender}>", "text": text, "html": "<div>" + text + "</div>", "sender_ip": "10.0.0.1",
            "envelope": json.dumps({"to": ["rewards@reply.shop.example"], "from": sender}),
            "attachments": "0", "subject": subject, "charsets": json.dumps(
                {"to": "UTF-8", "html": "UTF-8", "subject": "UTF-8", "from": "UTF-8", "text": "UTF-8"}),
            "SPF": "pass", "spam_score": "0.1", **extra}


def post(app, fields: dict, query: str = f"?secret={SECRET}", headers: dict | None = None):
    body, content_type = multipart(fields)
    return app.test_client().post(PATH + query, data=body, content_type=content_type, headers=headers or {})


def reply(app, sender: str, text: str, **kwargs):
    response = post(app, parse_fields(sender, text, **kwargs))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def deliver(app) -> dict:
    now = app.extensions["engage.clock"]()
    return JOBS["outbox"].run(app, now.date(), now)


def db_of(app):
    return app.extensions["engage.db"]


def rows(app, model, *where, order=None):
    with db_of(app).session() as session:
        return list(session.scalars(select(model).where(*where).order_by(order or model.id)))


def balance(papi, member_id) -> int:
    return papi.get(f"/members/{member_id}").get_json()["points"]


def emails_sent(fake_provider) -> list[dict]:
    return [r["json"] for r in fake_provider.requests("email") if r.get("status") == 202]


def text_of(mail: dict) -> str:
    return next(c["value"] for c in mail["content"] if c["type"] == "text/plain")


QUOTE = ("\n\nOn Mon, 2 Mar 2026 at 11:00, Engage Rewards <rewards@shop.example> wrote:\n"
         "> Welcome, Ana! You have 100 points.\n> STOP\n> 5\n")


# --- Protection -------------------------------------------------------------------------------


def test_secret_in_url_or_basic_auth_password(papp, papi):
    member = papi.enrol("mail-1", phone=None)
    fields = parse_fields("mail-1@example.com", "Hello!")
    assert post(papp, fields, query="").status_code == 403
    assert post(papp, fields, query="?secret=wrong").status_code == 403
    wrong = base64.b64encode(b"engage:nope").decode()
    assert post(papp, fields, query="", headers={"Authorization": f"Basic {wrong}"}).status_code == 403
    assert rows(papp, Message, Message.direction == "in") == [] and rows(papp, WebhookEvent) == []

    assert post(papp, fields).status_code == 200
    right = base64.b64encode(f"engage:{SECRET}".encode()).decode()
    again = parse_fields("mail-1@example.com", "Hello again!")
    assert post(papp, again, query="", headers={"Authorization": f"Basic {right}"}).status_code == 200
    assert len(rows(papp, Message, Message.direction == "in", Message.member_id == member["id"])) == 2


def test_no_secret_configured_refuses(database_url, fake_provider, clock):
    app = create_app(provider_config(database_url, fake_provider), clock=clock)
    try:
        assert post(app, parse_fields("x@example.com", "hi"), query="?secret=").status_code == 403
        assert post(app, parse_fields("x@example.com", "hi"), query="?secret=None").status_code == 403
    finally:
        app.extensions["engage.db"].dispose()


# --- Replies, feedback, keywords ---------------------------------------------------------------


def test_reply_to_welcome_email_earns_once_and_is_acknowledged(papp, papi, fake_provider):
    member = papi.enrol("mail-2", phone=None)
    deliver(papp)  # the welcome email
    start = balance(papi, member["id"])
    answer = reply(papp, "MAIL-2@example.com", "Thanks, looking forward to it!" + QUOTE)
    assert answer["action"] == "reply"
    assert balance(papi, member["id"]) == start + 5
    inbound = rows(papp, Message, Message.direction == "in")[0]
    assert inbound.body == "Thanks, looking forward to it!" and inbound.channel == "email"
    assert inbound.from_address == "mail-2@example.com"
    reply(papp, "mail-2@example.com", "One more thing")
    assert balance(papi, member["id"]) == start + 5  # once per outbound message

    deliver(papp)
    answers = [m for m in emails_sent(fake_provider) if m["subject"].startswith("Re:")]
    assert len(answers) == 2
    assert answers[0]["personalizations"][0]["to"][0]["email"] == "mail-2@example.com"
    assert "Thanks for your message" in text_of(answers[0])
    thread = papi.get(f"/members/{member['id']}/messages").get_json()["items"]
    assert {m["in_reply_to_id"] for m in thread if m["direction"] == "out" and m["in_reply_to_id"]} == {
        m["id"] for m in thread if m["direction"] == "in"}


def test_feedback_by_email_with_rating_on_first_line(papp, papi, clock):
    member = papi.enrol("mail-3", phone=None)
    papi.purchase(member["id"], "40.00")
    clock.advance(days=3, minutes=1)
    deliver(papp)
    request_id = rows(papp, Message, Message.flow == "feedback_request")[0].id
    start = balance(papi, member["id"])
    fields = parse_fields("mail-3@example.com", "5\nThe parcel came a day early.\n\n-- \nAna" + QUOTE,
                          subject="Re: How was your order?")
    assert post(papp, fields).get_json()["action"] == "feedback"
    assert post(papp, fields).get_json()["action"] == "duplicate"  # SendGrid retry: nothing new
    assert balance(papi, member["id"]) == start + 25
    feedback = rows(papp, Feedback)
    assert [(f.rating, f.request_message_id) for f in feedback] == [(5, request_id)]
    assert feedback[0].text == "5\nThe parcel came a day early."
    entry = rows(papp, LedgerEntry, LedgerEntry.source == f"feedback:message:{request_id}")[0]
    assert f"inbound message {feedback[0].inbound_message_id}" in entry.reason


def test_stop_by_email_opts_out_of_email_and_confirms(papp, papi, fake_provider):
    member = papi.enrol("mail-4")
    assert reply(papp, "mail-4@example.com", "STOP\n\nAna" + QUOTE)["action"] == "opt_out"
    with db_of(papp).session() as session:
        row = session.get(Member, member["id"])
        assert row.email_opted_out is True and row.sms_opted_out is False
        event = session.scalar(select(ConsentEvent).where(ConsentEvent.change == "opt_out"))
        assert event.channel == "email" and event.source.startswith("email:STOP:message:")
    deliver(papp)
    confirmations = [m for m in emails_sent(fake_provider) if m["subject"].startswith("Re:")]
    assert len(confirmations) == 1 and "unsubscribed" in text_of(confirmations[0])
    # It names email, not texts, and does not promise that START by email works (it does not).
    assert "emails" in text_of(confirmations[0])
    assert "texts" not in text_of(confirmations[0]) and "START" not in text_of(confirmations[0])
    # An opted-out member gets no other answer, and START by email does not opt back in.
    assert reply(papp, "mail-4@example.com", "POINTS")["action"] == "balance"
    assert reply(papp, "mail-4@example.com", "START")["action"] == "reply"
    deliver(papp)
    assert len([m for m in emails_sent(fake_provider) if m["subject"].startswith("Re:")]) == 1
    with db_of(papp).session() as session:
        assert session.get(Member, member["id"]).email_opted_out is True
    # The shop, having the member's consent again, lifts the email opt-out through the API.
    changed = papi.patch(f"/members/{member['id']}", {"consent": {"email": True}}).get_json()
    assert changed["opted_out"] == {"sms": False, "email": False} and changed["consent"]["email"] is True
    assert reply(papp, "mail-4@example.com", "POINTS")["action"] == "balance"
    deliver(papp)
    assert len([m for m in emails_sent(fake_provider) if m["subject"].startswith("Re:")]) == 2


def test_points_and_redeem_by_email(papp, papi, fake_provider):
    member = papi.enrol("mail-5", phone=None)
    reply(papp, "mail-5@example.com", "points", subject="")
    assert reply(papp, "mail-5@example.com", "REDEEM")["action"] == "redeem"
    assert balance(papi, member["id"]) == 0
    deliver(papp)
    texts = [text_of(m) for m in emails_sent(fake_provider) if m["subject"] != "Welcome to Engage Rewards"]
    assert any("100" in t and "Bronze" in t for t in texts)
    assert any("code:" in t for t in texts)


def test_auto_replies_are_stored_and_ignored(papp, papi, fake_provider):
    member = papi.enrol("mail-6", phone=None)
    deliver(papp)
    start, sent = balance(papi, member["id"]), len(emails_sent(fake_provider))
    answer = reply(papp, "mail-6@example.com", "I am out of the office until Monday.",
                   subject="Automatic reply: Welcome", extra_headers="Auto-Submitted: auto-replied\n")
    assert answer["action"] == "ignored"
    deliver(papp)
    assert balance(papi, member["id"]) == start and len(emails_sent(fake_provider)) == sent


def test_unknown_sender_is_not_stored_or_answered(papp, papi, fake_provider):
    papi.enrol("mail-7")
    assert reply(papp, "stranger@example.org", "REDEEM")["action"] == "unknown_sender"
    deliver(papp)
    assert rows(papp, Message, Message.direction == "in") == []
    assert all(m["personalizations"][0]["to"][0]["email"] != "stranger@example.org"
               for m in emails_sent(fake_provider))
    assert len(rows(papp, WebhookEvent, WebhookEvent.provider == "sendgrid_inbound")) == 1


# --- Encodings and odd input -----------------------------------------------------------------


def test_latin1_fields_are_decoded_with_their_charset(papp, papi, clock):
    member = papi.enrol("mail-8", phone=None)
    papi.purchase(member["id"], "40.00")
    clock.advance(days=3, minutes=1)
    deliver(papp)
    fields = parse_fields("mail-8@example.com", "")
    fields["text"] = "Très bien, merci à vous — ça marche!".encode("cp1252")
    fields["charsets"] = json.dumps({"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8", "text": "windows-1252",
                                     "html": "UTF-8"})
    assert post(papp, fields).get_json()["action"] == "feedback"
    assert rows(papp, Feedback)[0].text == "Très bien, merci à vous — ça marche!"


def test_raw_mime_mode(papp, papi):
    member = papi.enrol("mail-9", phone=None)
    raw = ("From: =?utf-8?q?Ana_M=C3=BCller?= <mail-9@example.com>\r\nTo: rewards@reply.shop.example\r\n"
           "Subject: Re: Welcome\r\nMessage-ID: <raw-1@example.com>\r\nMIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
           "Sch=F6n, danke!\r\n\r\nAm 02.03.2026 um 11:00 schrieb Engage Rewards <rewards@shop.example>:\r\n"
           "> Willkommen\r\n")
    response = post(papp, {"email": raw, "to": "rewards@reply.shop.example", "from": "mail-9@example.com",
                           "envelope": json.dumps({"from": "mail-9@example.com"}), "charsets": "{}"})
    assert response.status_code == 200 and response.get_json()["action"] == "reply"
    assert rows(papp, Message, Message.direction == "in", Message.member_id == member["id"])[0].body == "Schön, danke!"


@pytest.mark.parametrize("fields", [
    {},
    {"from": "", "text": ""},
    {"from": "not an address", "text": "STOP"},
    {"from": "<>", "envelope": "{not json", "charsets": "[1, 2]", "headers": "\x00\x01garbage"},
    {"from": "mail-10@example.com", "text": "", "html": "<p>4 &amp; <b>more</b></p>"},
    {"from": "mail-10@example.com", "text": "x" * 200_000},
    {"from": "mail-10@example.com", "text": "nul\x00byte 😀", "charsets": json.dumps({"text": "klingon-8"})},
    {"from": "mail-10@example.com", "text": b"\xff\xfe\xfa broken utf-8", "subject": b"\xc3\x28"},
    {"email": "not a mime message at all \x00"},
])
def test_odd_emails_never_fail(papp, papi, fields):
    papi.enrol("mail-10", phone=None)
    response = post(papp, fields)
    assert response.status_code == 200, response.get_data(as_text=True)


def test_urlencoded_post_is_read_too(papp, papi):
    papi.enrol("mail-11", phone=None)
    response = papp.test_client().post(f"{PATH}?secret={SECRET}", data={"from": "mail-11@example.com",
                                                                         "text": "hello"})
    assert response.status_code == 200 and response.get_json()["action"] == "reply"


def test_inbound_rows_count(papp, papi):
    papi.enrol("mail-12", phone=None)
    for n in range(3):
        reply(papp, "mail-12@example.com", f"message {n}")
    with db_of(papp).session() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in")) == 3
