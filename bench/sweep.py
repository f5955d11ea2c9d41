"""The daily sweep over many members on PostgreSQL, next to the bare set-based SQL that expires
the same lots, in one run, with the peak RSS of the process doing the work.

Data (bench.dataset: generated in SQL with generate_series, one database per size, then cloned with
CREATE DATABASE ... TEMPLATE so every measured part starts from identical rows): N members,
3 earn ledger entries + matching lots each, earned uniformly over the past 438 days, so with
the 365-day lot lifetime ~1/6 of the lots are past expiry on the sweep date (a catch-up sweep
that debits ~40% of the members). Tiers are set from lifetime points, so members whose
points fell out of the qualifying window are downgraded by the sweep (points per entry are skewed:
~1/3 of the members end above Bronze, and ~1/5 of those move down). 2% of the members have
email consent (their expiry warnings are rendered and queued); the rest get `suppressed` rows.

Measured per size, each part in a fresh spawned process on its own fresh clone (peak RSS = that
process's ru_maxrss), bare and ours alternately, best of BENCH_SWEEP_REPEATS (the server's
checkpoints and write-back make single runs noisy at 1M):
  bare   one transaction: INSERT the per-member debits (GROUP BY member_id), UPDATE the lots.
  ours   engage.services.sweep.expire_points + reevaluate_tiers (checked: the same debits and open
         points as bare, and the tier changes a hand-written query expects).
  full   jobs.run(app, JOBS["sweep"], day, now) on the untouched original: ours plus the expiry
         warnings and reminders (info; warnings/s = warnings / (job - ours)).

Targets: ours <= 2x bare (seconds); peak RSS of ours flat as members grow (largest size within
1.5x of the smallest).

Settings (environment): BENCH_SWEEP_MEMBERS ("100000,1000000"); BENCH_SWEEP_REPEATS (2);
BENCH_SWEEP_FULL: sizes to run the full job at (default the smallest: at ~1,200 warnings/s,
measured 2026-12-04, a catch-up day at 1M, ~180k warnings, adds ~2.5 minutes), "all" or "none".
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
from datetime import date, datetime, timedelta, timezone
from datetime import time as clock_time
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bench import BenchError, Row, dataset
from bench.dataset import checkpoint, clone, drop, dsn, raw, url_of
from bench.harness import fresh_database, log

TARGET_RATIO = 2.0
TARGET_RSS_GROWTH = 1.5
DATABASE = "engage_bench_sweep"
LOTS_PER_MEMBER = 3
SPREAD_DAYS = 438  # with the 365-day lifetime, 73/438 = 1/6 of the lots are past expiry
LIFETIME_DAYS = 365
AS_OF = date(2026, 6, 1)
ZONE = ZoneInfo("Europe/Amsterdam")  # the default program's time zone
CUTOFF = datetime.combine(AS_OF, clock_time(0), tzinfo=ZONE)
NOW = datetime.combine(AS_OF, clock_time(0, 5), tzinfo=ZONE).astimezone(timezone.utc)  # sweep_time 00:05
CHILD_TIMEOUT = 1800


def _sizes() -> list[int]:
    text = os.environ.get("BENCH_SWEEP_MEMBERS") or "100000,1000000"
    return sorted(int(n.replace("_", "")) for n in text.split(","))


def _full_sizes(sizes: list[int]) -> set[int]:
    text = (os.environ.get("BENCH_SWEEP_FULL") or str(sizes[0])).strip().lower()
    if text == "all":
        return set(sizes)
    if text == "none":
        return set()
    return {int(n.replace("_", "")) for n in text.split(",")}


# --- data ------------------------------------------------------------------------------------

def generate(url: str, members: int) -> None:
    """Members, their earn entries and lots (bench.dataset, no messages); then VACUUM ANALYZE."""
    dataset.generate(url, dataset.Spec(members=members, as_of=CUTOFF, lots_per_member=LOTS_PER_MEMBER,
                                       spread_days=SPREAD_DAYS, lifetime_days=LIFETIME_DAYS))


def census(url: str) -> dict[str, int]:
    with raw(url) as connection:
        row = connection.execute(
            "SELECT count(*) FILTER (WHERE remaining > 0 AND expires_at < %(c)s), "
            "count(DISTINCT member_id) FILTER (WHERE remaining > 0 AND expires_at < %(c)s), count(*) FROM lots",
            {"c": CUTOFF}).fetchone()
        tiers = dict(connection.execute("SELECT tier_id, count(*) FROM members GROUP BY tier_id").fetchall())
        # The default tiers (Silver 500, Gold 1500) over the 365-day qualifying window, by hand.
        moves = connection.execute(
            "SELECT count(*) FROM members m JOIN (SELECT member_id, sum(points) AS q FROM ledger_entries "
            "WHERE kind = 'earn' AND occurred_at >= %(since)s GROUP BY member_id) e ON e.member_id = m.id "
            "WHERE m.tier_id > 1 AND m.tier_id <> CASE WHEN q >= 1500 THEN 3 WHEN q >= 500 THEN 2 ELSE 1 END",
            {"since": CUTOFF - timedelta(days=365)}).fetchone()[0]
        moves += connection.execute(  # above Bronze with nothing earned in the window at all
            "SELECT count(*) FROM members m WHERE m.tier_id > 1 AND NOT EXISTS (SELECT 1 FROM ledger_entries l "
            "WHERE l.member_id = m.id AND l.kind = 'earn' AND l.occurred_at >= %(since)s)",
            {"since": CUTOFF - timedelta(days=365)}).fetchone()[0]
    return {"expiring_lots": row[0], "expiring_members": row[1], "lots": row[2],
            "silver": tiers.get(2, 0), "gold": tiers.get(3, 0), "tier_moves": moves}


# --- the measured parts, each in a fresh process ---------------------------------------------

def _rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


BARE_DEBITS = """
INSERT INTO ledger_entries (member_id, points, kind, reason, source, occurred_at, created_at)
SELECT member_id, -SUM(remaining), 'expire', %(reason)s, %(source)s, %(cutoff)s, %(now)s
FROM lots WHERE remaining > 0 AND expires_at < %(cutoff)s
GROUP BY member_id
"""
BARE_LOTS = "UPDATE lots SET remaining = 0 WHERE remaining > 0 AND expires_at < %(cutoff)s"


def _bare(url: str) -> dict:
    import psycopg

    params = {"cutoff": CUTOFF, "now": NOW, "source": f"expiry:{AS_OF.isoformat()}",
              "reason": f"points expired (sweep of {AS_OF.isoformat()})"}
    before = _rss_kib()
    with psycopg.connect(dsn(url)) as connection:
        began = time.perf_counter()
        with connection.transaction():
            debits = connection.execute(BARE_DEBITS, params).rowcount
            lots = connection.execute(BARE_LOTS, params).rowcount
        seconds = time.perf_counter() - began
    return {"seconds": seconds, "debits": debits, "lots": lots, "rss_start": before, "rss_peak": _rss_kib()}


def _ours(url: str) -> dict:
    from engage.db import Database
    from engage.services import sweep

    database = Database(url, poolclass=sa.pool.NullPool)
    try:
        with database.session() as session:  # load the program once: import/config is not sweep work
            sweep.load(session)
            session.rollback()
        before = _rss_kib()
        with database.session() as session:
            began = time.perf_counter()
            hit = sweep.expire_points(session, AS_OF, NOW)
            expired_at = time.perf_counter()
            changes = sweep.reevaluate_tiers(session, AS_OF, NOW)
            done = time.perf_counter()
    finally:
        database.dispose()
    return {"seconds": done - began, "expire_seconds": expired_at - began, "tiers_seconds": done - expired_at,
            "debits": hit, "tier_changes": len(changes), "rss_start": before, "rss_peak": _rss_kib()}


def _full(url: str) -> dict:
    from engage import create_app, jobs
    from engage.config import Config

    app = create_app(Config(database_url=url))
    before = _rss_kib()
    began = time.perf_counter()
    summary = jobs.run(app, jobs.JOBS["sweep"], AS_OF, NOW)
    seconds = time.perf_counter() - began
    app.extensions["engage.db"].dispose()
    return {"seconds": seconds, "summary": summary, "rss_start": before, "rss_peak": _rss_kib()}


def _child_main(target, url, results):
    try:
        results.put(("ok", target(url)))
    except BaseException as error:  # noqa: BLE001 - reported to the parent
        import traceback

        results.put(("error", f"{error!r}\n{traceback.format_exc()}"))


def in_child(target, url: str, label: str) -> dict:
    """Run `target(url)` in a fresh spawned process; its result dict (with that process's RSS)."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=_child_main, args=(target, url, results), daemon=True, name=f"bench-sweep-{label}")
    child.start()
    try:
        status, value = results.get(timeout=CHILD_TIMEOUT)
        child.join(timeout=30)
    except Exception as error:  # queue.Empty
        raise BenchError(f"sweep {label}: no result within {CHILD_TIMEOUT} s ({error!r})") from None
    finally:
        if child.is_alive():
            child.terminate()
            child.join(timeout=5)
    if status != "ok":
        raise BenchError(f"sweep {label} failed: {value}")
    return value


def _ledger_state(url: str) -> tuple[int, int, int]:
    """(expire entries, their point sum, open points left) - the same after bare and ours."""
    with raw(url) as connection:
        entries, points = connection.execute(
            "SELECT count(*), COALESCE(sum(points), 0) FROM ledger_entries WHERE kind = 'expire'").fetchone()
        left = connection.execute("SELECT COALESCE(sum(remaining), 0) FROM lots").fetchone()[0]
    return entries, int(points), int(left)


def _mib(kib: int) -> float:
    return kib / 1024


# --- the bench ---------------------------------------------------------------------------

def _repeats() -> int:
    return max(1, int(os.environ.get("BENCH_SWEEP_REPEATS") or 2))


def measure(members: int, full: bool) -> dict:
    """Generate `members`; bare and ours alternately, each on its own clone, best of the repeats."""
    url = fresh_database(DATABASE)
    generate(url, members)
    facts = census(url)
    log(f"sweep {members}: {facts['lots']} lots, {facts['expiring_lots']} past expiry on {AS_OF} "
        f"({facts['expiring_lots'] / facts['lots']:.1%}) over {facts['expiring_members']} members; "
        f"{facts['silver']} silver, {facts['gold']} gold, {facts['tier_moves']} due to move")
    result: dict = {"members": members, **facts, "bare": [], "ours": []}
    scratch = f"{DATABASE}_run"
    try:
        for attempt in range(1, _repeats() + 1):
            bare = in_child(_bare, clone(DATABASE, scratch), "bare")
            bare_state = _ledger_state(url_of(scratch))
            log(f"sweep {members} #{attempt}: bare SQL {bare['seconds']:.2f} s ({bare['debits']} debits, "
                f"{bare['lots']} lots), peak RSS {_mib(bare['rss_peak']):.0f} MiB")

            ours = in_child(_ours, clone(DATABASE, scratch), "ours")
            ours_state = _ledger_state(url_of(scratch))
            log(f"sweep {members} #{attempt}: expire_points {ours['expire_seconds']:.2f} s + reevaluate_tiers "
                f"{ours['tiers_seconds']:.2f} s = {ours['seconds']:.2f} s ({ours['debits']} debits, "
                f"{ours['tier_changes']} tier changes), peak RSS {_mib(ours['rss_peak']):.0f} MiB "
                f"(before the sweep {_mib(ours['rss_start']):.0f} MiB)")
            if bare_state != ours_state or bare["debits"] != ours["debits"]:
                raise BenchError(f"sweep {members}: bare and ours disagree: (expire entries, points, open points) "
                                 f"{bare_state} vs {ours_state}")
            if ours["debits"] != facts["expiring_members"] or ours["tier_changes"] != facts["tier_moves"]:
                raise BenchError(f"sweep {members}: {ours['debits']} debits for {facts['expiring_members']} "
                                 f"members, {ours['tier_changes']} tier changes for {facts['tier_moves']} due")
            result["bare"].append(bare)
            result["ours"].append(ours)
    finally:
        drop(scratch)
    if full:
        # The original is used last: it is the full job's untouched copy.
        checkpoint(url)
        result["full"] = run_full(url, members, min(r["seconds"] for r in result["ours"]))
    return result


def run_full(url: str, members: int, ledger_seconds: float) -> dict:
    full = in_child(_full, url, "full")
    with raw(url) as connection:
        statuses = dict(connection.execute(
            "SELECT status, count(*) FROM messages WHERE flow = 'expiry_warning' GROUP BY status").fetchall())
    summary = full["summary"]
    warnings = summary.get("expiry_warnings", 0)
    # The flows' share: the job less the ledger work measured on identical data just before.
    flows_seconds = max(full["seconds"] - ledger_seconds, 1e-9)
    full.update(warnings=warnings, statuses=statuses, flows_seconds=flows_seconds)
    log(f"sweep {members}: full job {full['seconds']:.1f} s {summary}; warnings by status {statuses}; "
        f"warnings part ~{flows_seconds:.1f} s = {warnings / flows_seconds:.0f} warnings/s; "
        f"peak RSS {_mib(full['rss_peak']):.0f} MiB")
    return full


def _label(members: int) -> str:
    return f"{members // 1000}k" if members < 1_000_000 else f"{members / 1e6:g}M"


def run() -> list[Row]:
    sizes = _sizes()
    full_sizes = _full_sizes(sizes)
    results = [measure(members, members in full_sizes) for members in sizes]
    rows: list[Row] = []
    for r in results:
        n = _label(r["members"])
        bare = min(x["seconds"] for x in r["bare"])
        best = min(r["ours"], key=lambda x: x["seconds"])
        rows.append(Row("sweep", f"s, expire+tiers vs bare SQL, {n}", best["seconds"], baseline=bare,
                        target=TARGET_RATIO, higher_is_better=False, value_format=".2f"))
        rows.append(Row("sweep", f"s, expire_points alone, {n}", min(x["expire_seconds"] for x in r["ours"]),
                        baseline=bare, value_format=".2f"))
        rows.append(Row("sweep", f"s, reevaluate_tiers alone, {n}", min(x["tiers_seconds"] for x in r["ours"]),
                        value_format=".2f"))
        rows.append(Row("sweep", f"peak RSS MiB, expire+tiers, {n}", _mib(max(x["rss_peak"] for x in r["ours"]))))
        if "full" in r:
            full = r["full"]
            rows.append(Row("sweep", f"s, full sweep job, {n}", full["seconds"], value_format=".1f"))
            rows.append(Row("sweep", f"warnings/s, full job, {n} ({full['warnings']} queued)",
                            full["warnings"] / full["flows_seconds"]))
            rows.append(Row("sweep", f"peak RSS MiB, full job, {n}", _mib(full["rss_peak"])))
    if len(results) > 1:
        small, large = results[0], results[-1]
        tag = f"{_label(large['members'])} vs {_label(small['members'])}"
        rows.append(Row("sweep", f"peak RSS growth, expire+tiers, {tag}",
                        _mib(max(x["rss_peak"] for x in large["ours"])),
                        baseline=_mib(max(x["rss_peak"] for x in small["ours"])), target=TARGET_RSS_GROWTH,
                        higher_is_better=False))
        fulls = [r for r in results if "full" in r]
        if len(fulls) > 1:
            rows.append(Row("sweep", f"peak RSS growth, full job, {_label(fulls[-1]['members'])} vs "
                            f"{_label(fulls[0]['members'])}", _mib(fulls[-1]["full"]["rss_peak"]),
                            baseline=_mib(fulls[0]["full"]["rss_peak"]), target=TARGET_RSS_GROWTH,
                            higher_is_better=False))
    return rows
