"""The pure parts of inbound handling: what a reply means, and what an email reply says."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from engage.loyalty.replies import local_day_start, reply_points
from engage.messaging.email_reply import address, classify_reply, from_fields, reply_text
from engage.messaging.keywords import Inbound, classify
from engage.messaging.replies import decide, with_opt_out_type


@pytest.mark.parametrize("text,expected", [
    ("Thanks!\n\nOn Mon, 2 Mar 2026 at 11:00, Shop <a@shop.example> wrote:\n> Welcome", "Thanks!"),
    ("Thanks!\nOn Mon, 2 Mar 2026 at 11:00, Engage Rewards <rewards@shop.example>\nwrote:\n> hi", "Thanks!"),
    ("Dank je!\n\nOp ma 2 mrt 2026 om 11:00 schreef Engage <r@shop.example>:\n> Welkom", "Dank je!"),
    ("Danke!\n\nAm 02.03.2026 um 11:00 schrieb Engage <r@shop.example>:\n> Hallo", "Danke!"),
    ("Mulțumesc!\n\nÎn lun., 2 mar. 2026 la 11:00, Engage <r@shop.example> a scris:\n> Salut", "Mulțumesc!"),
    ("Great\r\n\r\n-----Original Message-----\r\nFrom: Engage\r\n", "Great"),
    ("Great\n________________________________\nFrom: Engage <r@shop.example>\nSent: Monday", "Great"),
    ("Great\n\nSent from my iPhone\n\n> quoted", "Great"),
    ("5\n-- \nAna de Vries\n+31 6 1234", "5"),
    ("> Welcome, Ana!\n> Reply STOP to opt out\n\nSTOP", "STOP"),
    ("", ""),
    ("\n\n  \n", ""),
])
def test_reply_text_keeps_the_members_own_words(text, expected):
    assert reply_text(text) == expected


def test_email_reply_keywords_on_the_first_line():
    assert classify_reply("STOP\n\nAna").kind == "opt_out"
    rated = classify_reply("4\nGood, but slow delivery")
    assert (rated.kind, rated.rating) == ("rating", 4)
    assert classify_reply("points\nand what about last week?").kind == "text"
    assert classify_reply("please stop").kind == "text"


def test_sender_address():
    assert address("Ana Müller <Ana.Muller@Example.COM>") == "ana.muller@example.com"
    assert address("nobody") is None and address("") is None and address(None) is None
    email = from_fields({"from": "", "envelope": '{"from": "x@y.example"}', "headers": "Auto-Submitted: auto-replied"})
    assert email.sender == "x@y.example" and email.automatic


@pytest.mark.parametrize("body,channel,feedback_open,action,always", [
    ("STOP", "sms", False, "opt_out", True),
    ("help", "email", False, "help", True),
    ("START", "sms", False, "opt_in", False),
    ("START", "email", False, "reply", False),  # From can be forged: email never opts back in
    ("POINTS", "sms", True, "balance", False),
    ("redeem", "email", False, "redeem", False),
    ("4", "sms", True, "feedback", False),
    ("4", "sms", False, "reply", False),
    ("great", "sms", True, "feedback", False),
    ("", "sms", True, "empty", False),
])
def test_decide(body, channel, feedback_open, action, always):
    decision = decide(classify(body), channel=channel, feedback_open=feedback_open)
    assert (decision.action, decision.answer_always) == (action, always)


def test_media_without_text_is_a_reply_and_auto_replies_do_nothing():
    assert decide(classify(""), channel="sms", feedback_open=False, has_media=True).action == "reply"
    assert decide(classify("STOP"), channel="email", feedback_open=False, automatic=True).action == "ignored"


def test_opt_out_type_overrides_parsing():
    assert with_opt_out_type(classify("ARRET"), "STOP").kind == "opt_out"
    assert with_opt_out_type(classify("hello"), None).kind == "text"
    assert with_opt_out_type(Inbound("text", "x"), "bogus").kind == "text"


def test_reply_points_rules():
    assert reply_points(5, daily_cap=3, earned_today=0, replied_to=7, already_rewarded=False) == (5, None)
    assert reply_points(5, daily_cap=3, earned_today=3, replied_to=7, already_rewarded=False)[0] == 0
    assert reply_points(5, daily_cap=3, earned_today=0, replied_to=None, already_rewarded=False)[0] == 0
    assert reply_points(5, daily_cap=3, earned_today=0, replied_to=7, already_rewarded=True)[0] == 0


def test_local_day_start_uses_the_members_zone():
    now = datetime(2026, 3, 2, 23, 30, tzinfo=timezone.utc)  # already 3 March in Amsterdam
    assert local_day_start(now, ZoneInfo("Europe/Amsterdam")) == datetime(2026, 3, 2, 23, 0, tzinfo=timezone.utc)
    assert local_day_start(now, ZoneInfo("America/New_York")) == datetime(2026, 3, 2, 5, 0, tzinfo=timezone.utc)
