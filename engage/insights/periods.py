"""Days and periods in the program's time zone: what a date range means, what it is compared
with, and which past days a late event changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo

EARLIEST = date(2000, 1, 1)  # no program is older; keeps the previous period's dates valid
MAX_DAYS = 366  # a year, leap or not: the longest range a request may ask for
# Figures that look 7 days past a message or purchase (replies, opt-outs, redemptions, revenue
# after a flow) settle 7 days later, so each rollup run recomputes this many days back.
SETTLE_DAYS = 8
ACTIVE_DAYS = 90  # an active member purchased in the last 90 days


class BadRange(ValueError):
    """A date range a request may not ask for; `errors` names the field(s) at fault."""

    def __init__(self, message: str, errors: dict[str, list[str]]):
        super().__init__(message)
        self.errors = errors


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def each_day(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.days)]

    def previous(self) -> Period:
        """The period of the same length just before, which the figures are compared with."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))


def check_range(first: date, last: date, today: date) -> Period:
    """The period from `first` to `last` inclusive, or BadRange saying what is wrong with it."""
    if last < first:
        raise BadRange("`to` is before `from`", {"to": ["Must be on or after `from`."]})
    if first < EARLIEST:
        raise BadRange(f"`from` is before {EARLIEST.isoformat()}", {"from": [f"Must not be before {EARLIEST}."]})
    if last > today:
        raise BadRange(f"`to` is after today ({today.isoformat()} in the program's time zone)",
                       {"to": [f"Must not be after {today.isoformat()}."]})
    period = Period(first, last)
    if period.days > MAX_DAYS:
        raise BadRange(f"the range covers {period.days} days; at most {MAX_DAYS} at a time",
                       {"to": [f"Must be at most {MAX_DAYS - 1} days after `from`."]})
    return period


def day_bounds(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of a local day (23 or 25 hours long on DST changes)."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def local_day(instant: datetime, zone: tzinfo) -> date:
    return instant.astimezone(zone).date()


def month_of(day: date) -> date:
    return day.replace(day=1)


def months_between(earlier: date, later: date) -> int:
    """Whole calendar months from `earlier`'s month to `later`'s (0 in the same month)."""
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def recompute_window(as_of: date) -> Period:
    """The days a rollup run recomputes whatever was marked: those whose figures may still move."""
    return Period(as_of - timedelta(days=SETTLE_DAYS), as_of - timedelta(days=1))


def changed_by_late_event(day: date, today: date) -> Period | None:
    """The days a purchase or action dated `day` but reported `today` changes, if any are past.

    Revenue after a flow looks back 7 days from a purchase, and first and repeat purchases,
    cohorts and the 90-day active count look forward from it, to today."""
    if day >= today:
        return None
    return Period(day - timedelta(days=SETTLE_DAYS - 1), today - timedelta(days=1))
