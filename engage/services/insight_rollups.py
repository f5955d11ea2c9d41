"""Keeping the daily insight rollups: each day's figures computed from the source tables in one
transaction, for the days that may have moved (recent ones, those a late event marked, and any
never computed), so reading a year of figures never scans messages or the ledger."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from engage.insights import tally
from engage.insights.periods import (
    ACTIVE_DAYS,
    Period,
    day_bounds,
    local_day,
    month_of,
    recompute_window,
)
from engage.store import insight_days as source
from engage.store import insights as rollups
from engage.store import transaction
from engage.store.program import load


def compute_day(session: Session, day: date, now: datetime, *, snapshot: bool = False, whole: bool = True) -> bool:
    """Recompute one day's rollup rows in one transaction; `snapshot` also records members per tier
    as they are now. `whole=False` recomputes only what a recent day's later events move (its flow
    messages' fates and the revenue they reached), writing only if it changed. True when written."""
    with transaction(session):
        rollups.lock_day(session, day)
        view = load(session)
        zone, currency = view.zone, view.program.currency
        start, end = day_bounds(day, zone)
        flows = [dict(zip(("flow", "channel", *source.FLOW_COLUMNS), row)) for row in source.flows(session, start, end)]
        revenue = [{"flow": flow, "currency": code or currency, "purchases": count, "amount": amount}
                   for flow, code, count, amount in source.revenue(session, start, end)]
        if not whole:
            return rollups.write_messages(session, day, flows, revenue)
        new, referrals, erased = source.members(session, start, end)
        buyers = tally.buyers(source.buyers(session, start, end, day_bounds(month_of(day), zone)[0]), zone)
        given, ratings, rating_sum = source.feedback(session, start, end)
        active_since = day_bounds(day - timedelta(days=ACTIVE_DAYS - 1), zone)[0]
        totals = {"members_new": new, "members_erased": erased, "referrals": referrals,
                  "referred_buyers": buyers.referred_buyers, "purchases": buyers.purchases,
                  "first_buyers": buyers.first_buyers, "repeat_buyers": buyers.repeat_buyers,
                  "active_members": source.active(session, active_since, end),
                  **tally.points(source.points(session, start, end)),
                  "feedback": given, "ratings": ratings, "rating_sum": rating_sum, "computed_at": now}
        rollups.write_day(session, day, totals, flows, revenue, buyers.cohorts,
                          source.tiers(session) if snapshot else None)
        return True


def days_to_compute(session: Session, last: date, zone: ZoneInfo) -> tuple[list[date], list[date], list[int]]:
    """The days up to `last` a run computes whole (never computed, computed before they ended,
    marked by a late event, and `last` itself), the recent days whose messages may have moved, and
    the marks used up.

    Enrolments, ledger entries, feedback and purchases are dated when they happen, or marked when
    reported late, so a day computed after it ended only moves through what followed its messages."""
    with transaction(session):
        earliest = source.first_activity(session)
        if earliest is None:
            return [], [], []
        history = Period(local_day(earliest, zone), last)
        if history.days <= 0:
            return [], [], []
        computed = rollups.computed_days(session, history)
        whole = {day for day in history.each_day()
                 if day not in computed or computed[day] < day_bounds(day, zone)[1]} | {last}
        marks = rollups.stale(session)
        for _id, marked in marks:
            whole |= set(marked.each_day())
        recent = set(recompute_window(last + timedelta(days=1)).each_day()) - whole

        def within(days: set[date]) -> list[date]:
            return sorted(day for day in days if history.first <= day <= last)
        return within(whole), within(recent), [mark_id for mark_id, _ in marks]


def roll_up(session: Session, through: date, now: datetime, progress=None) -> dict:
    """Bring the rollups up to date through `through` (the sweep: the day before its date)."""
    zone = load(session).zone
    whole, recent, marks = days_to_compute(session, through, zone)
    changed = 0
    for day in whole + recent:
        changed += compute_day(session, day, now, snapshot=day == through, whole=day in whole)
        if progress:
            progress(1)
    with transaction(session):
        rollups.clear_stale(session, marks)
    return {"days": len(whole) + len(recent), "changed": changed}
