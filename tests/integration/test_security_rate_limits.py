"""Rate limits on inbound SMS: per client address before the signature, per signed sender after it.

Memory storage by default; Redis (ENGAGE_REDIS_URL) when it answers at 127.0.0.1:6379 (with
CI=true a silent Redis is a failure, not a skip).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket

import pytest
import redis
from sqlalchemy import func, select

from engage import create_app
from engage.models import Member, Message, WebhookEvent
from tests.support.messaging import provider_config
from tests.support.sms import Phone, answer_of

REDIS_URL = os.environ.get("ENGAGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
MEMBER = "+31612345678"


@pytest.fixture
def make_app(database_url, fake_provider, clock):
    """Apps on one database with the given settings; disposed after the test."""
    made = []

    def make(**overrides):
        app = create_app(provider_config(database_url, fake_provider, **overrides), clock=clock)
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["engage.db"].dispose()


def enrol(app, phone: str = MEMBER, external_id: str = "m-1") -> None:
    from tests.support.api import ApiClient

    ApiClient(app, app.test_client()).enrol(external_id, phone=phone)


def stored(app) -> tuple[int, int]:
    """(inbound messages, webhook events): what an SMS that got through leaves behind."""
    with app.extensions["engage.db"].session() as session:
        inbound = session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in"))
        events = session.scalar(select(func.count()).select_from(WebhookEvent))
    return inbound, events


def from_address(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def test_a_sender_over_its_limit_gets_an_empty_answer_and_nothing_is_stored(make_app, fake_provider):
    app = make_app(inbound_sms_per_number="3/minute")
    enrol(app)
    enrol(app, "+31612345679", "m-2")
    phone = Phone(app, fake_provider.twilio_auth_token)
    assert all(phone.text("POINTS") for _ in range(3))
    before = stored(app)
    response = phone.post(phone.params("POINTS"))
    # Twilio is the caller: a 200 with nothing to say, so it neither retries nor calls a fallback URL.
    assert response.status_code == 200 and answer_of(response) is None
    assert stored(app) == before
    # Another member's number has its own budget.
    assert Phone(app, fake_provider.twilio_auth_token, "+31612345679").text("POINTS")


def test_stop_is_never_limited(make_app, fake_provider):
    app = make_app(inbound_sms_per_number="2/minute")
    enrol(app)
    phone = Phone(app, fake_provider.twilio_auth_token)
    phone.text("hello")
    phone.text("hello")
    assert phone.text("hello again") is None  # over the limit
    assert "unsubscribed" in phone.text("STOP")
    with app.extensions["engage.db"].session() as session:
        assert session.scalar(select(Member.sms_opted_out).where(Member.phone == MEMBER)) is True


def test_an_unsigned_flood_does_not_spend_a_members_budget(make_app, fake_provider):
    app = make_app(inbound_sms_per_number="3/minute")
    enrol(app)
    phone = Phone(app, fake_provider.twilio_auth_token)
    for _ in range(10):  # someone else, naming the member's number, without Twilio's signature
        assert phone.post(phone.params("POINTS"), signature="forged").status_code == 403
    assert all(phone.text("POINTS") for _ in range(3))


def test_an_address_over_its_limit_gets_429_with_retry_after(make_app, fake_provider):
    app = make_app(inbound_sms_per_ip="4/minute")
    enrol(app)
    phone = Phone(app, fake_provider.twilio_auth_token)
    flooder = from_address("203.0.113.9")
    for _ in range(4):  # unsigned requests count too: that is what this limit is for
        assert phone.post(phone.params("POINTS"), signature="forged", **flooder).status_code == 403
    before = stored(app)
    response = phone.post(phone.params("POINTS"), **flooder)  # even a signed one, from there
    assert response.status_code == 429 and response.get_json()["message"]
    assert 1 <= int(response.headers["Retry-After"]) <= 61  # the window, rounded up
    assert stored(app) == before
    # Twilio's own address (here the test client's default) is not affected.
    assert phone.text("POINTS")


def test_forwarded_for_counts_only_behind_trusted_proxies(make_app, fake_provider):
    direct = make_app(inbound_sms_per_ip="2/minute")
    phone = Phone(direct, fake_provider.twilio_auth_token)
    # Without ENGAGE_TRUSTED_PROXIES a client cannot buy a fresh budget with a made-up header.
    codes = [phone.client.post("/webhooks/twilio/sms", data=phone.params("x"),
                               headers={"X-Twilio-Signature": "forged", "X-Forwarded-For": f"192.0.2.{n}"},
                               **from_address("198.51.100.1")).status_code for n in range(3)]
    assert codes == [403, 403, 429]

    proxied = make_app(inbound_sms_per_ip="2/minute", trusted_proxies=1)
    client = proxied.test_client()

    def post(forwarded: str) -> int:
        return client.post("/webhooks/twilio/sms", data={"From": MEMBER, "Body": "x"},
                           headers={"X-Twilio-Signature": "forged", "X-Forwarded-For": forwarded},
                           **from_address("10.0.0.2")).status_code  # the proxy

    # The proxy appends the address it saw; what the client wrote before it is not trusted.
    assert [post(f"1.1.1.1, 192.0.2.{n}") for n in (7, 7, 7)] == [403, 403, 429]
    assert post("1.1.1.1, 192.0.2.8") == 403


def _redis_answers() -> str | None:
    host, port = "127.0.0.1", 6379
    try:
        with socket.create_connection((host, port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return None if connection.recv(16).startswith(b"+PONG") else "no PONG"
    except OSError as error:
        return str(error)


@pytest.fixture
def redis_url():
    why_not = _redis_answers()
    if why_not:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and Redis does not answer at {REDIS_URL}: {why_not}")
        pytest.skip(f"Redis not available: {why_not}")
    return REDIS_URL


def test_with_redis_every_process_shares_the_counts(make_app, fake_provider, redis_url):
    # Keys in a shared Redis: a number and an address of this test run only.
    number = "+31612" + "".join(secrets.choice("0123456789") for _ in range(6))
    address = {"environ_base": {"REMOTE_ADDR": f"198.18.{secrets.randbelow(256)}.{secrets.randbelow(256)}"}}
    first = make_app(inbound_sms_per_number="3/minute", redis_url=redis_url)
    second = make_app(inbound_sms_per_number="3/minute", redis_url=redis_url)  # another process
    enrol(first, number)
    phones = [Phone(app, fake_provider.twilio_auth_token, number) for app in (first, first, second)]
    for phone in phones:
        response = phone.post(phone.params("POINTS"), **address)
        assert response.status_code == 200 and answer_of(response)
    before = stored(first)
    over = phones[2].post(phones[2].params("POINTS"), **address)
    assert over.status_code == 200 and answer_of(over) is None
    assert stored(first) == before
    # Redis holds a digest of the number, never the number.
    keys = [key.decode() for key in redis.Redis.from_url(redis_url).scan_iter(match="*engage*")]
    assert any(hashlib.sha256(number.encode()).hexdigest()[:32] in key for key in keys)
    assert not [key for key in keys if number[1:] in key]


def test_a_silent_redis_never_refuses_an_sms(make_app, fake_provider):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    app = make_app(inbound_sms_per_number="2/minute", redis_url=f"redis://127.0.0.1:{port}/0")
    enrol(app)
    phone = Phone(app, fake_provider.twilio_auth_token)
    assert phone.text("POINTS") and phone.text("POINTS")
    assert phone.text("POINTS") is None  # counted in this process's memory meanwhile
