"""Draining the outbox under failure: kill -9 of workers, a flaky provider. Every message must
reach the fake provider exactly once, and nothing may be left `unknown` once reconciled."""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from faults.processes import FakeProvider, Process, wait_until, worker
from tests.support.signing import SendGridSigner
from faults.report import Row

THREADS_PER_WORKER = 2
OPEN = ("scheduled", "queued", "sending", "unknown")


@dataclass(frozen=True)
class Drain:
    name: str
    messages: int
    kills: int = 0
    chaos: float = 0.0  # share of provider calls failing (5xx, 429, timeouts)
    email_every: int = 5  # one message in this many is an email (0: none)
    timeout: float = 240.0  # to drain everything, reconciliation included


def seed_members(engine: sa.Engine, members: int) -> list[int]:
    """At least `members` members with a (Dutch mobile) phone and an email, both consented; their ids."""
    now = datetime.now(timezone.utc)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        tier = cursor.execute("SELECT min(id) FROM tiers").fetchone()[0]
        have = cursor.execute("SELECT count(*) FROM members").fetchone()[0]
        if have < members:
            with cursor.copy("COPY members (external_id, first_name, phone, email, sms_consent, email_consent, "
                             "sms_opted_out, email_opted_out, tier_id, referral_code, unsubscribe_token, "
                             "created_at) FROM STDIN") as copy:
                for n in range(have, members):
                    copy.write_row((f"fault-{n}", f"Fault{n}", f"+3162{n:07d}", f"m{n}@faults.example", True, True,
                                    False, False, tier, f"FT{n:08d}", uuid.uuid4().hex, now))
        raw.commit()
        return [row[0] for row in cursor.execute("SELECT id FROM members ORDER BY id LIMIT %s", (members,))]
    finally:
        raw.close()


def seed(engine: sa.Engine, messages: int, email_every: int) -> None:
    """`messages` due messages with distinct texts, spread over up to 2,000 members."""
    now = datetime.now(timezone.utc)
    ids = seed_members(engine, min(messages, 2000))
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("TRUNCATE messages, feedback RESTART IDENTITY")
        with cursor.copy("COPY messages (member_id, direction, channel, status, body, subject, priority, exempt, "
                         "is_test, send_after, attempts, data, created_at, updated_at) FROM STDIN") as copy:
            for n in range(messages):
                email = bool(email_every) and n % email_every == 0
                copy.write_row((ids[n % len(ids)], "out", "email" if email else "sms", "queued",
                                f"Fault run message {n}: your points are waiting.", "Your points" if email else None,
                                9, True, False, now - timedelta(minutes=1), 0, "{}", now, now))
        raw.commit()
    finally:
        raw.close()


def counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return dict(connection.execute(sa.text("SELECT status, count(*) FROM messages GROUP BY status")).all())


class EventRelay(threading.Thread):
    """Posts SendGrid's events for every mail the fake took to Engage's signed event webhook,
    as SendGrid would: "processed", with our custom_args echoed."""

    def __init__(self, fake: FakeProvider, web_url: str, signer: SendGridSigner):
        super().__init__(daemon=True, name="event-relay")
        self.fake, self.url, self.signer = fake, f"{web_url}/webhooks/sendgrid/events", signer
        self.stop = threading.Event()
        self.pending: list = []

    def run(self) -> None:
        while not self.stop.wait(0.3):
            self.relay()

    def relay(self) -> None:
        self.pending += self.fake.control("sendgrid/events?event=processed&new=1")
        if not self.pending:
            return
        body = json.dumps(self.pending)
        headers = self.signer.headers(body, str(int(time.time())))
        request = urllib.request.Request(self.url, data=body.encode(), headers=headers)
        try:
            urllib.request.urlopen(request, timeout=10).close()
            self.pending = []
        except OSError:
            pass  # SendGrid retries until a 2xx; so do we


def run(scenario: Drain, url: str, fake: FakeProvider, web_url: str, signer: SendGridSigner, env: dict) -> Row:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    fake.control("reset", {})
    seed(engine, scenario.messages, scenario.email_every)
    modes = {"sms": ["500", "503", "20429", "timeout"], "email": ["500", "429", "timeout"]}
    for channel, channel_modes in modes.items():
        if scenario.chaos:
            fake.control("chaos", {"channel": channel, "fraction": scenario.chaos, "modes": channel_modes, "seed": 17})
    relay = EventRelay(fake, web_url, signer)
    relay.start()
    workers = [worker(f"{scenario.name}-worker-{n}", env).start() for n in range(2)]
    started = time.monotonic()
    try:
        kills = _kill_while_draining(engine, workers, scenario)
        wait_until(lambda: not any(counts(engine).get(s) for s in OPEN), scenario.timeout,
                   f"{scenario.name}: the outbox to drain and settle ({counts(engine)})", interval=0.5)
        seconds = time.monotonic() - started
    finally:
        for process in workers:
            process.stop()
        relay.stop.set()
        relay.join()
        fake.control("chaos", {"channel": "sms", "fraction": 0, "modes": []})
        fake.control("chaos", {"channel": "email", "fraction": 0, "modes": []})
    return _tally(engine, scenario, fake, kills, seconds)


def _kill_while_draining(engine: sa.Engine, workers: list[Process], scenario: Drain) -> int:
    """kill -9 a worker at random moments spread over the drain; restart it at once."""
    rng = random.Random()
    wait_until(lambda: _unsent(engine) < scenario.messages, 60, "the workers to start sending")
    started, kills = time.monotonic(), 0
    # Unsent, not merely queued: a claim takes a whole batch to `sending` at once, so with batches
    # of 128 the queue can be empty while most of a short scenario's messages are still to go.
    while kills < scenario.kills and (unsent := _unsent(engine)) > 0:
        # The drain so far says how long the rest takes; the kills left fall at random within it.
        rate = max(1.0, (scenario.messages - unsent) / max(0.1, time.monotonic() - started))
        time.sleep(rng.uniform(0.05, 2 * unsent / rate / (scenario.kills - kills + 1)))
        victim = workers[kills % len(workers)]
        victim.kill()
        kills += 1
        victim.start()
    return kills


def _unsent(engine: sa.Engine) -> int:
    """Messages queued or claimed, not yet answered."""
    found = counts(engine)
    return found.get("queued", 0) + found.get("sending", 0)


def _tally(engine: sa.Engine, scenario: Drain, fake: FakeProvider, kills: int, seconds: float) -> Row:
    copies = Counter(str(r["message_id"]) for r in fake.control("accepted"))
    with engine.connect() as connection:
        ids = [str(i) for i in connection.execute(sa.text("SELECT id FROM messages WHERE direction = 'out'")).scalars()]
        reconciled = connection.execute(sa.text(
            "SELECT count(*) FROM messages WHERE reason LIKE 'reconciled:%' OR reason LIKE 'settled by%'")).scalar()
        unknown = connection.execute(sa.text("SELECT count(*) FROM messages WHERE status = 'unknown'")).scalar()
    row = Row(scenario.name, len(ids), sent_once=sum(copies[i] == 1 for i in ids),
              duplicates=sum(copies[i] > 1 for i in ids), lost=sum(copies[i] == 0 for i in ids),
              unknown_left=unknown, kills=kills, seconds=seconds, reconciled=reconciled)
    if scenario.kills and reconciled > kills * THREADS_PER_WORKER:
        row.problems.append(f"{reconciled} ambiguous attempts for {kills} kills x {THREADS_PER_WORKER} threads")
    return row
