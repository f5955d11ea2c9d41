"""The real Twilio and SendGrid SDKs, through our channels, against the fake provider."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from engage.channels import OutboundMessage, SendGridEmailChannel, TwilioSmsChannel
from tests.fakes.fixtures import CLIENT_TIMEOUT, FAKE_TIMEOUT_DELAY, fake_provider, fake_provider_server  # noqa: F401
from tests.fakes.provider import FakeProvider

FROM_NUMBER = "+15005550006"
SERVICE_SID = "MG" + "1" * 32
CALLBACK = "https://engage.example/webhooks/twilio/status?message_id=7"
UNSUBSCRIBE = "https://engage.example/unsubscribe/tok123"
SMS = OutboundMessage(7, "sms", "+15551234567", "Hi Ana, 120 points!",
                      status_callback_url=CALLBACK)
EMAIL = OutboundMessage(8, "email", "ana@example.com", "Plain text", subject="Your points",
                        html="<p>HTML</p>", unsubscribe_url=UNSUBSCRIBE)


@pytest.fixture
def sms(fake_provider: FakeProvider) -> Iterator[TwilioSmsChannel]:  # noqa: F811
    """Twilio channel with a From number, pointed at the fake."""
    channel = _twilio(fake_provider, from_number=FROM_NUMBER)
    yield channel
    channel.close()


@pytest.fixture
def email(fake_provider: FakeProvider) -> SendGridEmailChannel:  # noqa: F811
    """SendGrid channel pointed at the fake."""
    return SendGridEmailChannel(fake_provider.sendgrid_api_key, "club@shop.example",
                                api_host=fake_provider.url, timeout=CLIENT_TIMEOUT)


def _twilio(fake: FakeProvider, token: str | None = None, **sender: Any) -> TwilioSmsChannel:
    return TwilioSmsChannel(fake.twilio_account_sid, token or fake.twilio_auth_token,
                            api_base_url=fake.url, timeout=CLIENT_TIMEOUT, **sender)


@pytest.fixture
def refusing_url() -> Iterator[str]:
    """A local address that refuses connections: its port is bound here, so nothing else can take
    it while the test runs, but nothing listens on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


# --- Twilio -------------------------------------------------------------------------


def test_sms_success_sends_twilio_form_and_keeps_sid(sms, fake_provider):  # noqa: F811
    result = sms.send(SMS)
    [request] = fake_provider.requests("sms")
    assert result.ok and result.provider_id == request["provider_id"]
    assert result.provider_id.startswith("SM") and len(result.provider_id) == 34
    assert result.segments == 1
    assert request["form"] == {"To": SMS.to, "From": FROM_NUMBER, "Body": SMS.body,
                               "StatusCallback": CALLBACK}
    assert request["account_sid"] == fake_provider.twilio_account_sid
    assert request["headers"]["authorization"].startswith("Basic ")


def test_sms_messaging_service_replaces_from(fake_provider):  # noqa: F811
    channel = _twilio(fake_provider, from_number=FROM_NUMBER, messaging_service_sid=SERVICE_SID)
    result = channel.send(SMS)
    channel.close()
    [request] = fake_provider.requests("sms")
    assert result.ok and result.segments is None  # no sender assigned yet: Twilio says 0
    assert request["form"]["MessagingServiceSid"] == SERVICE_SID
    assert "From" not in request["form"]


def test_sms_segments_come_from_twilio(sms):
    result = sms.send(OutboundMessage(9, "sms", "+15551234567", "🎉" * 40))
    assert result.ok and result.segments == 2  # 80 UTF-16 units > 70


@pytest.mark.parametrize(
    ("mode", "kind", "code"),
    [("500", "transient", "20500"), ("503", "transient", "20503"),
     ("429", "transient", "429"), ("20429", "transient", "20429"),
     ("400", "permanent", "21408"), ("401", "permanent", "20003")],
)
def test_sms_provider_errors_are_classified(sms, fake_provider, mode, kind, code):  # noqa: F811
    fake_provider.fail_next("sms", mode)
    result = sms.send(SMS)
    assert (result.ok, result.error_kind, result.error_code) == (False, kind, code)
    assert result.error_message and not result.opted_out and not result.invalid_address


def test_sms_21610_means_opted_out(sms, fake_provider):  # noqa: F811
    fake_provider.fail_next("sms", "21610")
    result = sms.send(SMS)
    assert (result.error_kind, result.error_code, result.opted_out) == ("permanent", "21610", True)


def test_sms_21211_means_invalid_address(sms, fake_provider):  # noqa: F811
    fake_provider.fail_next("sms", "21211")
    result = sms.send(SMS)
    assert (result.error_kind, result.error_code) == ("permanent", "21211")
    assert result.invalid_address and not result.opted_out


def test_sms_number_twilio_rejects_is_invalid_address(sms):
    result = sms.send(OutboundMessage(10, "sms", "555-1234", "hi"))
    assert result.invalid_address and result.error_code == "21211"


def test_sms_wrong_token_is_permanent(fake_provider):  # noqa: F811
    channel = _twilio(fake_provider, token="wrong", from_number=FROM_NUMBER)
    result = channel.send(SMS)
    channel.close()
    assert (result.error_kind, result.error_code) == ("permanent", "20003")


def test_sms_timeout_is_ambiguous_within_client_timeout(sms, fake_provider):  # noqa: F811
    fake_provider.fail_next("sms", "timeout")
    started = time.monotonic()
    result = sms.send(SMS)
    assert time.monotonic() - started < FAKE_TIMEOUT_DELAY  # gave up before the late answer
    assert (result.error_kind, result.error_code) == ("ambiguous", "timeout")


def test_sms_slow_answer_inside_timeout_succeeds(sms, fake_provider):  # noqa: F811
    fake_provider.fail_next("sms", "slow:0.1")
    assert sms.send(SMS).ok


@pytest.mark.parametrize("mode", ["drop", "reset"])
def test_sms_connection_lost_after_the_request_is_ambiguous(sms, fake_provider, mode):  # noqa: F811
    fake_provider.fail_next("sms", mode)
    result = sms.send(SMS)
    assert (result.error_kind, result.error_code) == ("ambiguous", "connection")
    assert len(fake_provider.accepted("sms")) == (1 if mode == "reset" else 0)
    assert sms.send(SMS).ok  # the pool recovers on the next call


def test_sms_refused_connection_is_transient(refusing_url):
    channel = TwilioSmsChannel("AC" + "0" * 32, "t", from_number=FROM_NUMBER, api_base_url=refusing_url,
                               timeout=1)
    result = channel.send(SMS)
    channel.close()
    assert (result.ok, result.error_kind, result.error_code) == (False, "transient", "refused")


def test_sms_failures_are_consumed_in_order(sms, fake_provider):  # noqa: F811
    fake_provider.fail_next("sms", "503", count=2)
    outcomes = [sms.send(SMS).ok for _ in range(3)]
    assert outcomes == [False, False, True]
    assert [r["status"] for r in fake_provider.requests("sms")] == [503, 503, 201]


def test_sms_channel_is_safe_to_share_between_threads(sms, fake_provider):  # noqa: F811
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: sms.send(SMS), range(64)))
    assert all(r.ok for r in results)
    assert len({r.provider_id for r in results}) == 64 == fake_provider.request_count("sms")


# --- SendGrid -----------------------------------------------------------------------


def test_email_success_body_and_message_id(email, fake_provider):  # noqa: F811
    result = email.send(EMAIL)
    [request] = fake_provider.requests("email")
    mail = request["json"]
    assert result.ok and result.provider_id == request["provider_id"]
    assert request["headers"]["authorization"] == f"Bearer {fake_provider.sendgrid_api_key}"
    assert [c["type"] for c in mail["content"]] == ["text/plain", "text/html"]
    assert [c["value"] for c in mail["content"]] == ["Plain text", "<p>HTML</p>"]
    assert mail["custom_args"] == {"engage_message_id": "8", "engage_attempt": "8-1"}
    assert mail["headers"] == {"List-Unsubscribe": f"<{UNSUBSCRIBE}>",
                               "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    assert mail["personalizations"][0]["to"] == [{"email": "ana@example.com"}]
    assert (mail["from"], mail["subject"]) == ({"email": "club@shop.example"}, "Your points")


def test_email_without_unsubscribe_or_html(email, fake_provider):  # noqa: F811
    assert email.send(OutboundMessage(3, "email", "bo@example.com", "txt", subject="s")).ok
    mail = fake_provider.requests("email")[0]["json"]
    assert "headers" not in mail and mail["content"] == [{"type": "text/plain", "value": "txt"}]


@pytest.mark.parametrize(("mode", "kind"), [("500", "transient"), ("503", "transient"),
                                            ("429", "transient"), ("401", "permanent")])
def test_email_provider_errors_are_classified(email, fake_provider, mode, kind):  # noqa: F811
    fake_provider.fail_next("email", mode)
    result = email.send(EMAIL)
    assert (result.ok, result.error_kind, result.error_code) == (False, kind, mode)
    assert result.error_message and not result.invalid_address


def test_email_400_bad_address_is_permanent_and_invalid(email, fake_provider):  # noqa: F811
    fake_provider.fail_next("email", "400")
    result = email.send(EMAIL)
    assert (result.error_kind, result.error_code, result.invalid_address) == (
        "permanent", "400", True)
    assert result.error_message == "Does not contain a valid address."


def test_email_timeout_is_ambiguous_within_client_timeout(email, fake_provider):  # noqa: F811
    fake_provider.fail_next("email", "timeout")
    started = time.monotonic()
    result = email.send(EMAIL)
    assert time.monotonic() - started < FAKE_TIMEOUT_DELAY
    assert (result.error_kind, result.error_code) == ("ambiguous", "timeout")


@pytest.mark.parametrize("mode", ["drop", "reset"])
def test_email_connection_lost_after_the_request_is_ambiguous(email, fake_provider, mode):  # noqa: F811
    fake_provider.fail_next("email", mode)
    assert (email.send(EMAIL).error_kind, email.send(EMAIL).ok) == ("ambiguous", True)


def test_email_refused_connection_is_transient(refusing_url):
    channel = SendGridEmailChannel("SG.k", "club@shop.example", api_host=refusing_url, timeout=1)
    result = channel.send(EMAIL)
    assert (result.ok, result.error_kind, result.error_code) == (False, "transient", "refused")


def test_sms_messages_list_pages_and_filters_as_the_sdk_reads_them(sms, fake_provider):  # noqa: F811
    # Its own number and text: a late answer from an earlier test's "timeout" may still land.
    mine = OutboundMessage(7, "sms", "+15005550002", "Listed", status_callback_url=CALLBACK)
    since = datetime.now(timezone.utc) - timedelta(seconds=5)
    others = [OutboundMessage(100 + n, "sms", "+15005550001", f"other {n}") for n in range(130)]
    for other in others:
        assert sms.send(other).ok
    assert sms.send(mine).ok
    [copy] = sms.find(mine, since).copies
    assert copy.provider_id == fake_provider.accepted("sms")[-1]["provider_id"] and copy.status == "queued"
    assert len(sms.find(others[0], since).copies) == 1  # found past the first page of 100
    assert sms.find(mine, since + timedelta(minutes=30)).copies == ()
    listed = sms.client.messages.list(to=mine.to, date_sent_after=since - timedelta(days=1), limit=5)
    assert [m.to for m in listed] == [mine.to]
    assert sms.client.messages.list(to=mine.to, date_sent_after=since + timedelta(days=2)) == []


def test_sms_messages_list_with_a_messaging_service_matches_the_service(fake_provider):  # noqa: F811
    service = _twilio(fake_provider, messaging_service_sid="MG" + "1" * 32)
    other = _twilio(fake_provider, messaging_service_sid="MG" + "2" * 32)
    since = datetime.now(timezone.utc)
    mine = OutboundMessage(7, "sms", "+15005550003", "Via the service")
    assert other.send(mine).ok
    assert service.find(mine, since).copies == ()
    assert service.send(mine).ok
    [copy] = service.find(mine, since).copies
    assert copy.status == "accepted"
    service.close()
    other.close()


def test_sendgrid_events_echo_the_custom_args(email, fake_provider):  # noqa: F811
    message = OutboundMessage(9, "email", "ana@example.com", "txt", subject="s", attempt=3)
    assert email.send(message).ok
    [event] = fake_provider.sendgrid_events("delivered")
    assert (event["engage_message_id"], event["engage_attempt"], event["event"]) == ("9", "9-3", "delivered")
    assert event["sg_message_id"].startswith(fake_provider.accepted("email")[0]["provider_id"])


def test_fail_fraction_fails_about_that_share(sms, fake_provider):  # noqa: F811
    fake_provider.fail_fraction("sms", 0.5, ["500", "429"], seed=7)
    results = [sms.send(SMS) for _ in range(40)]
    failed = [r for r in results if not r.ok]
    assert 8 <= len(failed) <= 32 and {r.error_kind for r in failed} == {"transient"}
    assert len(fake_provider.accepted("sms")) == 40 - len(failed)


# --- control API over HTTP ----------------------------------------------------------


def _call(url: str, payload: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = None if payload is None else json.dumps(payload).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def test_http_control_api(sms, fake_provider):  # noqa: F811
    base = fake_provider.url
    assert _call(f"{base}/_fake/fail", {"channel": "sms", "mode": "21610"})[0] == 200
    assert _call(f"{base}/_fake/fail", {"channel": "sms", "mode": "bogus"})[0] == 400
    assert sms.send(SMS).opted_out
    status, recorded = _call(f"{base}/_fake/requests?channel=sms")
    assert status == 200 and [r["status"] for r in recorded] == [400]
    assert _call(f"{base}/_fake/reset", {}) == (200, {"ok": True})
    assert _call(f"{base}/_fake/requests") == (200, [])
