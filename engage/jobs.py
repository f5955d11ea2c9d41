"""Jobs the scheduler runs and operators can run by hand (`engage jobs run NAME`)."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engage import vocabulary
from engage.channels.console import ConsoleChannel
from engage.dispatcher import Dispatcher
from engage.flows import due, membership_renewal, timed
from engage.messaging.zones import parse_hhmm
from engage.models import JobRun
from engage.outbox.ports import Channel
from engage.services import insight_rollups, memberships, sweep
from engage.store import transaction


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    run: Callable[[Flask, date, datetime, Callable[[int], None] | None], dict]
    daily: bool = False  # once per date: recorded as a JobRun, a finished date is not run again
    progress_label: str | None = None  # what its progress callback counts, when it reports any


def dispatcher_for(app: Flask, clock=None, channels: dict[str, Channel] | None = None) -> Dispatcher:
    ext = app.extensions
    return Dispatcher(ext["engage.db"], channels or ext["engage.channels"], ext["engage.config"],
                      clock or ext["engage.clock"])


def deliver(app: Flask, now: datetime, channels: dict[str, Channel] | None = None) -> int:
    """Prepare the flow messages due by `now`, then send everything due; returns messages attempted."""
    with app.extensions["engage.db"].session() as session:
        due.promote_all_due(session, now)
    return dispatcher_for(app, clock=lambda: now, channels=channels).run_once()


def deliver_quietly(app: Flask, now: datetime) -> int:
    """`deliver` into console channels that print nothing: the demo's made-up past never reaches a
    provider, whatever providers are set up."""
    silent = {name: ConsoleChannel(name, io.StringIO()) for name in vocabulary.Channel}
    return deliver(app, now, silent)


def _outbox(app: Flask, as_of: date, now: datetime, progress=None) -> dict:
    return {"attempted": deliver(app, now)}


def _sweep(app: Flask, as_of: date, now: datetime, progress=None) -> dict:
    database = app.extensions["engage.db"]
    with database.session() as session:
        expired = sweep.expire_points(session, as_of, now)
        lapsed = memberships.record_lapses(session, now)
        changes = sweep.reevaluate_tiers(session, as_of, now)
        warnings = timed.send_expiry_warnings(session, as_of, now, progress)
        reminders = timed.send_reminders(session, as_of, now)
        renewals = membership_renewal.remind(session, as_of, now)
        rolled = insight_rollups.roll_up(session, as_of - timedelta(days=1), now)
    return {"members_with_expired_points": expired, "memberships_lapsed": lapsed, "tier_changes": len(changes),
            "expiry_warnings": warnings, "redemption_reminders": reminders, "membership_renewals": renewals,
            "insight_days": rolled["days"]}


def _insights(app: Flask, as_of: date, now: datetime, progress=None) -> dict:
    with app.extensions["engage.db"].session() as session:
        return insight_rollups.roll_up(session, as_of, now, progress)


def _flows(app: Flask, as_of: date, now: datetime, progress=None) -> dict:
    with app.extensions["engage.db"].session() as session:
        return due.promote_all_due(session, now)


JOBS: dict[str, Job] = {
    "sweep": Job("sweep", "daily: expire points, lapse memberships, re-evaluate tiers, time-driven flows",
                 _sweep, daily=True, progress_label="expiry warnings (members)"),
    "flows": Job("flows", "due flows: scheduled messages whose time has come (or that lost their point)",
                 _flows),
    "outbox": Job("outbox", "send every message that is due now (preparing due flow messages first)",
                  _outbox),
    "insights": Job("insights", "insight figures: roll up today so far, recent days and days late events changed",
                    _insights, progress_label="days"),
}


def resolve_as_of(app: Flask, name: str, as_of: str | None) -> tuple[date, datetime]:
    """(day, now) for a run: today, or the given date/instant (ValueError when malformed)."""
    from datetime import time, timezone
    from zoneinfo import ZoneInfo

    from engage.store.program import get_program

    with app.extensions["engage.db"].session() as session:
        zone = ZoneInfo(get_program(session).timezone)
    if as_of is None:
        now = app.extensions["engage.clock"]()
        return now.astimezone(zone).date(), now
    try:
        if "T" in as_of or " " in as_of.strip():
            instant = datetime.fromisoformat(as_of)
            instant = instant if instant.tzinfo else instant.replace(tzinfo=zone)
            return instant.astimezone(zone).date(), instant.astimezone(timezone.utc)
        day = date.fromisoformat(as_of)
    except ValueError:
        raise ValueError(f"{as_of!r} is not a date (YYYY-MM-DD) or ISO 8601 instant") from None
    local = parse_hhmm(app.extensions["engage.config"].sweep_time) if name == "sweep" else time(23, 59, 59)
    return day, datetime.combine(day, local, tzinfo=zone).astimezone(timezone.utc)


def run(app: Flask, job: Job, day: date, now: datetime, progress=None, *, force: bool = False) -> dict:
    """Run a job; a daily one is recorded per date and skipped when that date is done (unless forced)."""
    if not job.daily:
        return job.run(app, day, now, progress)
    database, clock = app.extensions["engage.db"], app.extensions["engage.clock"]
    with database.session() as session:
        done_at = _start(session, job.name, day, clock(), force)
    if done_at is not None:
        return {"skipped": f"already done at {done_at.isoformat(timespec='seconds')}"}
    summary = job.run(app, day, now, progress)
    with database.session() as session, transaction(session):
        record = session.scalar(select(JobRun).where(JobRun.name == job.name, JobRun.as_of == day))
        record.finished_at, record.summary = clock(), summary
    return summary


def _start(session: Session, name: str, day: date, started_at: datetime, force: bool) -> datetime | None:
    """Record the start of (name, day); returns when it finished instead, if it did and not forced."""
    for attempt in (1, 2):  # a concurrent first run of the same date wins the insert; read it then
        try:
            with transaction(session):
                record = session.scalar(select(JobRun).where(JobRun.name == name, JobRun.as_of == day)
                                        .with_for_update())
                if record is None:
                    session.add(JobRun(name=name, as_of=day, started_at=started_at, summary={}))
                elif record.finished_at is not None and not force:
                    return record.finished_at
                else:
                    record.started_at, record.finished_at = started_at, None
                return None
        except IntegrityError:
            if attempt == 2:
                raise
    return None


def finished_at(app: Flask, name: str, day: date) -> datetime | None:
    """When the daily job `name` finished for `day`, if it did."""
    with app.extensions["engage.db"].session() as session:
        return session.scalar(select(JobRun.finished_at).where(JobRun.name == name, JobRun.as_of == day))


def summary_line(name: str, day: date, summary: dict) -> str:
    return f"{name} as of {day.isoformat()}: " + ", ".join(f"{k}={v}" for k, v in summary.items())
