"""Earning throughput: purchase events per second through the HTTP API (gunicorn, PostgreSQL),
against a bare Flask endpoint doing one INSERT in the same database, same server and load settings.
The load comes from wrk (bench.wrk), every purchase with its own Idempotency-Key.

Target: the app reaches at least 0.6x the bare endpoint's requests per second.

`python -m bench earn_items` (bench/earn_items.py) runs the same with three line items in every
purchase and an active category bonus (double points on coffee); the bare endpoint then gets the
same items in its body, which it parses and ignores.

The two run in BENCH_EARN_ROUNDS alternating rounds (3), both servers up all along, and the best
round of each is compared: other load on a shared machine only ever slows a run down.

Beside the ratio it prints the microseconds of CPU per request of each side, in its gunicorn and
in the PostgreSQL backends (bench.cpu): informational rows that move far less with the machine's
other load than requests per second do.

BENCH_EARN_EXTRAS=1 measures purchases with the per-purchase extras on: giving back (a share of
each purchase to a cause) and an open auto challenge counting purchases.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa

from bench import BenchError, Row
from bench.cpu import Spent, spent
from bench.harness import SESSIONS, alternate, create_table, fresh_database, gunicorn, log
from bench.wrk import LoadSettings, Request, fastest, run_load

TARGET_RATIO = 0.6
MEMBERS = 500
AMOUNT = "25.90"


@dataclass(frozen=True)
class PurchaseRequests:
    """POST /api/v1/members/{random id}/events with a fresh Idempotency-Key each time."""

    member_ids: tuple[int, ...]
    api_key: str
    items: tuple[dict, ...] = ()

    def __call__(self, count: int) -> Iterator[Request]:
        body = json.dumps({"type": "purchase", "amount": AMOUNT, **_items(self.items)}).encode()
        for _ in range(count):
            member_id = random.choice(self.member_ids)
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.api_key}",
                       "Idempotency-Key": uuid.uuid4().hex}
            yield "POST", f"/api/v1/members/{member_id}/events", body, headers


@dataclass(frozen=True)
class BareRequests:
    """POST /bare with the same body size and headers as a purchase."""

    member_ids: tuple[int, ...]
    api_key: str
    items: tuple[dict, ...] = ()

    def __call__(self, count: int) -> Iterator[Request]:
        for _ in range(count):
            member_id = random.choice(self.member_ids)
            body = json.dumps({"type": "purchase", "amount": AMOUNT, "member_id": member_id,
                               **_items(self.items)}).encode()
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.api_key}",
                       "Idempotency-Key": uuid.uuid4().hex}
            yield "POST", "/bare", body, headers


def _items(items: tuple[dict, ...]) -> dict:
    return {"items": list(items)} if items else {}


def create_bare_table(url: str) -> None:
    create_table(url, "bench_bare", "id BIGSERIAL PRIMARY KEY, member_id BIGINT NOT NULL, "
                 "kind VARCHAR(32) NOT NULL, amount NUMERIC(12, 2), idempotency_key VARCHAR(255), "
                 "created_at TIMESTAMPTZ NOT NULL DEFAULT now()")


def seed(url: str, members: int = MEMBERS, settings: dict | None = None) -> tuple[str, tuple[int, ...]]:
    """An integration key and `members` enrolled members, with these program settings; returns
    (key, member ids)."""
    from engage.db import Database
    from engage.services import keys, program_settings
    from engage.services import members as member_service

    database = Database(url)
    now = datetime.now(timezone.utc)
    try:
        with database.session() as session:
            api_key = keys.create(session, "integration", "bench", now)
            if settings:
                program_settings.update(session, settings, now)
        ids = []
        with database.session() as session:
            for n in range(members):
                member = member_service.enrol(session, {
                    "external_id": f"bench-{n}", "first_name": f"Bench{n}",
                    "consent": {"sms": False, "email": False}}, now)
                ids.append(member.id)
    finally:
        database.dispose()
    return api_key, tuple(ids)


def enable_extras(url: str) -> None:
    """Giving back on, and a purchase challenge open around now (auto: every member is in)."""
    from datetime import timedelta

    from engage.db import Database
    from engage.services import challenges, program_settings

    database = Database(url)
    now = datetime.now(timezone.utc)
    try:
        with database.session() as session:
            program_settings.update(session, {"giving_back": {"enabled": True, "cause": "the food bank",
                                                               "mode": "percent", "percent": "1.00"}}, now)
        with database.session() as session:
            challenges.create(session, {"name": "10 purchases", "kind": "purchase", "goal": 10, "bonus": 200,
                                        "starts_at": now - timedelta(days=1), "ends_at": now + timedelta(days=1)},
                              now)
    finally:
        database.dispose()


def count_rows(url: str, sql: str) -> int:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        count = connection.execute(sa.text(sql)).scalar_one()
    engine.dispose()
    return count


def run() -> list[Row]:
    return measure("earn")


def measure(name: str, items: tuple[dict, ...] = (), program: dict | None = None) -> list[Row]:
    """The earn bench, its purchases carrying `items`, with these program settings."""
    settings = LoadSettings.from_env()
    rounds = max(1, int(os.environ.get("BENCH_EARN_ROUNDS") or 3))
    url = fresh_database("engage_bench")
    log(f"{name}: database {url} migrated; enrolling {MEMBERS} members")
    api_key, member_ids = seed(url, settings=program)
    extras = os.environ.get("BENCH_EARN_EXTRAS") == "1"
    if extras:
        enable_extras(url)
    create_bare_table(url)

    before = count_rows(url, "SELECT count(*) FROM events")
    database = sa.engine.make_url(url).database
    bare_cpu: list[Spent] = []
    app_cpu: list[Spent] = []

    def measured(port: int, into: list[Spent]):
        @contextmanager
        def around():
            with spent(SESSIONS.get(port), database) as used:
                yield
            into.append(used)
        return around

    with gunicorn("bench.bare_app:app", {"BENCH_DATABASE_URL": url}, name="bare", probe="/ready") as bare_port, \
            gunicorn("wsgi:app", {"ENGAGE_DATABASE_URL": url}, name="engage", probe="/api/v1/rewards") as port:
        bare_runs, app_runs = alternate(
            rounds, name,
            lambda r: run_load(bare_port, BareRequests(member_ids, api_key, items), settings,
                               label=f"bare INSERT, round {r}/{rounds}", around=measured(bare_port, bare_cpu)),
            lambda r: run_load(port, PurchaseRequests(member_ids, api_key, items), settings,
                               label=f"engage purchases, round {r}/{rounds}", around=measured(port, app_cpu)))
    recorded = count_rows(url, "SELECT count(*) FROM events") - before
    answered = sum(run.ok for run in app_runs)
    if recorded < answered:
        raise BenchError(f"{name}: {answered} requests answered 2xx but only {recorded} events were stored")

    label = f"{name}, giving back + challenge" if extras else name
    rows = [Row(label, "purchase events/s", fastest(app_runs).rps, baseline=fastest(bare_runs).rps,
                target=TARGET_RATIO)]
    # CPU per request hardly depends on the machine's other load: the least of the rounds, each side.
    for part, index in (("gunicorn", 0), ("PostgreSQL backends", 1)):
        app = _least(used.per_request(run.ok)[index] for used, run in zip(app_cpu, app_runs))
        bare = _least(used.per_request(run.ok)[index] for used, run in zip(bare_cpu, bare_runs))
        if app is not None and bare is not None:
            log(f"{label}: {part}: {app:.0f} us CPU/purchase vs {bare:.0f} us CPU/bare request")
            rows.append(Row(label, f"us CPU/request, {part} (info)", app, baseline=bare))
    return rows


def _least(values) -> float | None:
    values = [v for v in values if v is not None]
    return min(values) if values else None
