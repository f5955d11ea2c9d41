"""Inbound SMS: signed Twilio webhooks per second through gunicorn on PostgreSQL, against a bare
Flask endpoint on the same server settings (bench.bare_app: the same POST /webhooks/twilio/sms,
same RequestValidator signature check, a fixed TwiML answer), and the latency of our endpoint at
a fixed open-loop rate, in one run.

The bare endpoint runs twice: storing the message with one INSERT (the baseline of the target,
like bench.earn's one-INSERT endpoint: a receiver that must not lose a message writes it before
it answers) and with no database at all (an informational ratio).

Targets: at least 0.5x the storing bare endpoint's requests per second (closed loop, load from
wrk), and p99 under 50 ms at 200 req/s (open loop: request i is due at t0 + i/rate and its
latency runs from that due time, so a stalled server is not hidden by a stalled client; Debian's
wrk cannot pace, and a paced Python client at 200 req/s costs little CPU). When the
app cannot sustain that rate at all, it is also paced at half its measured capacity (informational
rows), to tell slow requests apart from too little capacity. Both bare endpoints are paced at the
same rate too (informational): the p99 target is absolute, so whether the storing baseline meets
it says how much of a miss is the machine's.

Every request is form-encoded like Twilio's (From a random member, To, Body from a mix of
POINTS / thanks! / 4 / HELP, a unique MessageSid, NumMedia, AccountSid) and signed with twilio's
RequestValidator over ENGAGE_PUBLIC_URL + path before any timed window. Checks: every answer
of the sanity pass and the open-loop run is 200 text/xml and well-formed TwiML, and the stored
inbound messages are exactly the requests sent (each MessageSid encodes pool/process/sequence).

The closed loop runs in BENCH_INBOUND_ROUNDS rounds (3), each the storing bare endpoint and then
ours, both servers up all along; the best round of each is compared (other load on a shared
machine only slows a run down). Every round sends new MessageSids. The paced runs of ours and of
the storing bare endpoint alternate the same way in BENCH_INBOUND_PACED_ROUNDS rounds (2), and
the round with the lowest p99 of each is reported: a p99 over ~2,000 requests moves with one
pause of the machine (one run here gave p50 6.6 ms and p99 161 ms), and such a pause lands on
whichever server happens to be running. Every round's figures are logged.

Settings (environment): BENCH_INBOUND_RATE (200), BENCH_INBOUND_SECONDS (10), BENCH_INBOUND_ROUNDS
(3), BENCH_INBOUND_PACED_ROUNDS (2), plus bench.wrk's BENCH_* load settings.
"""

from __future__ import annotations

import http.client
import itertools
import os
import random
import statistics
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlencode

import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from bench import BenchError, Row
from bench.harness import alternate, create_table, fresh_database, gunicorn, log
from bench.wrk import LoadSettings, Request, fastest, run_load

TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0
DATABASE = "engage_bench_inbound"
MEMBERS = 500
PATH = "/webhooks/twilio/sms"
PUBLIC_URL = "https://engage.example.com"
SIGNED_URL = PUBLIC_URL + PATH
ACCOUNT_SID = "AC" + "5e" * 16
AUTH_TOKEN = "b3nch" + "0" * 27
OUR_NUMBER = "+15005550006"
BODIES = ("POINTS", "thanks!", "4", "HELP")

# MessageSid = "SM" + pool (4 hex) + load process (4 hex) + sequence (24 hex): 32 hex digits.
# Closed-loop round r uses pool POOL_LOAD + r: every round sends new MessageSids. In pool
# POOL_PACED, "process" 0 is the no-database bare run, 2 ours at half load, PACED_OURS + k ours'
# paced round k and PACED_BARE + k the storing bare endpoint's.
# The bare endpoints' closed-loop rounds use pools from POOL_BARE_LOAD (they store no messages).
POOL_PACED, POOL_CHECK, POOL_LOAD, POOL_BARE_LOAD = 2, 3, 16, 48
PACED_OURS, PACED_BARE = 16, 32


def _setting(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


def message_sid(pool: int, process: int, seq: int) -> str:
    return f"SM{pool:04x}{process:04x}{seq:024x}"


def signed(phones: tuple[str, ...], pool: int, process: int, seq: int, rng: random.Random,
           body: str | None = None) -> tuple[bytes, str]:
    """One Twilio inbound form (urlencoded) and its X-Twilio-Signature."""
    params = {"MessageSid": message_sid(pool, process, seq), "SmsMessageSid": message_sid(pool, process, seq),
              "AccountSid": ACCOUNT_SID, "From": rng.choice(phones), "To": OUR_NUMBER,
              "Body": body if body is not None else rng.choice(BODIES), "NumMedia": "0", "NumSegments": "1",
              "ApiVersion": "2010-04-01"}
    return urlencode(params).encode(), RequestValidator(AUTH_TOKEN).compute_signature(SIGNED_URL, params)


def headers(signature: str) -> dict:
    return {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}


# --- closed loop: wrk ---------------------------------------------------------------------------

class SignedRequests:
    """Signed inbound webhooks of MessageSid pool `pool`: each call (one wrk thread's file of one
    run) is a new "process" whose sequence starts at 0, so what the server stored is checked per
    (pool, process) as an unbroken run 0..n-1 (wrk sends each file in order)."""

    def __init__(self, phones: tuple[str, ...], pool: int) -> None:
        self.phones, self.pool = phones, pool
        self.processes: list[int] = []

    def __call__(self, count: int) -> Iterator[Request]:
        process = len(self.processes)
        self.processes.append(process)
        rng = random.Random(self.pool * 1000 + process)
        for n in range(count):
            body, signature = signed(self.phones, self.pool, process, n, rng)
            yield "POST", PATH, body, headers(signature)


# --- open loop: paced sends at a fixed rate ----------------------------------------------------

@dataclass
class PacedResult:
    rate: float
    sent: int = 0
    ok: int = 0
    latencies: list[float] | None = None  # measured window only, from due time
    service: list[float] | None = None  # measured window only, from the actual send
    max_lag: float = 0.0  # how late the client started a send, worst case
    failures: list[str] | None = None

    def ms(self, values: list[float], quantile: float) -> float:
        if len(values) < 2:
            return float("nan")
        return statistics.quantiles(values, n=100)[int(quantile * 100) - 1] * 1000


def _check_answer(status: int, content_type: str, payload: bytes) -> str | None:
    """None if the answer is 200 text/xml holding a TwiML <Response>; else what is wrong."""
    if status != 200:
        return f"status {status}: {payload[:200]!r}"
    if not content_type.startswith("text/xml"):
        return f"content type {content_type!r}"
    try:
        root = ET.fromstring(payload)
    except ET.ParseError as error:
        return f"not XML ({error}): {payload[:200]!r}"
    return None if root.tag == "Response" else f"root <{root.tag}>, not <Response>"


def paced(port: int, requests: list[tuple[bytes, str]], rate: float, warmup: float, *, label: str,
          threads: int = 32) -> PacedResult:
    """Send requests[i] at t0 + i/rate from `threads` keep-alive connections; time from the due time."""
    result = PacedResult(rate, latencies=[], service=[], failures=[])
    counter = itertools.count()
    lock = threading.Lock()
    t0 = time.monotonic() + 0.2
    measure_from = t0 + warmup

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies, service, failures = [], [], []
        sent = ok = 0
        lag = 0.0
        while (i := next(counter)) < len(requests):
            due = t0 + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            body, signature = requests[i]
            began = time.monotonic()
            lag = max(lag, began - due)
            try:
                connection.request("POST", PATH, body=body, headers=headers(signature))
                response = connection.getresponse()
                payload = response.read()
                problem = _check_answer(response.status, response.getheader("Content-Type", ""), payload)
                if response.will_close:
                    connection.close()
            except (OSError, http.client.HTTPException) as error:
                problem = repr(error)
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            done = time.monotonic()
            sent += 1
            if problem:
                failures.append(problem)
            else:
                ok += 1
                if due >= measure_from:
                    latencies.append(done - due)
                    service.append(done - began)
        connection.close()
        with lock:
            result.sent += sent
            result.ok += ok
            result.latencies.extend(latencies)
            result.service.extend(service)
            result.failures.extend(failures)
            result.max_lag = max(result.max_lag, lag)

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    log(f"{label}: {len(requests)} requests paced at {rate:.0f} req/s ({warmup:.0f} s warm-up), "
        f"{threads} connections")
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    log(f"{label}: {result.ok}/{result.sent} ok; from due time p50 {result.ms(result.latencies, .5):.1f} ms, "
        f"p99 {result.ms(result.latencies, .99):.1f} ms, max {max(result.latencies, default=0) * 1000:.1f} ms; "
        f"service p50 {result.ms(result.service, .5):.1f} ms, p99 {result.ms(result.service, .99):.1f} ms; "
        f"worst send lag {result.max_lag * 1000:.1f} ms")
    if result.failures:
        samples = "\n  ".join(result.failures[:5])
        raise BenchError(f"{label}: {len(result.failures)} of {result.sent} answers were not 200 TwiML:"
                         f"\n  {samples}")
    return result


def calmest(runs: list[PacedResult]) -> PacedResult:
    """The paced round with the lowest p99."""
    return min(runs, key=lambda run: run.ms(run.latencies, .99))


def create_bare_inbound_table(url: str) -> None:
    create_table(url, "bench_bare_inbound", "id BIGSERIAL PRIMARY KEY, sid VARCHAR(64) NOT NULL, "
                 "from_number VARCHAR(32) NOT NULL, body TEXT NOT NULL, "
                 "received_at TIMESTAMPTZ NOT NULL DEFAULT now()")


# --- setup and checks --------------------------------------------------------------------------

def seed(url: str, members: int = MEMBERS) -> tuple[str, ...]:
    """`members` enrolled members with distinct Dutch mobile numbers and SMS consent; their phones."""
    from engage.db import Database
    from engage.services import members as member_service

    database = Database(url)
    now = datetime.now(timezone.utc)
    rng = random.Random(3)
    numbers = rng.sample(range(10_000_000, 60_000_000), members)  # 06-1 … 06-5: valid mobiles
    phones = []
    try:
        with database.session() as session:
            for n, number in enumerate(numbers):
                member = member_service.enrol(session, {
                    "external_id": f"bench-{n}", "first_name": f"Bench{n}", "phone": f"+316{number}",
                    "consent": {"sms": True, "email": False}}, now)
                phones.append(member.phone)
    finally:
        database.dispose()
    if len(set(phones)) != members or not all(phone and phone.startswith("+316") for phone in phones):
        raise BenchError("inbound: enrolment did not keep the members' phone numbers")
    return tuple(phones)


def sanity(port: int, phones: tuple[str, ...], *, label: str, seq: itertools.count | None = None) -> dict:
    """A few sequential requests of every body (and one mis-signed): right answers? Returns them."""
    rng = random.Random(11)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    answers = {}
    try:
        for body_text in BODIES * 3:
            body, signature = signed(phones, POOL_CHECK, 0, next(seq) if seq else 0, rng, body_text)
            connection.request("POST", PATH, body=body, headers=headers(signature))
            response = connection.getresponse()
            payload = response.read()
            problem = _check_answer(response.status, response.getheader("Content-Type", ""), payload)
            if problem:
                raise BenchError(f"{label}: {body_text!r} answered {problem}")
            answers[body_text] = "".join(ET.fromstring(payload).itertext())[:60]
        body, signature = signed(phones, POOL_CHECK, 0, 10**9, rng)
        connection.request("POST", PATH, body=body, headers=headers(signature[::-1]))
        response = connection.getresponse()
        response.read()
        if response.status != 403:
            raise BenchError(f"{label}: a mis-signed request answered {response.status}, not 403")
    finally:
        connection.close()
    log(f"{label}: answers " + "; ".join(f"{k!r} -> {v!r}" for k, v in answers.items()))
    return answers


def stored_inbound(url: str) -> dict[tuple[int, int], tuple[int, int, int]]:
    """(pool, process) -> (count, distinct, max sequence + 1) of stored inbound SMS by MessageSid."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT substr(provider_id, 3, 4), substr(provider_id, 7, 4), count(*), "
            "count(DISTINCT provider_id), max(substr(provider_id, 11)) FROM messages "
            "WHERE direction = 'in' AND channel = 'sms' GROUP BY 1, 2")).all()
        unhandled = connection.execute(sa.text(
            "SELECT count(*) FROM messages WHERE direction = 'in' AND action IS NULL")).scalar_one()
        actions = connection.execute(sa.text(
            "SELECT action, count(*) FROM messages WHERE direction = 'in' GROUP BY 1 ORDER BY 2 DESC")).all()
    engine.dispose()
    if unhandled:
        raise BenchError(f"inbound: {unhandled} stored inbound messages have no action")
    log("inbound: stored inbound actions " + ", ".join(f"{a}: {n}" for a, n in actions))
    return {(int(pool, 16), int(proc, 16)): (count, distinct, int(top, 16) + 1)
            for pool, proc, count, distinct, top in rows}


def check_stored(stored: dict, expected: dict[tuple[int, int], int | None]) -> int:
    """Each (pool, process) stored exactly `expected` requests (None: an unbroken 0..n-1 run)."""
    problems = []
    total = 0
    for key, want in expected.items():
        count, distinct, span = stored.get(key, (0, 0, 0))
        want = span if want is None else want
        total += count
        if not (count == distinct == span == want):
            problems.append(f"pool {key[0]} process {key[1]}: {count} stored ({distinct} distinct, "
                            f"sequence 0..{span - 1}), {want} sent")
    extra = set(stored) - set(expected)
    if extra:
        problems.append(f"unexpected inbound messages from {sorted(extra)}")
    if problems:
        raise BenchError("inbound: stored inbound messages differ from requests sent:\n  " + "\n  ".join(problems))
    return total


# --- the bench ---------------------------------------------------------------------------------

def run() -> list[Row]:
    settings = LoadSettings.from_env()
    rate = _setting("BENCH_INBOUND_RATE", 200)
    seconds = _setting("BENCH_INBOUND_SECONDS", 10)
    rounds = max(1, int(_setting("BENCH_INBOUND_ROUNDS", 3)))
    paced_rounds = max(1, int(_setting("BENCH_INBOUND_PACED_ROUNDS", 2)))

    url = fresh_database(DATABASE)
    log(f"inbound: database {url} migrated; enrolling {MEMBERS} members with phones and SMS consent")
    phones = seed(url)
    ours_requests = [SignedRequests(phones, POOL_LOAD + r) for r in range(rounds)]
    bare_requests = [SignedRequests(phones, POOL_BARE_LOAD + r) for r in range(rounds + 1)]
    paced_rng = random.Random(5)
    paced_count = int(rate * (settings.warmup + seconds))

    def paced_set(process: int) -> list[tuple[bytes, str]]:
        return [signed(phones, POOL_PACED, process, n, paced_rng) for n in range(paced_count)]

    bare_paced = paced_set(0)
    our_paced = [paced_set(PACED_OURS + k) for k in range(paced_rounds)]
    stored_paced = [paced_set(PACED_BARE + k) for k in range(paced_rounds)]

    env = {"ENGAGE_DATABASE_URL": url, "BENCH_DATABASE_URL": url, "ENGAGE_PUBLIC_URL": PUBLIC_URL,
           "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_FROM_NUMBER": OUR_NUMBER,
           # One load generator on one address is not a flood: measure the endpoint, not the
           # limiter's refusals (the limits are still checked on every request).
           "ENGAGE_INBOUND_SMS_PER_IP": "100000000/minute", "ENGAGE_INBOUND_SMS_PER_NUMBER": "100000000/minute",
           "ENGAGE_SECRET_KEY": "bench-console-secret-key"}

    with gunicorn("bench.bare_app:app", env, name="bare-twilio", probe="/ready") as port:
        sanity(port, phones, label="bare TwiML")
        bare = run_load(port, bare_requests[rounds], settings, label="bare signed TwiML, no database")
        bare_lat = paced(port, bare_paced, rate, settings.warmup, label="bare TwiML paced")
    create_bare_inbound_table(url)

    checks = itertools.count()
    with gunicorn("bench.bare_app:app", {**env, "BARE_TWILIO_STORE": "1"}, name="bare-twilio-store",
                  probe="/ready") as bare_port, \
            gunicorn("wsgi:app", env, name="engage-inbound", probe="/api/v1/rewards") as port:
        sanity(port, phones, label="engage inbound", seq=checks)
        stored_runs, app_runs = alternate(
            rounds, "inbound",
            lambda r: run_load(bare_port, bare_requests[r - 1], settings,
                               label=f"bare signed TwiML + one INSERT, round {r}/{rounds}"),
            lambda r: run_load(port, ours_requests[r - 1], settings,
                               label=f"engage inbound SMS, round {r}/{rounds}"))
        stored_lats, our_lats = alternate(
            paced_rounds, "inbound paced",
            lambda k: paced(bare_port, stored_paced[k - 1], rate, settings.warmup,
                            label=f"bare TwiML + one INSERT paced, round {k}/{paced_rounds}"),
            lambda k: paced(port, our_paced[k - 1], rate, settings.warmup,
                            label=f"engage inbound paced, round {k}/{paced_rounds}"),
            figure=lambda run: f"{run.ms(run.latencies, .99):.1f}", unit="p99 ms")
        lat, stored_lat = calmest(our_lats), calmest(stored_lats)
        bare_stored, app = fastest(stored_runs), fastest(app_runs)
        light = None
        if app.rps < rate:  # saturated at `rate`: also show the latency with headroom (half capacity)
            light_rate = max(10.0, round(app.rps / 2))
            light_requests = [signed(phones, POOL_PACED, 2, n, paced_rng)
                              for n in range(int(light_rate * (settings.warmup + seconds)))]
            light = paced(port, light_requests, light_rate, settings.warmup,
                          label="engage inbound paced, half load")

    checked = next(checks)
    stored = stored_inbound(url)
    loaded = {(requests.pool, p): None for requests in ours_requests for p in requests.processes}
    expected = {**loaded, **{(POOL_PACED, PACED_OURS + k): run.sent for k, run in enumerate(our_lats)},
                (POOL_CHECK, 0): checked}
    if light is not None:
        expected[(POOL_PACED, 2)] = light.sent
    check_stored(stored, expected)
    sent_load = sum(stored[key][0] for key in loaded if key in stored)
    answered = sum(run.ok for run in app_runs)
    if sent_load < answered:
        raise BenchError(f"inbound: {answered} requests answered 2xx but only {sent_load} inbound messages stored")
    log(f"inbound: stored inbound messages = requests sent ({sent_load} closed-loop incl. warm-up, "
        f"{sum(run.sent for run in our_lats)} paced, {checked} sanity)")

    metric = f"@{rate:.0f}/s"
    extra = []
    if light is not None:
        extra = [Row("inbound", f"p50 ms @{light.rate:.0f}/s", light.ms(light.latencies, .5), value_format=".1f"),
                 Row("inbound", f"p99 ms @{light.rate:.0f}/s", light.ms(light.latencies, .99), value_format=".1f")]
    return [
        Row("inbound", "signed SMS/s", app.rps, baseline=bare_stored.rps, target=TARGET_RATIO),
        Row("inbound", "signed SMS/s vs no-DB bare", app.rps, baseline=bare.rps),
        Row("inbound", f"p50 ms {metric}", lat.ms(lat.latencies, .5), value_format=".1f"),
        Row("inbound", f"p99 ms {metric}", lat.ms(lat.latencies, .99), target=TARGET_P99_MS,
            higher_is_better=False, value_format=".1f"),
        Row("inbound", f"bare p99 ms {metric}", bare_lat.ms(bare_lat.latencies, .99), value_format=".1f"),
        Row("inbound", f"bare+INSERT p99 ms {metric}", stored_lat.ms(stored_lat.latencies, .99), value_format=".1f"),
        *extra,
    ]
