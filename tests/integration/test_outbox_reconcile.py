"""Ambiguous attempts through the real SDKs against the fake provider: never two copies.

A timeout, a connection reset after the request, or a dropped connection leaves the message
`unknown`; reconciliation asks Twilio's Messages list (SMS) or waits for SendGrid's event for the
attempt's custom arg (email), and resends only what the provider provably never took.
"""

from __future__ import annotations

import time

import pytest

from sqlalchemy import update

from engage.jobs import dispatcher_for
from engage.models import Message
from engage.outbox.ports import TRANSIENT, SendResult
from engage.services.claims import claim
from engage.services.send_results import Outcome, record
from engage.store import transaction
# The signed event webhook's key pair and its setting, as the delivery webhook tests have them.
from tests.integration.test_delivery_webhooks import PUBLIC, provider_overrides, signer  # noqa: F401
from tests.support.messaging import message, queue


SETTLE_SECONDS = 120  # the default ENGAGE_RECONCILE_AFTER_SECONDS


def drain(app):
    return dispatcher_for(app).run_once()


def wait_for(condition, timeout: float = 5.0) -> None:
    """Wait (real time) until the fake provider shows what a slow answer leaves there."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the fake provider never got there"
        time.sleep(0.02)


@pytest.mark.parametrize("mode", ["timeout", "reset"])
def test_sms_taken_without_an_answer_is_found_in_the_messages_list(papp, papi, pdb, fake_provider, clock, mode):
    member = papi.enrol(f"amb-{mode}")
    message_id = queue(pdb, member["id"], clock.current, channels=("sms",))
    fake_provider.fail_next("sms", mode)
    drain(papp)
    unknown = message(pdb, message_id)
    assert (unknown.status, unknown.attempts) == ("unknown", 1) and unknown.error_code in ("timeout", "connection")
    assert "reconciling" in unknown.reason
    wait_for(lambda: len(fake_provider.accepted("sms")) == 1)
    drain(papp)  # before the settling delay nobody asks, and nothing is resent
    assert message(pdb, message_id).status == "unknown" and fake_provider.request_count("sms") == 1
    clock.advance(seconds=SETTLE_SECONDS)
    drain(papp)
    [copy] = fake_provider.accepted("sms")
    settled = message(pdb, message_id)
    assert (settled.status, settled.provider_id, settled.attempts) == ("sent", copy["provider_id"], 1)
    assert fake_provider.request_count("sms") == 1


def test_sms_the_provider_never_took_is_sent_again_once(papp, papi, pdb, fake_provider, clock):
    member = papi.enrol("amb-drop")
    message_id = queue(pdb, member["id"], clock.current, channels=("sms",))
    fake_provider.fail_next("sms", "drop")  # read, then closed without an answer: not taken
    drain(papp)
    assert message(pdb, message_id).status == "unknown" and fake_provider.accepted("sms") == []
    clock.advance(seconds=SETTLE_SECONDS)
    drain(papp)
    [copy] = fake_provider.accepted("sms")
    sent = message(pdb, message_id)
    assert (sent.status, sent.provider_id, sent.attempts) == ("sent", copy["provider_id"], 2)


def test_another_message_with_the_same_text_is_not_taken_for_ours(papp, papi, pdb, fake_provider, clock):
    member = papi.enrol("amb-twin")
    first = queue(pdb, member["id"], clock.current, channels=("sms",), flow="expiry_warning", body="Same {}")
    drain(papp)
    second = queue(pdb, member["id"], clock.current, channels=("sms",), flow="tier_congratulations", body="Same {}")
    fake_provider.fail_next("sms", "drop")
    drain(papp)
    clock.advance(seconds=SETTLE_SECONDS)
    drain(papp)
    copies = fake_provider.accepted("sms")
    assert len(copies) == 2 and {c["message_id"] for c in copies} == {str(first), str(second)}
    assert message(pdb, second).provider_id == copies[1]["provider_id"]


def test_sms_stays_unknown_while_the_messages_list_fails(papp, papi, pdb, fake_provider, clock):
    member = papi.enrol("amb-list")
    message_id = queue(pdb, member["id"], clock.current, channels=("sms",))
    fake_provider.fail_next("sms", "drop")
    drain(papp)
    fake_provider.fail_next("sms_list", "503")
    clock.advance(seconds=SETTLE_SECONDS)
    drain(papp)
    waiting = message(pdb, message_id)
    assert waiting.status == "unknown" and "Messages list failed" in waiting.reason
    assert fake_provider.accepted("sms") == []
    clock.advance(seconds=SETTLE_SECONDS)
    drain(papp)  # the list answers now: provably none, sent once
    assert message(pdb, message_id).status == "sent" and len(fake_provider.accepted("sms")) == 1


def test_email_timeout_is_settled_by_the_event_for_its_attempt(papp, papi, pdb, fake_provider, clock, signer):
    member = papi.enrol("amb-mail", phone=None)
    message_id = queue(pdb, member["id"], clock.current, channels=("email",))
    fake_provider.fail_next("email", "timeout")
    drain(papp)
    assert message(pdb, message_id).status == "unknown"
    wait_for(lambda: len(fake_provider.accepted("email")) == 1)
    clock.advance(seconds=SETTLE_SECONDS)
    drain(papp)  # SendGrid cannot be asked: nothing resent, still waiting for the event
    waiting = message(pdb, message_id)
    assert waiting.status == "unknown" and "event webhook" in waiting.reason
    events = fake_provider.sendgrid_events("delivered")
    assert events[0]["engage_attempt"] == f"{message_id}-1"
    stale = [{**events[0], "engage_attempt": f"{message_id}-0", "sg_event_id": "older-try"}]
    assert signer.post(papp.test_client(), stale).status_code in (200, 204)
    assert message(pdb, message_id).status == "unknown"  # another attempt's event settles nothing
    assert signer.post(papp.test_client(), events).status_code in (200, 204)
    settled = message(pdb, message_id)
    assert settled.status == "delivered" and fake_provider.request_count("email") == 1


def test_email_without_any_event_stays_unknown_for_a_person(papp, papi, pdb, fake_provider, clock):
    member = papi.enrol("amb-mail-2", phone=None)
    message_id = queue(pdb, member["id"], clock.current, channels=("email",))
    fake_provider.fail_next("email", "reset")
    drain(papp)
    clock.advance(hours=1, seconds=1)
    drain(papp)
    held = message(pdb, message_id)
    assert held.status == "unknown" and "check the provider before sending it again" in held.reason
    assert fake_provider.request_count("email") == 1
    [shown] = papi.get("/messages?status=unknown", role="marketer").get_json()["items"]
    assert shown["id"] == message_id and "check the provider" in shown["reason"]


def test_a_late_answer_for_an_earlier_attempt_changes_nothing(papp, papi, pdb, clock):
    """A dispatcher that stalled past the settling delay records its answer after the row was
    reconciled and claimed again: the answer belongs to the old attempt and must not touch the new."""
    member = papi.enrol("amb-late")
    message_id = queue(pdb, member["id"], clock.current, channels=("sms",))
    with pdb.session() as session:
        [first] = claim(session, 1, clock.current, PUBLIC)
    with pdb.session() as session, transaction(session):  # reconciled: provably not taken, queued again
        session.execute(update(Message).where(Message.id == message_id).values(status="queued"))
    with pdb.session() as session:
        [second] = claim(session, 1, clock.current, PUBLIC)
        record(session, [Outcome(first, SendResult.failed(TRANSIENT, "500", "late"))], clock.current, 3, 1)
        record(session, [Outcome(first, SendResult.sent("SM-late"))], clock.current, 3, 1)
    current = message(pdb, message_id)
    assert (current.status, current.attempts, current.provider_id) == ("sending", 2, None)
    with pdb.session() as session:
        record(session, [Outcome(second, SendResult.sent("SM-2"))], clock.current, 3, 1)
    assert (message(pdb, message_id).status, message(pdb, message_id).provider_id) == ("sent", "SM-2")
