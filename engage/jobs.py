"""Jobs the scheduler runs and operators can run by hand (`engage jobs run NAME`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from flask import Flask

from engage.outbox.dispatcher import Dispatcher
from engage.flows import due, timed
from engage.services import sweep


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    run: Callable[[Flask, date, datetime, Callable[[int], None] | None], dict]


def dispatcher_for(app: Flask, clock=None) -> Dispatcher:
    ext = app.extensions
    return Dispatcher(ext["engage.db"], ext["engage.channels"], ext["engage.config"], clock or ext["engage.clock"])


def _outbox(app: Flask, as_of: date, now: datetime, progress=None) -> dict:
    return {"attempted": dispatcher_for(app, clock=lambda: now).run_once()}


def _sweep(app: Flask, as_of: date, now: datetime, progress=None) -> dict:
    database = app.extensions["engage.db"]
    with database.session() as session:
        expired = sweep.expire_points(session, as_of, now)
        changes = sweep.reevaluate_tiers(session, as_of, now)
        warnings = timed.send_expiry_warnings(session, as_of, now, progress)
        reminders = timed.send_reminders(session, as_of, now)
    return {"members_with_expired_points": expired, "tier_changes": len(changes),
            "expiry_warnings": warnings, "redemption_reminders": reminders}


def _flows(app: Flask, as_of: date, now: datetime, progress=None) -> dict:
    totals = {"queued": 0, "skipped": 0}
    with app.extensions["engage.db"].session() as session:
        while True:
            counts = due.promote_due(session, now)
            totals = {k: totals[k] + counts[k] for k in totals}
            if sum(counts.values()) == 0:
                return totals


JOBS: dict[str, Job] = {
    "sweep": Job("sweep", "daily: expire points, re-evaluate tiers, time-driven flows", _sweep),
    "flows": Job("flows", "due flows: scheduled messages whose time has come (or that lost their point)",
                 _flows),
    "outbox": Job("outbox", "send every message that is due now", _outbox),
}


def resolve_as_of(app: Flask, name: str, as_of: str | None) -> tuple[date, datetime]:
    """(day, now) for a run: today, or the given date/instant (ValueError when malformed)."""
    from datetime import time, timezone
    from zoneinfo import ZoneInfo

    from engage.services.program import get_program

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
    hours, minutes = (int(p) for p in app.extensions["engage.config"].sweep_time.split(":"))
    local = time(hours, minutes) if name == "sweep" else time(23, 59, 59)
    return day, datetime.combine(day, local, tzinfo=zone).astimezone(timezone.utc)


def run(app: Flask, job: Job, day: date, now: datetime, progress=None) -> dict:
    return job.run(app, day, now, progress)
