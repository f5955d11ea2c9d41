"""APScheduler wiring for `engage worker` and `engage serve` (never for `create_app`).

Only one process fires the schedules, however many workers run: the one holding the scheduler
lock (see engage.leadership). The others keep their schedules paused, retry every few seconds and
take over when the holder stops or dies. Sending is not exclusive: every process runs dispatcher
threads, because row claims (SKIP LOCKED) already make sharing the outbox safe.

The job store is in memory: each process rebuilds the same fixed jobs at start. So a sweep missed
while no worker ran is caught up by the process that becomes leader, within SWEEP_GRACE.
"""

from __future__ import annotations

import logging
import threading
import time as timer
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from engage import jobs
from engage.errors import NotFound
from engage.leadership import Lock
from engage.messaging.zones import parse_hhmm

log = logging.getLogger(__name__)

# A worker restarted at 00:10 (or in the morning after a night down) still runs the 00:05 sweep.
SWEEP_GRACE = timedelta(hours=12)
LOCK_RETRY_SECONDS = 5.0
# The dispatcher threads send continuously; this scheduled pass settles sends stuck in `sending`.
OUTBOX_SECONDS = 60
# Today's insight figures so far; the sweep settles each finished day.
INSIGHTS_SECONDS = 3600


class JobStopped(Exception):
    """The process is shutting down; a job stops at its next progress report."""


def sweep_at(config) -> time:
    return parse_hhmm(config.sweep_time)


def latest_sweep_day(now: datetime, zone: ZoneInfo, at: time) -> date:
    """The date of the most recent scheduled sweep at or before `now`."""
    local = now.astimezone(zone)
    return local.date() if local.time() >= at else local.date() - timedelta(days=1)


def missed_sweep(now: datetime, zone: ZoneInfo, at: time) -> date | None:
    """The day whose sweep time has passed within the grace period (it may already be done)."""
    day = latest_sweep_day(now, zone, at)
    return day if now - datetime.combine(day, at, tzinfo=zone) <= SWEEP_GRACE else None


def read_zone(app: Flask) -> ZoneInfo | None:
    """The program's time zone, or None while the program row is missing or unreadable."""
    from engage.store.program import get_program

    try:
        with app.extensions["engage.db"].session() as session:
            return ZoneInfo(get_program(session).timezone)
    except (NotFound, SQLAlchemyError) as error:
        log.warning("program time zone unavailable (%s)", str(error).splitlines()[0])
        return None


def program_zone(app: Flask) -> ZoneInfo:
    """The program's zone; ENGAGE_TIMEZONE until the program row exists."""
    return read_zone(app) or ZoneInfo(app.extensions["engage.config"].timezone)


def describe(app: Flask, zone: ZoneInfo | None = None) -> dict[str, str]:
    """When each job runs, for `engage jobs list`."""
    config = app.extensions["engage.config"]
    zone = zone or program_zone(app)
    return {
        "sweep": f"daily {config.sweep_time} {zone.key}",
        "flows": f"every {config.flows_interval_seconds:g}s",
        "outbox": f"{config.dispatcher_threads} threads per process + every {OUTBOX_SECONDS}s",
        "insights": f"every {INSIGHTS_SECONDS // 60} minutes, and with the sweep",
    }


class Schedules:
    """The jobs on a BackgroundScheduler that fires only while this process holds the lock."""

    def __init__(self, app: Flask, lock: Lock, *, retry_seconds: float = LOCK_RETRY_SECONDS):
        self.app, self.lock, self.retry_seconds = app, lock, retry_seconds
        self.config, self.clock = app.extensions["engage.config"], app.extensions["engage.clock"]
        self.zone = program_zone(app)
        self.leading = threading.Event()
        self.stopping = threading.Event()
        self.scheduler = BackgroundScheduler(timezone=self.zone)
        self._leader = threading.Thread(target=self._lead, name="scheduler-leader", daemon=True)
        self._add_jobs()

    def _add_jobs(self) -> None:
        def add(name: str, trigger, grace: float) -> None:
            self.scheduler.add_job(self.run_job, trigger, args=[name], id=name, name=name,
                                   replace_existing=True, coalesce=True, max_instances=1,
                                   misfire_grace_time=int(grace))

        add("sweep", self._sweep_trigger(), SWEEP_GRACE.total_seconds())
        add("flows", IntervalTrigger(seconds=self.config.flows_interval_seconds),
            self.config.flows_interval_seconds)
        add("outbox", IntervalTrigger(seconds=OUTBOX_SECONDS), OUTBOX_SECONDS)
        add("insights", IntervalTrigger(seconds=INSIGHTS_SECONDS), INSIGHTS_SECONDS)

    def _sweep_trigger(self) -> CronTrigger:
        at = sweep_at(self.config)
        return CronTrigger(hour=at.hour, minute=at.minute, timezone=self.zone)

    def start(self) -> None:
        self.scheduler.start(paused=True)
        self._leader.start()

    def stop(self) -> None:
        """Stop firing, let a running job reach its next checkpoint, release the lock."""
        self.stopping.set()
        if self._leader.is_alive():
            self._leader.join()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self.lock.release()
        self.leading.clear()

    def _lead(self) -> None:
        while not self.stopping.is_set():
            try:
                self._tick()
            except Exception:  # the leader loop must outlive a database hiccup
                log.exception("scheduler leadership check failed")
            self.stopping.wait(self.retry_seconds)

    def _tick(self) -> None:
        if self.leading.is_set() and not self.lock.alive():
            log.warning("scheduler lock lost; schedules paused until it is held again")
            self.scheduler.pause()
            self.lock.release()
            self.leading.clear()
        if not self.leading.is_set() and not self.stopping.is_set() and self.lock.acquire():
            self._catch_up()
            self.scheduler.resume()
            self.leading.set()
            log.info("this process fires the schedules: %s",
                     "; ".join(f"{k} {v}" for k, v in describe(self.app, self.zone).items()))
        if self.leading.is_set():
            self._follow_program_zone()

    def _catch_up(self) -> None:
        day = missed_sweep(self.clock(), self.zone, sweep_at(self.config))
        if day is not None and jobs.finished_at(self.app, "sweep", day) is None:
            log.info("sweep for %s was missed; running it now", day.isoformat())
            self.scheduler.modify_job("sweep", next_run_time=datetime.now(timezone.utc))

    def _follow_program_zone(self) -> None:
        zone = read_zone(self.app)
        if zone is not None and zone.key != self.zone.key:
            log.info("program time zone is now %s; sweep rescheduled", zone.key)
            self.zone = zone
            self.scheduler.reschedule_job("sweep", trigger=self._sweep_trigger())

    def run_job(self, name: str) -> None:
        """Run one job now and log one line about it."""
        job, now, started = jobs.JOBS[name], self.clock(), timer.monotonic()
        day = (latest_sweep_day(now, self.zone, sweep_at(self.config)) if job.daily
               else now.astimezone(self.zone).date())
        try:
            summary = jobs.run(self.app, job, day, now, self._checkpoint)
        except JobStopped:
            log.warning("%s as of %s: stopped by shutdown; it runs again when a worker leads",
                        name, day.isoformat())
        except Exception:
            log.exception("%s as of %s failed", name, day.isoformat())
        else:
            log.info("%s (%.1fs)", jobs.summary_line(name, day, summary), timer.monotonic() - started)

    def _checkpoint(self, _done: int) -> None:
        if self.stopping.is_set():
            raise JobStopped
