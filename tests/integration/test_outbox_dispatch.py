"""The outbox through the real Twilio and SendGrid SDKs against the fake provider."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest

from engage.channels import TwilioSmsChannel
from engage.jobs import dispatcher_for
from engage.messaging.personal_data import address_key
from engage.models import Member, Suppression
from tests.support.messaging import TWILIO_FROM, message, queue


def drain(app, clock=None):
    return dispatcher_for(app, clock=clock).run_once()


def test_sms_goes_out_with_status_callback_carrying_our_id(papp, papi, pdb, fake_provider, clock):
    member = papi.enrol("out-1")
    message_id = queue(pdb, member["id"], clock.current)
    assert drain(papp) == 1
    [request] = fake_provider.requests("sms")
    form = request["form"]
    assert form["To"] == "+31612345678" and form["From"] == TWILIO_FROM and form["Body"] == "Hello sms"
    assert form["StatusCallback"] == f"https://engage.example.com/webhooks/twilio/status?message_id={message_id}"
    stored = message(pdb, message_id)
    assert stored.status == "sent" and stored.provider_id == request["provider_id"]
    assert stored.segments == 1 and stored.encoding == "GSM-7" and stored.attempts == 1


def test_email_has_unsubscribe_headers_and_stores_x_message_id(papp, papi, pdb, fake_provider, clock):
    member = papi.enrol("out-2", phone=None)
    message_id = queue(pdb, member["id"], clock.current)
    drain(papp)
    [request] = fake_provider.requests("email")
    mail = request["json"]
    headers = mail["headers"]
    with pdb.session() as session:
        token = session.get(Member, member["id"]).unsubscribe_token
    assert headers["List-Unsubscribe"] == f"<https://engage.example.com/unsubscribe/{token}>"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["custom_args"]["engage_message_id"] == str(message_id)
    assert [c["type"] for c in mail["content"]] == ["text/plain", "text/html"]
    assert message(pdb, message_id).provider_id == request["provider_id"]


@pytest.mark.parametrize("mode", ["500", "503", "429", "20429"])
def test_transient_errors_back_off_then_succeed(papp, papi, pdb, fake_provider, clock, mode):
    member = papi.enrol("retry-1")
    message_id = queue(pdb, member["id"], clock.current, channels=("sms",))
    fake_provider.fail_next("sms", mode)
    drain(papp)
    waiting = message(pdb, message_id)
    assert waiting.status == "queued" and waiting.attempts == 1 and waiting.error_code
    assert timedelta(seconds=30) <= waiting.send_after - clock.current <= timedelta(seconds=60)
    assert drain(papp) == 0  # not due yet
    clock.advance(seconds=61)
    drain(papp)
    assert message(pdb, message_id).status == "sent"
    assert fake_provider.request_count("sms") == 2 and len(fake_provider.accepted("sms")) == 1


def test_connection_refused_before_sending_is_retried(papp, papi, pdb, fake_provider, clock):
    member = papi.enrol("refused-1")
    message_id = queue(pdb, member["id"], clock.current, channels=("sms",))
    channels = papp.extensions["engage.channels"]
    closed = TwilioSmsChannel(fake_provider.twilio_account_sid, fake_provider.twilio_auth_token,
                              from_number=TWILIO_FROM, api_base_url=f"http://127.0.0.1:{_closed_port()}", timeout=0.5)
    papp.extensions["engage.channels"] = {**channels, "sms": closed}
    drain(papp)
    papp.extensions["engage.channels"] = channels
    waiting = message(pdb, message_id)
    assert (waiting.status, waiting.error_code, waiting.attempts) == ("queued", "refused", 1)
    clock.advance(seconds=61)
    drain(papp)
    assert message(pdb, message_id).status == "sent" and len(fake_provider.accepted("sms")) == 1


def _closed_port() -> int:
    with socket.socket() as probe:  # bound then closed: nothing listens there
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_failed_after_the_last_attempt_with_provider_code(papp, papi, pdb, fake_provider, clock):
    member = papi.enrol("retry-2")
    message_id = queue(pdb, member["id"], clock.current, channels=("sms",))
    fake_provider.fail_next("sms", "503", count=3)
    for _ in range(3):
        drain(papp)
        clock.advance(hours=1)
    failed = message(pdb, message_id)
    assert failed.status == "failed" and failed.attempts == 3 and failed.error_code == "20503" and failed.error
    assert fake_provider.request_count("sms") == 3


def test_21610_opts_out_and_nothing_more_reaches_the_number(papp, papi, pdb, fake_provider, clock):
    member = papi.enrol("stop-1")
    first = queue(pdb, member["id"], clock.current, channels=("sms",))
    fake_provider.fail_next("sms", "21610")
    drain(papp)
    assert message(pdb, first).status == "failed" and message(pdb, first).error_code == "21610"
    assert fake_provider.request_count("sms") == 1
    assert papi.get(f"/members/{member['id']}").get_json()["opted_out"]["sms"] is True
    second = queue(pdb, member["id"], clock.current, flow="expiry_warning", channels=("sms",))
    drain(papp)
    assert message(pdb, second).status == "suppressed" and "opted out" in message(pdb, second).reason
    assert fake_provider.request_count("sms") == 1


def test_21211_marks_the_number_invalid(papp, papi, pdb, fake_provider, clock):
    member = papi.enrol("bad-num")
    first = queue(pdb, member["id"], clock.current, channels=("sms", "email"))
    fake_provider.fail_next("sms", "21211")
    drain(papp)
    stored = message(pdb, first)  # a transient failure (timeout, dropped connection) leaves it queued: say which
    assert (stored.status, stored.error_code) == ("failed", "21211"), stored.error
    assert fake_provider.request_count("sms") == 1
    with pdb.session() as session:
        assert session.query(Suppression).filter_by(channel="sms", address_hash=address_key("sms", "+31612345678")).one().reason.startswith("invalid")
    second = queue(pdb, member["id"], clock.current, flow="expiry_warning")
    drain(papp)
    assert message(pdb, second).channel == "email" and message(pdb, second).status == "sent"


def test_sendgrid_4xx_is_permanent(papp, papi, pdb, fake_provider, clock):
    member = papi.enrol("mail-400", phone=None)
    message_id = queue(pdb, member["id"], clock.current)
    fake_provider.fail_next("email", "400")
    drain(papp)
    assert message(pdb, message_id).status == "failed" and fake_provider.request_count("email") == 1


class CrashAfterSend:
    """A channel that really sends, then dies before the dispatcher can record the result."""

    def __init__(self, inner):
        self.inner, self.name = inner, inner.name

    def send(self, outbound):
        self.inner.send(outbound)
        raise KeyboardInterrupt("process killed between the provider call and the commit")


def test_crash_after_provider_call_is_reconciled_not_resent(papp, papi, pdb, fake_provider, clock):
    member = papi.enrol("crash-1")
    message_id = queue(pdb, member["id"], clock.current, channels=("sms",))
    channels = papp.extensions["engage.channels"]
    papp.extensions["engage.channels"] = {**channels, "sms": CrashAfterSend(channels["sms"])}
    with pytest.raises(KeyboardInterrupt):
        drain(papp)
    papp.extensions["engage.channels"] = channels
    assert message(pdb, message_id).status == "sending"
    drain(papp)  # its dispatcher may still be waiting for the answer: left alone
    assert message(pdb, message_id).status == "sending" and fake_provider.request_count("sms") == 1
    clock.advance(minutes=3)
    drain(papp)  # longer than any call lasts: reconciled with Twilio's Messages list
    settled = message(pdb, message_id)
    [copy] = fake_provider.accepted("sms")
    assert (settled.status, settled.provider_id, settled.attempts) == ("sent", copy["provider_id"], 1)
    assert fake_provider.request_count("sms") == 1


def test_opted_out_and_suppressed_never_reach_the_provider(papp, papi, pdb, fake_provider, clock):
    opted = papi.enrol("never-1", consent={"sms": False, "email": False})
    queued = queue(pdb, opted["id"], clock.current)
    drain(papp)
    assert message(pdb, queued).status == "suppressed"
    assert "no consent" in message(pdb, queued).reason
    assert fake_provider.request_count() == 0
