"""The schedules: which jobs, when, in which zone, and that only one process fires them."""

from __future__ import annotations

import threading
import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MODIFIED, EVENT_JOB_SUBMITTED
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from engage import create_app
from engage.config import Config
from engage.leadership import AdvisoryLock, FileLock, Lock, SoleProcess, lock_for
from engage.models import JobRun, Program
from engage.scheduler import SWEEP_GRACE, Schedules, describe
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


class JobEvents:
    """The scheduler's own job events (APScheduler listeners), to wait on instead of sleeping."""

    def __init__(self, schedules: Schedules):
        self.seen: list[tuple[int, str]] = []
        self._changed = threading.Condition()
        schedules.scheduler.add_listener(
            self._record, EVENT_JOB_MODIFIED | EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED)

    def _record(self, event) -> None:
        with self._changed:
            self.seen.append((event.code, event.job_id))
            self._changed.notify_all()

    def wait_for(self, code: int, job_id: str, seconds: float = 10.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: (code, job_id) in self.seen, seconds)

    def of(self, job_id: str) -> list[int]:
        with self._changed:
            return [code for code, job in self.seen if job == job_id]


class WatchedLock:
    """A scheduler lock that records what each call answered, so a test can wait until the leader
    loop has asked (and been refused) instead of sleeping and hoping it did."""

    def __init__(self, lock: Lock):
        self.lock = lock
        self.answers: list[tuple[str, bool]] = []
        self._changed = threading.Condition()

    def acquire(self) -> bool:
        return self._note("acquire", self.lock.acquire())

    def alive(self) -> bool:
        return self._note("alive", self.lock.alive())

    def release(self) -> None:
        self.lock.release()

    def _note(self, call: str, answer: bool) -> bool:
        with self._changed:
            self.answers.append((call, answer))
            self._changed.notify_all()
        return answer

    def answered(self, call: str, answer: bool, seconds: float = 10.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: (call, answer) in self.answers, seconds)

    def calls(self) -> int:
        with self._changed:
            return len(self.answers)

    def next_answers(self, after: int, count: int, seconds: float = 10.0) -> list[tuple[str, bool]]:
        """Answers `after`+1 … `after`+`count`, once given (fewer if the loop stopped asking)."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.answers) >= after + count, seconds)
            return self.answers[after:after + count]


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
    assert set(jobs) == {"sweep", "flows", "outbox", "insights"}
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
    schedules = Schedules(app, SoleProcess(), retry_seconds=0.05)
    events = JobEvents(schedules)
    started(schedules)
    assert schedules.scheduler.get_job("sweep").trigger.timezone == AMSTERDAM
    assert schedules.leading.wait(5)
    with app.extensions["engage.db"].session() as session, session.begin():
        session.get(Program, 1).timezone = "America/New_York"
    assert events.wait_for(EVENT_JOB_MODIFIED, "sweep")
    assert schedules.scheduler.get_job("sweep").trigger.timezone == ZoneInfo("America/New_York")


def test_a_restarted_worker_runs_the_missed_sweep_once(database_url, started):
    ten_past = datetime(2026, 3, 2, 0, 10, tzinfo=AMSTERDAM)
    first = Schedules(make_app(database_url, FakeClock(ten_past)), SoleProcess(), retry_seconds=0.05)
    first_events = JobEvents(first)
    started(first)
    database = first.app.extensions["engage.db"]

    def finished():
        with database.session() as session:
            return session.scalars(sa.select(JobRun).where(JobRun.finished_at.is_not(None))).all()

    assert first_events.wait_for(EVENT_JOB_EXECUTED, "sweep")
    assert first_events.of("sweep") == [EVENT_JOB_MODIFIED, EVENT_JOB_SUBMITTED, EVENT_JOB_EXECUTED]
    [run] = finished()
    assert run.name == "sweep" and run.as_of == date(2026, 3, 2)
    first.stop()
    second = Schedules(make_app(database_url, FakeClock(ten_past)), SoleProcess(), retry_seconds=0.05)
    second_events = JobEvents(second)
    started(second)
    # The catch-up check runs before `leading` is set, and asking for the sweep is modify_job,
    # whose event is dispatched in that same call: once leading, the decision is in `seen`.
    assert second.leading.wait(5)
    assert second_events.of("sweep") == []  # not asked to run again (nor run)
    assert len(finished()) == 1 and finished()[0].started_at == ten_past


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
    lock = WatchedLock(AdvisoryLock(postgres_only_url))
    second = started(Schedules(make_app(postgres_only_url), lock, retry_seconds=0.05))
    assert lock.next_answers(0, 10) == [("acquire", False)] * 10  # ten ticks, each refused
    assert not second.leading.is_set()
    first.stop()
    assert second.leading.wait(5) and not first.leading.is_set()


@pytest.mark.postgres_only
def test_a_dead_leaders_lock_passes_on(postgres_only_url, started):
    first_lock = WatchedLock(AdvisoryLock(postgres_only_url))
    first = started(Schedules(make_app(postgres_only_url), first_lock, retry_seconds=0.05))
    assert first.leading.wait(5)
    second = started(Schedules(make_app(postgres_only_url), WatchedLock(AdvisoryLock(postgres_only_url)),
                               retry_seconds=0.05))
    pid = first_lock.lock.connection.scalar(sa.text("SELECT pg_backend_pid()"))
    admin = sa.create_engine(postgres_only_url, poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        holders = lambda: connection.scalar(sa.text(  # noqa: E731  (pg_locks spans every database)
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"))
        # pg_terminate_backend only signals: first see the leader notice that its lock is gone.
        assert first_lock.answered("alive", False)
        # Whichever process wins the lock back, exactly one holds it and fires the schedules.
        assert wait_for(lambda: first.leading.is_set() != second.leading.is_set() and holders() == 1)
        leader, follower = (first, second) if first.leading.is_set() else (second, first)
        # ... and keeps it: two more ticks of each loop, the leader's lock alive, the other's refused.
        assert leader.lock.next_answers(leader.lock.calls(), 2) == [("alive", True)] * 2
        assert follower.lock.next_answers(follower.lock.calls(), 2) == [("acquire", False)] * 2
        assert leader.leading.is_set() and not follower.leading.is_set() and holders() == 1
    admin.dispose()
