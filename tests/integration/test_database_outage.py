"""The database going away (unreachable, restarting) answers 503 with Retry-After on every route,
logs one warning line per request and no traceback, and the app recovers by itself.

The PostgreSQL server is never touched: the app reaches it through a TCP proxy of the test's own
(tests/support/tcp_proxy.py) that refuses or cuts connections. SQLite's transient errors are
covered by tests/unit/test_observability_outages.py.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.engine import make_url

from engage import create_app
from engage.config import Config
from engage.models import Member
from tests.support.api import ApiClient
from tests.support.logs import captured_logs
from tests.support.messaging import disable_flows, message, queue
from tests.support.signing import SendGridSigner, twilio_signature
from tests.support.tcp_proxy import TcpProxy, url_through

PUBLIC = "https://engage.example.com"
TOKEN = "t" * 32
SECRET = "inbound-secret"
SIGNER = SendGridSigner()


@pytest.fixture
def proxy(postgres_only_url) -> Iterator[TcpProxy]:
    with TcpProxy(make_url(postgres_only_url).port or 5432) as running:
        yield running


@pytest.fixture
def app(postgres_only_url, proxy, clock):
    config = Config(database_url=url_through(postgres_only_url, proxy), public_url=PUBLIC, testing=True,
                    twilio_account_sid="AC" + "0" * 32, twilio_auth_token=TOKEN,
                    twilio_from_number="+15005550006", sendgrid_webhook_public_key=SIGNER.public_key,
                    inbound_email_secret=SECRET, retry_base_seconds=1, max_attempts=3)
    app = create_app(config, clock=clock)
    app.extensions["engage.channels"] = {}  # nothing here may reach a provider
    disable_flows(app)
    yield app
    app.extensions["engage.db"].dispose()


def _twilio(client, path: str, params: dict):
    return client.post(path, data=params,
                       headers={"X-Twilio-Signature": twilio_signature(TOKEN, PUBLIC + path, params)})


def every_route(api: ApiClient, member_id: int, token: str, n: int) -> dict:
    """One request to each kind of route; returns {name: response}."""
    client = api.client
    events = json.dumps([{"event": "delivered", "email": "ana@example.com", "sg_event_id": f"ev{n}",
                          "timestamp": 1700000000}])
    sms = {"MessageSid": f"SM{n:032x}", "From": "+31612345678", "To": "+15005550006", "Body": "POINTS"}
    return {
        "enrol": api.post("/members", {"external_id": f"x-{n}", "first_name": "Bo", "consent": {"sms": False, "email": False}}),
        "member": api.get(f"/members/{member_id}"),
        "purchase": api.purchase(member_id, "12.00", key=f"outage-{n}"),
        "messages": api.get("/messages", role="marketer"),
        "twilio sms": _twilio(client, "/webhooks/twilio/sms", sms),
        "twilio status": _twilio(client, "/webhooks/twilio/status?message_id=1",
                                 {"MessageSid": f"SM{n:032x}", "MessageStatus": "delivered"}),
        "sendgrid events": client.post("/webhooks/sendgrid/events", data=events, headers=SIGNER.headers(events)),
        "sendgrid inbound": client.post(f"/webhooks/sendgrid/inbound?secret={SECRET}",
                                        data={"from": "Ana <ana@example.com>", "to": "club@shop.example",
                                              "subject": "Re", "text": "thanks"}),
        "unsubscribe page": client.get(f"/unsubscribe/{token}"),
        "unsubscribe": client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}),
    }


@pytest.fixture
def api(app):
    return ApiClient(app, app.test_client())


@pytest.fixture
def member(app, api):
    created = api.enrol("m-1", email="ana@example.com", phone="+31612345678")
    with app.extensions["engage.db"].session() as session:
        return created["id"], session.get(Member, created["id"]).unsubscribe_token


def test_every_route_answers_503_while_the_database_is_down_then_recovers(app, api, member, proxy):
    member_id, token = member
    proxy.refuse()
    with captured_logs() as logs:
        answers = every_route(api, member_id, token, 1)
        readyz = api.client.get("/readyz")
    for name, response in {**answers, "readyz": readyz}.items():
        assert response.status_code == 503, (name, response.status_code, response.get_data(as_text=True))
        assert response.headers["Retry-After"] == "5", name
        assert response.get_json()["message"], name
    lines = logs.lines()
    assert [line["level"] for line in lines] == ["WARNING"] * len(answers), lines
    assert all("answered 503: database unavailable" in line["message"] for line in lines)
    assert not [line for line in lines if "exc_info" in line or "Traceback" in json.dumps(line)]
    assert api.client.get("/healthz").status_code == 200  # the process is fine

    proxy.restore()
    answers = every_route(api, member_id, token, 2)
    assert {name: r.status_code for name, r in answers.items()} == {
        "enrol": 201, "member": 200, "purchase": 201, "messages": 200, "twilio sms": 200,
        "twilio status": 204, "sendgrid events": 200, "sendgrid inbound": 200,
        "unsubscribe page": 200, "unsubscribe": 200}


def test_a_restart_costs_at_most_one_503_and_loses_nothing(app, api, member, proxy):
    """Every pooled connection dies in a restart; only the first request to meet one fails (the
    pool is renewed then, also after a psycopg error SQLAlchemy never saw: the purchase's fast
    path), and its replay with the same Idempotency-Key credits once."""
    member_id, _ = member

    def warm(_n):  # several threads, so the pool holds several connections
        client = ApiClient.__new__(ApiClient)
        client.app, client.client, client.keys = app, app.test_client(), api.keys
        return client.get(f"/members/{member_id}").status_code

    with ThreadPoolExecutor(4) as pool:
        assert set(pool.map(warm, range(16))) == {200}
    points = api.get(f"/members/{member_id}").get_json()["points"]
    proxy.cut()
    with captured_logs() as logs:
        answers = [api.purchase(member_id, "10.00", key=f"restart-{n}") for n in range(6)]
    statuses = [r.status_code for r in answers]
    assert statuses.count(503) <= 1 and set(statuses) <= {201, 503}, statuses
    assert len(logs.lines()) == statuses.count(503)
    for n, status in enumerate(statuses):
        if status == 503:  # the client retries, as Retry-After says
            assert api.purchase(member_id, "10.00", key=f"restart-{n}").status_code == 201
    assert api.get(f"/members/{member_id}").get_json()["points"] == points + 6 * 10


def test_background_loops_warn_in_one_line_and_keep_going(app, api, member, proxy):
    """The dispatcher and the scheduler's leader loop outlive an outage: one warning line per
    failed attempt, no traceback, and sending resumes when the database is back."""
    from engage.channels import ConsoleChannel, InstrumentedChannel
    from engage.worker import Background

    member_id, _ = member
    app.extensions["engage.channels"] = {name: InstrumentedChannel(ConsoleChannel(name, _Sink()))
                                         for name in ("sms", "email")}
    with captured_logs() as logs:
        background = Background(app, retry_seconds=0.1)  # its rate limiters read the database
        background.start()
        try:
            assert background.schedules.leading.wait(20)
            proxy.refuse()
            assert _wait_for(lambda: {"engage.dispatcher", "engage.leadership"}
                             <= {line["logger"] for line in logs.lines()}), logs.text
            proxy.restore()
            queued = queue(app.extensions["engage.db"], member_id, app.extensions["engage.clock"](),
                           channels=("email",))
            assert _wait_for(lambda: message(app.extensions["engage.db"], queued).status == "sent")
        finally:
            background.stop()
    failures = [line for line in logs.lines() if line["level"] != "INFO"]
    assert failures and all(line["level"] == "WARNING" for line in failures), failures
    assert not [line for line in logs.lines() if "exc_info" in line], logs.text
    assert any("database unavailable" in line["message"] for line in failures
               if line["logger"] == "engage.dispatcher")


class _Sink:
    def write(self, _text):
        pass

    def flush(self):
        pass


def _wait_for(condition, timeout: float = 20.0) -> bool:
    done = threading.Event()
    for _ in range(int(timeout / 0.05)):
        if condition():
            return True
        done.wait(0.05)
    return condition()


def test_a_database_that_never_answers_is_a_503_after_the_connect_timeout(postgres_only_url, proxy, clock):
    """No request waits for the OS's TCP timeout (minutes): connect_timeout (5 s by default; the
    URL's own wins, 1 s here) ends the wait with a 503."""
    url = url_through(postgres_only_url, proxy) + "?connect_timeout=1"
    app = create_app(Config(database_url=url, testing=True), clock=clock)
    proxy.hang()
    with captured_logs() as logs:
        started = time.monotonic()
        response = app.test_client().get("/unsubscribe/some-token")
        waited = time.monotonic() - started
    app.extensions["engage.db"].dispose()
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert 0.9 <= waited < 10, waited
    [line] = logs.lines()
    assert line["message"].startswith("GET /unsubscribe/<token> answered 503: database unavailable: ")
