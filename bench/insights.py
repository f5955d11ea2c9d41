"""The insight figures at scale on PostgreSQL: 1M members, 3M ledger entries, lots and purchases,
10M messages, referrals, redemptions, feedback and opt-outs (bench.dataset.scale, the data the
console bench uses too).

Measured:
  day     the rollup of one day (engage.services.insight_rollups.compute_day: its queries, the
          tally in Python, the writes, one transaction) against the bare SQL that computes the
          same figures (the same SELECTs, rows fetched, in one transaction, nothing else),
          alternately on BENCH_INSIGHTS_DAYS (7) days of the data's last month; best of each.
          Target: ours <= 2x bare.
  api     GET /api/v1/insights for the last 365 days (and its previous year), server time: the
          WSGI call with its body read (a middleware around the app, in this process: routing,
          auth, the rollup reads and the JSON, no HTTP client), median of BENCH_INSIGHTS_REPEATS
          (9) after one warm-up. Target: <= 300 ms.
  full    the first roll-up of the whole history (every day since the first enrolment), info.

The data is built once into a template database shared with the console bench
(bench.dataset.built; the rollups of every day are added to it once, marked by a table
`bench_insights_ready`) and cloned for the run; its members, lots and messages are counted on the
clone and printed.

Settings (environment): BENCH_INSIGHTS_MEMBERS (1000000), BENCH_INSIGHTS_MESSAGES (10000000),
BENCH_INSIGHTS_DAYS (7), BENCH_INSIGHTS_REPEATS (9), BENCH_DATASET_REBUILD=1.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa

from bench import Row, dataset
from bench.harness import log

TARGET_RATIO = 2.0
TARGET_MS = 300.0
AS_OF = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
RUN_DATABASE = "engage_bench_insights_run"

def _setting(name: str, default: int) -> int:
    return int((os.environ.get(name) or str(default)).replace("_", ""))


def spec() -> dataset.Spec:
    members = _setting("BENCH_INSIGHTS_MEMBERS", 1_000_000)
    messages = _setting("BENCH_INSIGHTS_MESSAGES", 10_000_000)
    return dataset.scale(members, messages, AS_OF)


def make_app(url: str):
    from engage import create_app
    from engage.config import Config

    return create_app(Config(database_url=url, public_url="https://bench.example.com", timezone="Europe/Amsterdam"),
                      clock=lambda: AS_OF)


def prepared(s: dataset.Spec) -> str:
    """The template with every day rolled up (done once per template, marked by a table)."""
    url = dataset.built(s)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            ready = connection.execute(sa.text("SELECT to_regclass('bench_insights_ready')")).scalar()
        if ready is None:
            _roll_up_history(url)
            with engine.begin() as connection:
                connection.execute(sa.text("CREATE TABLE bench_insights_ready (at timestamptz)"))
    finally:
        engine.dispose()
    return url


def _roll_up_history(url: str) -> float:
    from engage.services import insight_rollups

    app = make_app(url)
    began = time.monotonic()
    try:
        with app.extensions["engage.db"].session() as session:
            done = insight_rollups.roll_up(session, AS_OF.date() - timedelta(days=1), AS_OF)
    finally:
        app.extensions["engage.db"].dispose()
    seconds = time.monotonic() - began
    log(f"insights: rolled up {done['days']} days in {seconds:.1f} s ({seconds / max(done['days'], 1):.2f} s a day)")
    return seconds


def bare_day(session, day: date) -> None:
    """The day's figures by the same SQL, rows fetched, nothing tallied or written."""
    from engage.insights.periods import ACTIVE_DAYS, day_bounds, month_of
    from engage.store import insight_days as source
    from engage.store import transaction
    from engage.store.program import load

    with transaction(session):
        zone = load(session).zone
        start, end = day_bounds(day, zone)
        dialect = session.get_bind().dialect.name
        times = {"start": start, "end": end}
        session.execute(source.MEMBERS, times).all()
        session.execute(source.POINTS, times).all()
        session.execute(source.BUYERS, {**times, "month": day_bounds(month_of(day), zone)[0]}).all()
        session.execute(source.ACTIVE, {"since": day_bounds(day - timedelta(days=ACTIVE_DAYS - 1), zone)[0],
                                        "end": end}).all()
        session.execute(source.FEEDBACK, times).all()
        session.execute(source._revenue(dialect), times).all()
        session.execute(source._flows(dialect), times).all()


def _day_rows(url: str) -> list[Row]:
    from engage.services import insight_rollups

    app = make_app(url)
    days = [AS_OF.date() - timedelta(days=3 + 4 * n) for n in range(_setting("BENCH_INSIGHTS_DAYS", 7))]
    bare, ours = [], []
    try:
        with app.extensions["engage.db"].session() as session:
            for day in days:  # alternately, so load on the shared machine hits both sides alike
                began = time.perf_counter()
                bare_day(session, day)
                bare.append(time.perf_counter() - began)
                began = time.perf_counter()
                insight_rollups.compute_day(session, day, AS_OF, snapshot=False)
                ours.append(time.perf_counter() - began)
    finally:
        app.extensions["engage.db"].dispose()
    log("insights: one day, bare / ours ms: " + ", ".join(f"{b * 1000:.0f}/{o * 1000:.0f}" for b, o in zip(bare, ours)))
    return [Row("insights", "rollup of one day (ms, best)", min(ours) * 1000, baseline=min(bare) * 1000,
                target=TARGET_RATIO, higher_is_better=False, value_format=".1f"),
            Row("insights", "rollup of one day (ms, median)", statistics.median(ours) * 1000,
                baseline=statistics.median(bare) * 1000, value_format=".1f")]


class Timed:
    """WSGI middleware: the seconds of the last call, body included."""

    def __init__(self, app):
        self.app, self.seconds = app, 0.0

    def __call__(self, environ, start_response):
        began = time.perf_counter()
        body = b"".join(self.app(environ, start_response))
        self.seconds = time.perf_counter() - began
        return [body]


def _api_rows(url: str) -> list[Row]:
    from engage.services import keys

    app = make_app(url)
    timed = Timed(app.wsgi_app)
    app.wsgi_app = timed
    last = AS_OF.date() - timedelta(days=1)
    path = f"/api/v1/insights?from={(last - timedelta(days=364)).isoformat()}&to={last.isoformat()}"
    try:
        with app.app_context():
            key = keys.create(app.extensions["engage.db"].session(), "marketer", "bench", AS_OF)
        client = app.test_client()
        headers = {"Authorization": f"Bearer {key}"}
        seconds = []
        for _ in range(1 + _setting("BENCH_INSIGHTS_REPEATS", 9)):
            response = client.get(path, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.status_code} {response.get_data(as_text=True)[:300]}")
            seconds.append(timed.seconds)
        body = response.get_json()
        log(f"insights: a year: {body['headlines'][0]} … {len(body['daily'])} days, "
            f"{len(body['retention']['cohorts'])} cohorts, cold {seconds[0] * 1000:.0f} ms")
    finally:
        app.extensions["engage.db"].dispose()
    warm = seconds[1:]
    return [Row("insights", "GET /insights, 365 days (ms, median)", statistics.median(warm) * 1000,
                target=TARGET_MS, higher_is_better=False, value_format=".1f"),
            Row("insights", "GET /insights, 365 days (ms, max)", max(warm) * 1000, value_format=".1f")]


def run() -> list[Row]:
    s = spec()
    template = prepared(s)
    url = dataset.clone(s.database, RUN_DATABASE)
    try:
        counted = dataset.counts(url)
        log("insights: data (counted) " + ", ".join(f"{n} {table}" for table, n in counted.items()))
        rows = _day_rows(url) + _api_rows(url)
    finally:
        dataset.drop(RUN_DATABASE)
    log(f"insights: template {template}")
    return [Row("insights", f"data: {table} (counted)", n) for table, n in counted.items()] + rows
