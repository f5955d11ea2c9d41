"""The schedules: which jobs, when, in which zone, and that only one process fires them."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from engage import create_app
from engage.config import Config, ConfigError
from engage.leadership import AdvisoryLock, FileLock, SoleProcess, lock_for
from engage.models import JobRun, Program
from engage.scheduler import SWEEP_GRACE, Schedules, describe, latest_sweep_day, missed_sweep, sweep_at
from tests.support.clock import FakeClock

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# 21:00 in Amsterdam: long after the 00:05 sweep's grace, so starting schedules runs nothing.
EVENING = datetime(2026, 3, 2, 20, 0, tzinfo=timezone.utc)


def wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def make_app(url: str, clock=None, **settings):
    config = Config(database_url=url, public_url="https://engage.example.com", testing=True, **settings)
    return create_app(config, clock=clock or FakeClock(EVENING))


@pytest.fixture
def started():
    running: list[Schedules] = []

    def start(schedules: Schedules) -> Schedules:
        running.append(schedules)
        schedules.start()
        return schedules

    yield start
    for schedules in running:
        schedules.stop()
        schedules.app.extensions["engage.db"].dispose()


def test_jobs_triggers_and_the_programs_time_zone(database_url):
    app = make_app(database_url, sweep_time="02:30", flows_interval_seconds=7.0)
    jobs = {job.id: job for job in Schedules(app, SoleProcess()).scheduler.get_jobs()}
    assert set(jobs) == {"sweep", "flows", "outbox"}
    sweep = jobs["sweep"]
    assert isinstance(sweep.trigger, CronTrigger) and sweep.trigger.timezone == AMSTERDAM
    fields = {field.name: str(field) for field in sweep.trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("2", "30")
    assert sweep.misfire_grace_time == SWEEP_GRACE.total_seconds()
    assert isinstance(jobs["flows"].trigger, IntervalTrigger)
    assert jobs["flows"].trigger.interval == timedelta(seconds=7)
    for job in jobs.values():
        assert job.coalesce is True and job.max_instances == 1
    assert describe(app)["sweep"] == "daily 02:30 Europe/Amsterdam"
    app.extensions["engage.db"].dispose()


def test_sweep_follows_the_program_zone_not_the_setting(database_url, started):
    app = make_app(database_url, timezone="Asia/Tokyo")
    schedules = started(Schedules(app, SoleProcess(), retry_seconds=0.05))
    assert schedules.scheduler.get_job("sweep").trigger.timezone == AMSTERDAM
    assert schedules.leading.wait(5)
    with app.extensions["engage.db"].session() as session, session.begin():
        session.get(Program, 1).timezone = "America/New_York"
    new_york = ZoneInfo("America/New_York")
    assert wait_for(lambda: schedules.scheduler.get_job("sweep").trigger.timezone == new_york)


def test_a_restarted_worker_runs_the_missed_sweep_once(database_url, started):
    ten_past = datetime(2026, 3, 2, 0, 10, tzinfo=AMSTERDAM)
    first = started(Schedules(make_app(database_url, FakeClock(ten_past)), SoleProcess(), retry_seconds=0.05))
    database = first.app.extensions["engage.db"]

    def finished():
        with database.session() as session:
            return session.scalars(sa.select(JobRun).where(JobRun.finished_at.is_not(None))).all()

    assert wait_for(lambda: len(finished()) == 1)
    assert finished()[0].name == "sweep" and finished()[0].as_of == date(2026, 3, 2)
    first.stop()
    second = started(Schedules(make_app(database_url, FakeClock(ten_past)), SoleProcess(), retry_seconds=0.05))
    assert second.leading.wait(5)
    time.sleep(0.3)
    assert len(finished()) == 1 and finished()[0].started_at == ten_past  # not run again


def test_sweep_day_and_grace():
    at = sweep_at(Config(database_url="sqlite://", sweep_time="00:05"))
    local = lambda *args: datetime(*args, tzinfo=AMSTERDAM)  # noqa: E731
    assert latest_sweep_day(local(2026, 3, 2, 0, 4), AMSTERDAM, at) == date(2026, 3, 1)
    assert latest_sweep_day(local(2026, 3, 2, 0, 5), AMSTERDAM, at) == date(2026, 3, 2)
    assert missed_sweep(local(2026, 3, 2, 0, 10), AMSTERDAM, at) == date(2026, 3, 2)
    assert missed_sweep(local(2026, 3, 2, 0, 4), AMSTERDAM, at) is None  # yesterday's grace is over
    assert missed_sweep(local(2026, 3, 2, 21, 0), AMSTERDAM, at) is None


@pytest.mark.parametrize("name,value", [("ENGAGE_DISPATCHER_THREADS", "0"), ("ENGAGE_DISPATCHER_THREADS", "two"),
                                        ("ENGAGE_FLOWS_INTERVAL_SECONDS", "0.1")])
def test_worker_settings_are_validated(name, value):
    with pytest.raises(ConfigError, match=name):
        Config.from_env({name: value, "ENGAGE_DATABASE_URL": "sqlite://"})


def test_file_lock_admits_one_holder(tmp_path):
    first, second = FileLock(tmp_path / "lock"), FileLock(tmp_path / "lock")
    assert first.acquire() and not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


def test_sqlite_schedules_use_a_file_lock_beside_the_database(tmp_path):
    app = make_app(f"sqlite:///{tmp_path}/engage.sqlite")
    lock = lock_for(app.extensions["engage.db"])
    assert isinstance(lock, FileLock) and lock.path == tmp_path / "engage.sqlite.scheduler-lock"
    app.extensions["engage.db"].dispose()


@pytest.mark.postgres_only
def test_advisory_lock_admits_one_holder(postgres_only_url):
    first, second = AdvisoryLock(postgres_only_url), AdvisoryLock(postgres_only_url)
    try:
        assert first.acquire() and not second.acquire()
        assert first.alive()
        first.release()
        assert second.acquire()
    finally:
        first.release()
        second.release()


@pytest.mark.postgres_only
def test_only_one_of_two_schedulers_fires_and_the_second_takes_over(postgres_only_url, started):
    first = started(Schedules(make_app(postgres_only_url), AdvisoryLock(postgres_only_url), retry_seconds=0.05))
    assert first.leading.wait(5)
    second = started(Schedules(make_app(postgres_only_url), AdvisoryLock(postgres_only_url), retry_seconds=0.05))
    time.sleep(0.5)  # ten retries
    assert not second.leading.is_set()
    first.stop()
    assert second.leading.wait(5) and not first.leading.is_set()


@pytest.mark.postgres_only
def test_a_dead_leaders_lock_passes_on(postgres_only_url, started):
    first = started(Schedules(make_app(postgres_only_url), AdvisoryLock(postgres_only_url), retry_seconds=0.05))
    assert first.leading.wait(5)
    second = started(Schedules(make_app(postgres_only_url), AdvisoryLock(postgres_only_url), retry_seconds=0.05))
    pid = first.lock.connection.scalar(sa.text("SELECT pg_backend_pid()"))
    admin = sa.create_engine(postgres_only_url, poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        holders = lambda: connection.scalar(sa.text(  # noqa: E731
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"))
        # Whichever process wins the lock back, exactly one holds it and fires the schedules.
        assert wait_for(lambda: first.leading.is_set() != second.leading.is_set() and holders() == 1)
        time.sleep(0.3)
        assert first.leading.is_set() != second.leading.is_set() and holders() == 1
    admin.dispose()
