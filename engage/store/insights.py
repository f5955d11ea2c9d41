"""The daily insight rollups: writing a day's rows, the days marked for recompute, and reading a
range back (a few hundred small rows for a year)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from engage.insights.periods import Period, changed_by_late_event, local_day
from engage.models import (
    InsightCohortDay,
    InsightDay,
    InsightFlowDay,
    InsightRevenueDay,
    InsightStale,
    InsightTierDay,
    Reward,
)

PER_DAY = (InsightDay, InsightFlowDay, InsightRevenueDay, InsightCohortDay)
DAY_TOTALS = ("members_new", "members_erased", "referrals", "referred_buyers", "purchases", "first_buyers",
              "repeat_buyers", "points_issued", "points_redeemed", "points_donated", "points_expired",
              "points_adjusted", "redemptions", "feedback", "ratings", "rating_sum")


# Advisory lock keys of the days being recomputed: one class id, then the day's ordinal.
DAY_LOCK = 0x1D5 << 32


def lock_day(session: Session, day: date) -> None:
    """Wait for any other run computing the same day (the sweep and the hourly job may overlap),
    so the second replaces the first's rows instead of colliding with them. SQLite serialises
    writers already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": DAY_LOCK + day.toordinal()})


def write_messages(session: Session, day: date, flows: list[dict], revenue: list[dict]) -> bool:
    """Replace the day's flow and revenue rows with these if they differ; True when they did."""
    changed = False
    for table, rows in ((InsightFlowDay, flows), (InsightRevenueDay, revenue)):
        columns = [column.key for column in table.__table__.c if column.key != "day"]
        stored = {tuple(row) for row in session.execute(select(*(table.__table__.c[c] for c in columns))
                                                        .where(table.day == day))}
        if stored != {tuple(row[c] for c in columns) for row in rows}:
            session.execute(delete(table).where(table.day == day))
            if rows:
                session.execute(insert(table), [dict(row, day=day) for row in rows])
            changed = True
    return changed


def write_day(session: Session, day: date, totals: dict, flows: list[dict], revenue: list[dict],
              cohorts: dict[date, int], tiers: dict[str, int] | None) -> None:
    """Replace the day's rows with these, and the tier snapshot when one is given."""
    for table in PER_DAY:
        session.execute(delete(table).where(table.day == day))
    session.execute(insert(InsightDay).values(day=day, **totals))
    for rows, table in ((flows, InsightFlowDay), (revenue, InsightRevenueDay)):
        if rows:
            session.execute(insert(table), [dict(row, day=day) for row in rows])
    if cohorts:
        session.execute(insert(InsightCohortDay), [{"day": day, "cohort": cohort, "members": count}
                                                   for cohort, count in cohorts.items()])
    if tiers is not None:
        session.execute(delete(InsightTierDay).where(InsightTierDay.day == day))
        session.execute(insert(InsightTierDay), [{"day": day, "tier": name, "members": count}
                                                 for name, count in tiers.items()])


def mark_late(session: Session, occurred_at: datetime, now: datetime, zone: ZoneInfo) -> None:
    """In the caller's transaction: an event dated before today marks the past days it changes."""
    if occurred_at >= now:  # dated now (no occurred_at given: most purchases): today's, nothing to mark
        return
    changed = changed_by_late_event(local_day(occurred_at, zone), local_day(now, zone))
    if changed is not None:
        session.execute(insert(InsightStale).values(first_day=changed.first, last_day=changed.last, marked_at=now))


def stale(session: Session) -> list[tuple[int, Period]]:
    return [(row.id, Period(row.first_day, row.last_day)) for row in session.scalars(select(InsightStale))]


def clear_stale(session: Session, ids: list[int]) -> None:
    if ids:
        session.execute(delete(InsightStale).where(InsightStale.id.in_(ids)))


def computed_days(session: Session, days: Period) -> dict[date, datetime]:
    """{day: when its rows were computed} for the days of `days` that have rows."""
    return dict(session.execute(select(InsightDay.day, InsightDay.computed_at)
                                .where(InsightDay.day.between(days.first, days.last))).all())


def last_computed(session: Session) -> date | None:
    return session.scalar(select(func.max(InsightDay.day)))


def days(session: Session, period: Period) -> list:
    """The period's day rows, oldest first (plain rows: a year is read on every request)."""
    table = InsightDay.__table__
    return list(session.execute(select(table).where(table.c.day.between(period.first, period.last))
                                .order_by(table.c.day)))


def totals_before(session: Session, day: date) -> dict[str, int]:
    """Running totals up to the day before `day`: members, points outstanding, buyers."""
    d = InsightDay
    row = session.execute(select(
        func.coalesce(func.sum(d.members_new - d.members_erased), 0),
        func.coalesce(func.sum(d.points_issued + d.points_adjusted - d.points_redeemed - d.points_donated
                               - d.points_expired), 0),
        func.coalesce(func.sum(d.first_buyers), 0), func.coalesce(func.sum(d.repeat_buyers), 0),
        func.coalesce(func.sum(d.referred_buyers), 0),
    ).where(d.day < day)).one()
    return dict(zip(("members", "points", "buyers", "repeat_buyers", "referred_buyers"), map(int, row)))


def flow_totals(session: Session, period: Period) -> list[tuple]:
    """(flow, channel, *sums) over the period, in flow and channel order."""
    f = InsightFlowDay
    sums = [func.sum(getattr(f, column)) for column in
            ("queued", "waiting", "sent", "delivered", "failed", "suppressed", "skipped", "replied", "opted_out",
             "redeemed_after")]
    return [tuple(row) for row in session.execute(
        select(f.flow, f.channel, *sums).where(f.day.between(period.first, period.last))
        .group_by(f.flow, f.channel).order_by(f.flow, f.channel))]


def revenue_days(session: Session, period: Period) -> list[tuple[date, str, str, int, Decimal]]:
    r = InsightRevenueDay
    return [tuple(row) for row in session.execute(
        select(r.day, r.flow, r.currency, r.purchases, r.amount).where(r.day.between(period.first, period.last))
        .order_by(r.day, r.flow, r.currency))]


def cohort_days(session: Session, period: Period) -> list[tuple[date, date, int]]:
    """(day, enrolment month, first purchasers of the day's month) for cohorts from the period's start."""
    c = InsightCohortDay
    return [tuple(row) for row in session.execute(
        select(c.day, c.cohort, c.members).where(c.day.between(period.first, period.last),
                                                 c.cohort >= period.first).order_by(c.day))]


def tier_snapshot(session: Session, day: date) -> tuple[date | None, dict[str, int]]:
    """The latest tier snapshot on or before `day`, and its day."""
    t = InsightTierDay
    taken = session.scalar(select(func.max(t.day)).where(t.day <= day))
    if taken is None:
        return None, {}
    return taken, dict(session.execute(select(t.tier, t.members).where(t.day == taken)).all())


def reward_values(session: Session) -> list[tuple[int, Decimal | None]]:
    """(cost, money value) of each active reward: what a point is worth."""
    return [tuple(row) for row in session.execute(select(Reward.cost, Reward.value).where(Reward.active.is_(True)))]
