"""Dispatch throughput: outbound SMS per second from the PostgreSQL outbox through the real Twilio
SDK to the fake provider, with 1 and 2 dispatcher processes, against a bare HTTP POST loop
(requests.Session, same processes x threads, same form body) to the same fake, in one run.

Targets: dispatch reaches at least 0.6x the bare loop at each process count, and at least
1,000 msg/s with 2 processes. Each dispatch run is checked: the fake received exactly M requests,
one per message id (StatusCallback ?message_id=), every message `sent`, none left `sending`.

Settings (environment): BENCH_DISPATCH_MESSAGES (20000), BENCH_DISPATCH_MEMBERS (2000),
BENCH_DISPATCH_THREADS per process (8) (each thread claims a small batch and hands, sends and records
one message at a time),
BENCH_DISPATCH_PROCESSES ("1,2"), BENCH_DISPATCH_ROUNDS (3: bare and dispatch alternate, best of each
is reported, since other load on the machine only ever slows a run down).

Also reported: the fake provider's CPU per request on each side, and (logged) the share of one core
it was busy: it is a single Python process, so near 100% it bounds both sides.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa

from bench import BenchError, Row
from bench.harness import _LIVE, ROOT, _stop, _tail, _wait_until_answering, fresh_database, log

TARGET_RATIO = 0.6
TARGET_RATE = 1000.0
DATABASE = "engage_bench_dispatch"
FROM_NUMBER = "+15005550006"
PUBLIC_URL = "http://127.0.0.1:5000"
BODY = "Hi {n}, your loyalty points are waiting: 250 points, enough for a free coffee. Reply STOP to opt out."


def _setting(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def _local_env() -> dict[str, str]:
    """Provider calls go straight to 127.0.0.1 (no proxy), and the Twilio SDK keeps our host."""
    env = {k: v for k, v in os.environ.items() if k not in ("TWILIO_EDGE", "TWILIO_REGION")}
    env.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    return env


# --- the fake provider, in its own process ---------------------------------------------------

@contextmanager
def fake_provider() -> Iterator[str]:
    """`python -m tests.fakes.provider` on a port it binds itself (port 0); yields its base URL."""
    with fake_provider_process() as (url, _pid):
        yield url


@contextmanager
def fake_provider_process() -> Iterator[tuple[str, int]]:
    """The fake provider as above; yields (base URL, process id) so its CPU can be read."""
    log_path = Path(tempfile.gettempdir()) / f"engage-bench-fake-provider-{os.getpid()}.log"
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.provider", "--port", "0"],
                                cwd=ROOT, env=_local_env(), stdout=log_file, stderr=subprocess.STDOUT,
                                start_new_session=True)
    _LIVE.add(proc)
    try:
        url = _announced_url(proc, log_path)
        _wait_until_answering(proc, int(url.rsplit(":", 1)[1]), "/_fake/stats", log_path)
        yield url, proc.pid
    finally:
        _stop(proc)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc, clock-tick resolution)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _announced_url(proc: subprocess.Popen, log_path: Path, timeout: float = 30.0) -> str:
    """The URL in the fake provider's first line, "Fake provider listening on http://host:port"."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(r"listening on (http://\S+)", log_path.read_text(errors="replace"))
        if found:
            return found.group(1)
        if proc.poll() is not None:
            raise BenchError(f"the fake provider exited with {proc.returncode} at start-up:\n{_tail(log_path)}")
        time.sleep(0.05)
    raise BenchError(f"the fake provider did not say its port within {timeout:.0f} s:\n{_tail(log_path)}")


def _fake(base: str, path: str, method: str = "GET"):
    request = urllib.request.Request(base + path, method=method, data=b"" if method == "POST" else None)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=60) as response:
        return json.loads(response.read())


# --- data ------------------------------------------------------------------------------------

def _raw(url: str):
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def seed_members(url: str, members: int) -> None:
    """`members` members with an E.164 phone and SMS consent, by COPY."""
    now = datetime.now(timezone.utc)
    with _raw(url) as connection:
        tier_id = connection.execute("SELECT min(id) FROM tiers").fetchone()[0]
        with connection.cursor().copy(
                "COPY members (external_id, first_name, phone, sms_consent, email_consent, sms_opted_out, "
                "email_opted_out, tier_id, referral_code, unsubscribe_token, created_at) FROM STDIN") as copy:
            for n in range(members):
                copy.write_row((f"bench-{n}", f"Bench{n}", f"+1555{n:07d}", True, False, False, False,
                                tier_id, f"BD{n:08d}", f"{uuid.uuid4().hex}{n:08d}", now))
        connection.execute("ANALYZE members")


def queue_messages(url: str, messages: int) -> None:
    """Empty the outbox and queue `messages` exempt SMS, due a minute ago, spread over the members."""
    now = datetime.now(timezone.utc)
    due = now - timedelta(minutes=1)
    with _raw(url) as connection:
        connection.execute("TRUNCATE messages, feedback RESTART IDENTITY")
        member_ids = [row[0] for row in connection.execute("SELECT id FROM members ORDER BY id")]
        with connection.cursor().copy(
                "COPY messages (member_id, direction, flow, channel, status, body, segments, encoding, "
                "priority, exempt, is_test, send_after, attempts, data, created_at, updated_at) "
                "FROM STDIN") as copy:
            for n in range(messages):
                copy.write_row((member_ids[n % len(member_ids)], "out", None, "sms", "queued",
                                BODY.format(n=n), 1, "GSM", 9, True, False, due, 0, "{}", now, now))
        connection.execute("VACUUM ANALYZE messages")


def _counts(url: str) -> dict[str, int]:
    with _raw(url) as connection:
        return dict(connection.execute("SELECT status, count(*) FROM messages GROUP BY status").fetchall())


# --- dispatcher processes --------------------------------------------------------------------

def _dispatcher_main(url, fake_url, sid, token, threads, ready, go, stop, errors, cpu):
    try:
        from engage import create_app
        from engage.config import Config
        from engage.dispatcher import Dispatcher

        config = Config(database_url=url, public_url=PUBLIC_URL, twilio_account_sid=sid,
                        twilio_auth_token=token, twilio_from_number=FROM_NUMBER,
                        twilio_api_base_url=fake_url, send_rate_per_second=1e9)
        app = create_app(config)
        ext = app.extensions
        dispatcher = Dispatcher(ext["engage.db"], ext["engage.channels"], config, ext["engage.clock"])
        # Open the pool's connections up front: connecting is start-up, not per-message cost.
        engine = ext["engage.db"].engine
        held = [engine.connect() for _ in range(threads)]
        for connection in held:
            connection.close()
        ready.release()
        go.wait()
        began = time.process_time()
        dispatcher.run_forever(stop, threads=threads, idle_seconds=0.02)
        cpu.put(time.process_time() - began)
    except Exception as error:  # noqa: BLE001 - reported to the parent
        errors.put(repr(error))
        ready.release()


def run_dispatch(url: str, fake_url: str, sid: str, token: str, processes: int, threads: int,
                 messages: int) -> tuple[float, float]:
    """Drain `messages` queued SMS with `processes` dispatchers; returns (msg/s by wall time,
    CPU microseconds per message in the dispatcher processes)."""
    context = multiprocessing.get_context("spawn")
    ready, go, stop = context.Semaphore(0), context.Event(), context.Event()
    errors, cpu = context.Queue(), context.Queue()
    children = [context.Process(target=_dispatcher_main, daemon=True, name=f"bench-dispatcher-{i}",
                                args=(url, fake_url, sid, token, threads, ready, go, stop, errors, cpu))
                for i in range(processes)]
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        for child in children:
            child.start()
        for _ in children:
            if not ready.acquire(timeout=60):
                raise BenchError("dispatch: a dispatcher process did not start within 60 s")
        if not errors.empty():
            raise BenchError(f"dispatch: dispatcher failed at start-up: {errors.get()}")
        with engine.connect() as connection:
            count = sa.text("SELECT count(*) FROM messages WHERE status = 'sent'")
            deadline_after = max(120.0, messages / 10)
            backends = _server_side(connection)
            started = time.monotonic()
            go.set()
            while True:
                # Every 0.1 s: the count scans the outbox, and the watching must not load the
                # database the dispatchers use (±0.1 s on a run of 10 s or more).
                time.sleep(0.1)
                sent = connection.execute(count).scalar_one()
                connection.commit()
                if sent >= messages:
                    elapsed = time.monotonic() - started
                    break
                if time.monotonic() - started > deadline_after:
                    raise BenchError(f"dispatch: only {sent} of {messages} sent after {deadline_after:.0f} s; "
                                     f"statuses {_counts(url)}")
                if not all(child.is_alive() for child in children):
                    raise BenchError("dispatch: a dispatcher process died")
            backends_used, flushes = _server_side_since(connection, backends)
        stop.set()
        cpu_seconds = sum(cpu.get(timeout=30) for _ in children)
        for child in children:
            child.join(timeout=30)
    finally:
        stop.set()
        go.set()
        for child in children:
            if child.is_alive():
                child.terminate()
                child.join(timeout=5)
        engine.dispose()
    rate = messages / elapsed
    log(f"dispatch {processes} process(es) x {threads} threads, one message per claim: "
        f"{messages} messages in {elapsed:.2f} s = {rate:.0f} msg/s "
        f"({cpu_seconds / messages * 1e6:.0f} us CPU/message in the dispatchers, "
        f"{backends_used / messages * 1e6:.0f} in their PostgreSQL backends; {flushes / elapsed:.0f} WAL "
        f"flushes/s on the server, {messages / max(flushes, 1):.1f} messages per flush)")
    return rate, cpu_seconds / messages * 1e6


def _server_side(connection) -> tuple[dict[int, float], int]:
    """CPU seconds so far of the database's other backends (the dispatchers' connections, opened
    before the start), and the server's WAL flush count (pg_stat_wal, every database's)."""
    pids = connection.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                      "AND pid <> pg_backend_pid()")).scalars().all()
    flushes = connection.execute(sa.text("SELECT wal_sync FROM pg_stat_wal")).scalar_one()
    connection.commit()
    used = {}
    for pid in pids:
        try:
            used[pid] = cpu_seconds(pid)
        except OSError:  # gone, or a server on another machine
            pass
    return used, flushes


def _server_side_since(connection, before: tuple[dict[int, float], int]) -> tuple[float, int]:
    """(backend CPU seconds, WAL flushes) since `before`."""
    after = _server_side(connection)
    used = sum(after[0][pid] - seconds for pid, seconds in before[0].items() if pid in after[0])
    return used, after[1] - before[1]


def verify(url: str, fake_url: str, messages: int, label: str) -> None:
    """Exactly one provider request per message, every message sent, none stuck in `sending`."""
    counts = _counts(url)
    if counts.get("sent") != messages or len(counts) != 1:
        raise BenchError(f"{label}: statuses after the run {counts}, expected {{'sent': {messages}}}")
    stats = _fake(fake_url, "/_fake/stats")
    if stats.get("sms") != messages:
        raise BenchError(f"{label}: the fake received {stats.get('sms')} SMS requests for {messages} messages")
    per_id: Counter[int] = Counter()
    for record in _fake(fake_url, "/_fake/requests?channel=sms"):
        callback = (record.get("form") or {}).get("StatusCallback", "")
        per_id[int(parse_qs(urlsplit(callback).query)["message_id"][0])] += 1
        if record.get("status") != 201:
            raise BenchError(f"{label}: the fake answered {record.get('status')}: {record}")
    with _raw(url) as connection:
        ids = {row[0] for row in connection.execute("SELECT id FROM messages")}
        providers = connection.execute("SELECT count(DISTINCT provider_id) FROM messages").fetchone()[0]
    twice = [i for i, n in per_id.items() if n > 1]
    if set(per_id) != ids or twice:
        raise BenchError(f"{label}: {len(ids - set(per_id))} messages never sent, {len(twice)} sent twice "
                         f"(e.g. {twice[:5]}), {len(set(per_id) - ids)} unknown ids")
    if providers != messages:
        raise BenchError(f"{label}: {providers} distinct provider ids for {messages} messages")
    log(f"{label}: verified {messages} requests, one per message, none left sending")


# --- the bare loop ---------------------------------------------------------------------------

def _bare_thread(url, auth, first, count, done, lock):
    import requests

    session = requests.Session()
    session.auth = auth
    ok = errors = 0
    sample = ""
    for n in range(first, first + count):
        form = {"To": f"+1555{n % 10_000_000:07d}", "From": FROM_NUMBER, "Body": BODY.format(n=n),
                "StatusCallback": f"{PUBLIC_URL}/webhooks/twilio/status?message_id={n + 1}"}
        try:
            response = session.post(url, data=form, timeout=10)
            if response.status_code == 201:
                ok += 1
                continue
            sample = f"{response.status_code} {response.text[:200]}"
        except Exception as error:  # noqa: BLE001 - counted
            sample = repr(error)
        errors += 1
    session.close()
    with lock:
        done["ok"] += ok
        done["errors"] += errors
        done["sample"] = done["sample"] or sample


def _bare_main(url, auth, shares, ready, go, results):
    import requests  # noqa: F401 - imported before the clock starts

    done = {"ok": 0, "errors": 0, "sample": "", "cpu": 0.0}
    lock = threading.Lock()
    workers = [threading.Thread(target=_bare_thread, args=(url, auth, first, count, done, lock))
               for first, count in shares]
    ready.release()
    go.wait()
    began = time.process_time()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    done["cpu"] = time.process_time() - began
    results.put(done)


def run_bare(fake_url: str, sid: str, token: str, processes: int, threads: int,
             messages: int) -> tuple[float, float]:
    """`messages` plain form POSTs to Messages.json from processes x threads; returns (req/s,
    CPU microseconds per request in the load processes)."""
    url = f"{fake_url}/2010-04-01/Accounts/{sid}/Messages.json"
    workers = processes * threads
    shares, first = [], 0
    for n in range(workers):
        count = messages // workers + (1 if n < messages % workers else 0)
        shares.append((first, count))
        first += count
    context = multiprocessing.get_context("spawn")
    ready, go, results = context.Semaphore(0), context.Event(), context.Queue()
    children = [context.Process(target=_bare_main, daemon=True, name=f"bench-bare-{i}",
                                args=(url, (sid, token), shares[i * threads:(i + 1) * threads], ready, go, results))
                for i in range(processes)]
    try:
        for child in children:
            child.start()
        for _ in children:
            if not ready.acquire(timeout=60):
                raise BenchError("bare: a load process did not start within 60 s")
        started = time.monotonic()
        go.set()
        totals = [results.get(timeout=max(120.0, messages / 10)) for _ in children]
        elapsed = time.monotonic() - started
        for child in children:
            child.join(timeout=10)
    finally:
        for child in children:
            if child.is_alive():
                child.terminate()
                child.join(timeout=5)
    ok, errors = sum(t["ok"] for t in totals), sum(t["errors"] for t in totals)
    if errors or ok != messages:
        sample = next((t["sample"] for t in totals if t["sample"]), "")
        raise BenchError(f"bare: {errors} of {messages} requests failed; e.g. {sample}")
    rate = messages / elapsed
    cpu_seconds = sum(t["cpu"] for t in totals)
    log(f"bare POST loop {processes} process(es) x {threads} threads: "
        f"{messages} requests in {elapsed:.2f} s = {rate:.0f} req/s "
        f"({cpu_seconds / messages * 1e6:.0f} us CPU/request in the load processes)")
    return rate, cpu_seconds / messages * 1e6


# --- the bench -------------------------------------------------------------------------------

def run() -> list[Row]:
    messages = _setting("BENCH_DISPATCH_MESSAGES", 20_000)
    members = _setting("BENCH_DISPATCH_MEMBERS", 2_000)
    threads = _setting("BENCH_DISPATCH_THREADS", 8)
    rounds = _setting("BENCH_DISPATCH_ROUNDS", 3)
    counts = [int(n) for n in os.environ.get("BENCH_DISPATCH_PROCESSES", "1,2").split(",")]
    for name in ("TWILIO_EDGE", "TWILIO_REGION"):  # spawned children inherit os.environ
        os.environ.pop(name, None)
    os.environ.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")

    from tests.fakes import provider_wire as wire

    sid, token = wire.TWILIO_ACCOUNT_SID, wire.TWILIO_AUTH_TOKEN
    url = fresh_database(DATABASE)
    log(f"dispatch: database {url} migrated; {members} members, {messages} messages per run")
    seed_members(url, members)

    rows: list[Row] = []
    with fake_provider_process() as (fake_url, fake_pid):
        log(f"dispatch: fake provider at {fake_url}")
        for processes in counts:
            # Alternate bare and dispatch runs and keep the best of each: other load on the machine
            # only ever slows a run down, and it hits both sides alike.
            bare_runs, dispatch_runs = [], []
            for _ in range(rounds):
                _fake(fake_url, "/_fake/reset", "POST")
                bare_runs.append(_with_fake_cpu(fake_pid, messages, "bare", run_bare,
                                                fake_url, sid, token, processes, threads, messages))
                stats = _fake(fake_url, "/_fake/stats")
                if stats.get("sms") != messages:
                    raise BenchError(f"bare: the fake counted {stats.get('sms')} requests for {messages} sent")

                queue_messages(url, messages)
                _fake(fake_url, "/_fake/reset", "POST")
                dispatch_runs.append(_with_fake_cpu(fake_pid, messages, "dispatch", run_dispatch,
                                                    url, fake_url, sid, token, processes, threads, messages))
                verify(url, fake_url, messages, f"dispatch x{processes}")

            bare = max(r[0] for r in bare_runs)
            rate = max(r[0] for r in dispatch_runs)
            label = f"{processes} proc x {threads} thr"
            rows.append(Row("dispatch", f"msg/s, {label}", rate, baseline=bare, target=TARGET_RATIO))
            if processes == 2:
                rows.append(Row("dispatch", f"msg/s, {label}", rate, target=TARGET_RATE))
            # Load-independent: CPU per message in the dispatchers vs per request in the bare loop.
            rows.append(Row("dispatch", f"us CPU/msg, {label}", min(r[1] for r in dispatch_runs),
                            baseline=min(r[1] for r in bare_runs)))
            # The fake provider is one Python process (one core at most, under its GIL): when it is
            # near 100% of a core, it bounds both sides alike and the ratio says little.
            rows.append(Row("dispatch", f"fake provider us CPU/req, {label}", min(r[2] for r in dispatch_runs),
                            baseline=min(r[2] for r in bare_runs)))
    return rows


def _with_fake_cpu(fake_pid: int, messages: int, label: str, run_side, *args) -> tuple[float, float, float]:
    """run_side(*args) -> (rate, CPU us/message); adds the fake provider's CPU us per request,
    and logs the share of one core it was busy."""
    before = cpu_seconds(fake_pid)
    rate, cpu = run_side(*args)
    used = cpu_seconds(fake_pid) - before
    log(f"{label}: the fake provider used {used / messages * 1e6:.0f} us CPU/request, "
        f"{used * rate / messages:.0%} of one core over the run")
    return rate, cpu, used / messages * 1e6
