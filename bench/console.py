"""Every console page and search at scale: server time per request on PostgreSQL with 1M members
and 10M messages (bench.dataset), against the 200 ms target of issue #18.

Server time is the WSGI call itself, its body read to the end (a middleware around the app's
wsgi_app, in this process): routing, the session, the queries and the template, without any
HTTP client or network. Each request is made once to warm the caches (the first figure is also
shown: `cold`), then BENCH_CONSOLE_REPEATS times (5); the table gives the median (checked against
the target) and the max.

The data is built once into a template database per size, shared with the insights bench
(bench.dataset.scale and built; reused while the spec is the same, new migrations applied to it)
and cloned for the run; its members, lots and messages are counted on the clone and printed. The app's clock is the
data's `as_of`, so "the last 30 days" hold the data's last 30 days.

Settings (environment): BENCH_CONSOLE_MEMBERS (1000000), BENCH_CONSOLE_MESSAGES (10000000), e.g.
100000 and 1000000 for a quick run; BENCH_CONSOLE_REPEATS (5); BENCH_DATASET_REBUILD=1.
"""

from __future__ import annotations

import os
import re
import statistics
import time
from datetime import datetime, timezone

from bench import BenchError, Row, dataset
from bench.harness import log

TARGET_MS = 200.0
AS_OF = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
RUN_DATABASE = "engage_bench_console_run"
EMAIL, PASSWORD = "bench-admin@example.com", "bench admin password"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _size(name: str, default: int) -> int:
    return int((os.environ.get(name) or str(default)).replace("_", ""))


def spec() -> dataset.Spec:
    members = _size("BENCH_CONSOLE_MEMBERS", 1_000_000)
    messages = _size("BENCH_CONSOLE_MESSAGES", 10_000_000)
    return dataset.scale(members, messages, AS_OF)


class Timed:
    """WSGI middleware: the seconds of the last call, body included."""

    def __init__(self, app):
        self.app = app
        self.seconds = 0.0

    def __call__(self, environ, start_response):
        began = time.perf_counter()
        body = b"".join(self.app(environ, start_response))
        self.seconds = time.perf_counter() - began
        return [body]


def _sample(session, members: int) -> dict:
    """Members to look up, chosen from the data: the longest history, a typical one, names."""
    from sqlalchemy import text

    typical = members // 2
    row = session.execute(text("SELECT first_name, last_name, email, phone, external_id, referral_code "
                               "FROM members WHERE id = :id"), {"id": typical}).one()
    mixed = session.execute(text("SELECT id, email FROM members WHERE email LIKE '%@Example.com' "
                                 "ORDER BY id DESC LIMIT 1")).one()
    busiest = session.execute(text("SELECT member_id FROM messages WHERE member_id IS NOT NULL "
                                   "ORDER BY member_id LIMIT 1")).scalar()
    last_audit = session.execute(text("SELECT max(id) FROM audit_entries")).scalar() or 1
    national = "0" + row.phone[3:4] + " " + row.phone[4:8] + " " + row.phone[8:] if row.phone else "0612345678"
    return {"typical": typical, "busiest": busiest, "first": row.first_name, "last": row.last_name,
            "email": row.email, "mixed_email": mixed.email.lower(), "phone": national,
            "external_id": row.external_id, "code": row.referral_code.lower(), "deep_audit": last_audit // 2}


def cases(s: dict) -> list[tuple[str, str, str, dict | None]]:
    """(label, method, path, form) of every page and search."""
    q = lambda text: "/console/members?q=" + text.replace(" ", "+").replace("@", "%40")  # noqa: E731
    pages = [
        ("home (flows, 30-day counts)", "GET", "/console/", None),
        ("flow settings", "GET", "/console/flows/expiry_warning", None),
        ("template editor", "GET", "/console/flows/welcome/templates/sms/nl", None),
        ("template editor, preview by member name", "GET",
         f"/console/flows/welcome/templates/sms/nl?member={s['first']}+{s['last'][:3]}", None),
        ("template preview (htmx) as a member", "POST", "/console/flows/welcome/templates/sms/nl/preview",
         {"member": s["external_id"], "body": "Hoi {{ member.first_name }}, je hebt {{ points }} punten. "
                                                  "Stop? Antwoord STOP"}),
        ("members list, first page", "GET", "/console/members", None),
        ("members list, deep page", "GET", f"/console/members?cursor={s['typical']}", None),
        ("members list, Gold tier", "GET", "/console/members?tier=3", None),
        ("members list, Gold tier, deep page", "GET", f"/console/members?tier=3&cursor={s['typical']}", None),
        ("search: first-name prefix", "GET", q(s["first"][:3]), None),
        ("search: first + last name", "GET", q(f"{s['first']} {s['last'][:3]}"), None),
        ("search: last-name prefix", "GET", q(s["last"].split()[-1][:4]), None),
        ("search: email", "GET", q(s["email"]), None),
        ("search: email, other case", "GET", q(s["mixed_email"].upper()), None),
        ("search: phone, national format", "GET", q(s["phone"]), None),
        ("search: external id", "GET", q(s["external_id"]), None),
        ("search: referral code", "GET", q(s["code"]), None),
        ("search: nothing found", "GET", q("zzqx"), None),
        ("member page, typical", "GET", f"/console/members/{s['typical']}", None),
        ("member page, longest history", "GET", f"/console/members/{s['busiest']}", None),
        ("phone simulator, longest history", "GET", f"/console/members/{s['busiest']}/phone", None),
        ("program", "GET", "/console/program", None),
        ("tier", "GET", "/console/program/tiers/2", None),
        ("rewards", "GET", "/console/program/rewards", None),
        ("reward", "GET", "/console/program/rewards/1", None),
        ("API keys", "GET", "/console/keys", None),
        ("audit, first page", "GET", "/console/audit", None),
        ("audit, deep page", "GET", f"/console/audit?cursor={s['deep_audit']}", None),
    ]
    return pages


def measure(url: str, members: int, repeats: int) -> list[dict]:
    from sqlalchemy import text

    from engage import create_app
    from engage.config import Config
    from engage.services import users

    app = create_app(Config(database_url=url, secret_key="bench", testing=True), clock=lambda: AS_OF)
    timed = Timed(app.wsgi_app)
    app.wsgi_app = timed
    with app.app_context():
        db = app.extensions["engage.db"]
        users.create(db.session(), EMAIL, "admin", PASSWORD, AS_OF)
        with db.session() as session:
            s = _sample(session, members)
            session.execute(text("SELECT 1"))
    client = app.test_client()
    page = client.get("/console/sign-in").get_data(as_text=True)
    token = TOKEN.search(page).group(1)
    answer = client.post("/console/sign-in", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
    if answer.status_code != 302:
        raise BenchError(f"console: cannot sign in ({answer.status_code})")
    results = []
    for label, method, path, form in cases(s):
        times = []
        for attempt in range(repeats + 1):
            if method == "GET":
                answer = client.get(path)
            else:
                token = TOKEN.search(client.get(path.rsplit("/", 1)[0]).get_data(as_text=True)).group(1)
                answer = client.post(path, data={**form, "csrf_token": token}, headers={"HX-Request": "true"})
            if answer.status_code != 200:
                raise BenchError(f"console: {method} {path} answered {answer.status_code}")
            times.append(timed.seconds * 1000)
        results.append({"label": label, "path": path, "cold": times[0], "median": statistics.median(times[1:]),
                        "max": max(times[1:]), "bytes": len(answer.data)})
        log(f"console: {label}: cold {times[0]:.0f} ms, median {results[-1]['median']:.1f} ms, "
            f"max {results[-1]['max']:.1f} ms  {path}")
    app.extensions["engage.db"].dispose()
    return results


def _label(n: int) -> str:
    return f"{n // 1000}k" if n < 1_000_000 else f"{n / 1e6:g}M"


def run() -> list[Row]:
    wanted = spec()
    repeats = max(1, _size("BENCH_CONSOLE_REPEATS", 5))
    dataset.built(wanted)
    url = dataset.clone(wanted.database, RUN_DATABASE)
    try:
        counted = dataset.counts(url)
        log("console: data (counted) " + ", ".join(f"{n} {table}" for table, n in counted.items()))
        results = measure(url, wanted.members, repeats)
    finally:
        dataset.drop(RUN_DATABASE)
    size = f"{_label(wanted.members)} members, {_label(wanted.messages)} messages"
    log(f"console: data {size}")
    return [Row("console", f"data: {table} (counted)", n) for table, n in counted.items()] + [Row("console", f"ms median (max {r['max']:.0f}, cold {r['cold']:.0f}), {r['label']}", r["median"],
                target=TARGET_MS, higher_is_better=False, value_format=".1f") for r in results]
