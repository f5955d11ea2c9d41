"""PostgreSQL "restarted" under purchase and inbound-SMS load through gunicorn.

Every answer must be a 2xx or a 503; every acknowledged write must be in the database; replaying
every purchase with its Idempotency-Key afterwards must credit nothing twice.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlencode

import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from faults.drain import seed_members
from faults.processes import FROM_NUMBER, Gunicorn, free_port, wait_until
from faults.report import Row
from tests.fakes import provider_wire as wire
from tests.support.tcp_proxy import TcpProxy


@dataclass(frozen=True)
class Outage:
    name: str
    seconds: float  # of load
    down: float  # how long PostgreSQL is away
    clients: int = 4


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter = field(default_factory=Counter)
    purchases: dict = field(default_factory=dict)  # key -> (member id, points awarded or None)
    inbound: dict = field(default_factory=dict)  # MessageSid -> acknowledged?


def _api_key(url: str) -> str:
    from engage import create_app
    from engage.config import Config
    from engage.services import keys

    app = create_app(Config(database_url=url))
    try:
        with app.extensions["engage.db"].session() as session:
            return keys.create(session, "integration", "faults", datetime.now(timezone.utc))
    finally:
        app.extensions["engage.db"].dispose()


class Client:
    """One load client: purchases with an Idempotency-Key, and signed inbound SMS."""

    def __init__(self, port: int, public_url: str, key: str, members: list[tuple[int, str]], tally: Tally):
        self.port, self.public_url, self.key, self.members, self.tally = port, public_url, key, members, tally
        self.rng = random.Random()

    def request(self, method: str, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        except OSError:
            return 0, b""  # no answer at all: counted as a bad answer
        finally:
            connection.close()

    def purchase(self, key: str, member_id: int) -> int:
        body = json.dumps({"type": "purchase", "amount": "10.00"}).encode()
        status, answer = self.request("POST", f"/api/v1/members/{member_id}/events", body, {
            "Authorization": f"Bearer {self.key}", "Idempotency-Key": key, "Content-Type": "application/json"})
        with self.tally.lock:
            self.tally.statuses[status] += 1
            if 200 <= status < 300:
                self.tally.purchases[key] = (member_id, json.loads(answer)["points_awarded"])
            else:
                self.tally.purchases.setdefault(key, (member_id, None))
        return status

    def inbound(self, phone: str) -> int:
        sid = "SM" + uuid.uuid4().hex
        params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": wire.TWILIO_ACCOUNT_SID, "From": phone,
                  "To": FROM_NUMBER, "Body": "POINTS", "NumMedia": "0"}
        path = "/webhooks/twilio/sms"
        signature = RequestValidator(wire.TWILIO_AUTH_TOKEN).compute_signature(self.public_url + path, params)
        status, _ = self.request("POST", path, urlencode(params).encode(), {
            "X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"})
        with self.tally.lock:
            self.tally.statuses[status] += 1
            self.tally.inbound[sid] = 200 <= status < 300
        return status

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            member_id, phone = self.rng.choice(self.members)
            if self.rng.random() < 0.7:
                self.purchase(uuid.uuid4().hex, member_id)
            else:
                self.inbound(phone)


def run(scenario: Outage, url: str, env: dict, pg: tuple[str, int]) -> Row:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    seed_members(engine, 200)
    with engine.connect() as connection:
        members = [tuple(r) for r in connection.execute(sa.text("SELECT id, phone FROM members ORDER BY id LIMIT 200"))]
    key = _api_key(url)
    proxy = TcpProxy(pg[1], pg[0]).__enter__()  # the outage: cut every connection, refuse, restore
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    web_env = {**env, "ENGAGE_PUBLIC_URL": public_url,
               "ENGAGE_DATABASE_URL": url.replace(f"{pg[0]}:{pg[1]}", f"127.0.0.1:{proxy.port}"),
               # Clients retrying through the outage from one address are not a flood: this scenario
               # measures outages, not the inbound SMS rate limits (a 429 would count as a bad answer).
               "ENGAGE_INBOUND_SMS_PER_IP": "100000000/minute", "ENGAGE_INBOUND_SMS_PER_NUMBER": "100000000/minute"}
    web = Gunicorn(web_env, port)
    tally = Tally()
    started = time.monotonic()
    try:
        web.start()
        stop = threading.Event()
        clients = [threading.Thread(target=Client(port, public_url, key, members, tally).run, args=(stop,))
                   for _ in range(scenario.clients)]
        for client in clients:
            client.start()
        time.sleep(scenario.seconds / 3)
        proxy.refuse()
        time.sleep(scenario.down)
        proxy.restore()
        time.sleep(scenario.seconds * 2 / 3)
        stop.set()
        for client in clients:
            client.join()
        _replay(Client(port, public_url, key, members, tally), list(tally.purchases.items()), scenario.clients)
        seconds = time.monotonic() - started
    finally:
        web.stop()
        proxy.close()
    return _tally(engine, scenario, tally, seconds)


def _replay(client: Client, purchases: list, threads: int) -> None:
    """Every purchase again with its Idempotency-Key (as a client retrying a 503 would), until
    answered; the ledger must not change for those already acknowledged."""
    def replay(part: list) -> None:
        for key, (member_id, _) in part:
            wait_until(lambda: 200 <= client.purchase(key, member_id) < 300, 30, "a replayed purchase's answer")

    workers = [threading.Thread(target=replay, args=(purchases[n::threads],)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def _tally(engine: sa.Engine, scenario: Outage, tally: Tally, seconds: float) -> Row:
    expected: Counter = Counter()
    for member_id, points in tally.purchases.values():
        expected[member_id] += points or 0
    with engine.connect() as connection:
        credited = dict(connection.execute(sa.text(
            "SELECT member_id, sum(points) FROM ledger_entries WHERE points > 0 GROUP BY member_id")).all())
        # Every inbound SMS leaves its MessageSid as a handled provider event (a member's is also stored
        # on their thread; a stranger's is only that event).
        sids = set(connection.execute(sa.text("SELECT event_id FROM webhook_events")).scalars())
    # A member credited more than the sum of their purchases' answers was credited twice somewhere.
    over = sum(1 for m in set(expected) | set(credited) if (credited.get(m) or 0) > expected[m])
    under = sum(1 for m in expected if (credited.get(m) or 0) < expected[m])
    acknowledged_sms = [sid for sid, ok in tally.inbound.items() if ok]
    missing_sms = sum(1 for sid in acknowledged_sms if sid not in sids)
    writes = len(tally.purchases) + len(acknowledged_sms)
    bad = sum(n for status, n in tally.statuses.items() if not (200 <= status < 300 or status == 503))
    row = Row(scenario.name, writes, sent_once=writes - missing_sms - under, duplicates=over,
              lost=missing_sms + under, unknown_left=0, kills=0, seconds=seconds, bad_answers=bad)
    if bad:
        row.problems.append("answers other than 2xx/503: " + ", ".join(
            f"{status or 'no answer'} x{n}" for status, n in sorted(tally.statuses.items())
            if not (200 <= status < 300 or status == 503)))
    if not tally.statuses.get(503):
        row.problems.append(f"no 503 during the outage (answers: {dict(tally.statuses)})")
    return row
