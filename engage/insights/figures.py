"""The arithmetic of the figures: rates, means, period-on-period change, what outstanding points
are worth, and the retention triangle. Empty denominators give None ("no data"), never 0."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from engage.insights.periods import months_between

CENT = Decimal("0.01")


def rate(part: int, whole: int) -> float | None:
    """part / whole, rounded to 4 places; None when there is nothing to divide by."""
    return round(part / whole, 4) if whole else None


def mean(total: int, count: int) -> float | None:
    return round(total / count, 2) if count else None


def change(current: float | int | None, previous: float | int | None) -> float | None:
    """Relative change from the previous period (0.25 = up 25%); None when there was nothing."""
    if current is None or not previous:
        return None
    return round((current - previous) / previous, 4)


def point_value(rewards: Iterable[tuple[int, Decimal | None]]) -> Decimal:
    """What one point is worth to a member: the best value per point among rewards with a money
    value, as (cost in points, value). The liability is stated at the most the program may owe."""
    rates = [Decimal(value) / cost for cost, value in rewards if value and cost > 0]
    return max(rates, default=Decimal(0))


def liability(outstanding: int, per_point: Decimal) -> Decimal:
    """What the members' unspent points are worth, to the cent."""
    return (outstanding * per_point).quantize(CENT, rounding=ROUND_HALF_UP)


def redemption_rate(redeemed: int, donated: int, issued: int) -> float | None:
    """Points spent (on rewards or donations) per point issued in the same period."""
    return rate(redeemed + donated, issued)


@dataclass(frozen=True)
class Cohort:
    month: date  # the enrolment month
    members: int  # enrolled that month
    active: list[int]  # members with a purchase in month 0, 1, … after enrolment
    rates: list[float | None]


def retention_triangle(sizes: Mapping[date, int], active: Mapping[tuple[date, date], int],
                       last_month: date) -> list[Cohort]:
    """One row per enrolment month: how many of its members purchased in each later month, up to
    `last_month`. `active` maps (enrolment month, purchase month) to distinct purchasers."""
    rows = []
    for month in sorted(sizes):
        span = months_between(month, last_month) + 1
        counts = [0] * max(span, 0)
        for (cohort, when), count in active.items():
            if cohort == month and 0 <= months_between(month, when) < span:
                counts[months_between(month, when)] += count
        rows.append(Cohort(month, sizes[month], counts, [rate(n, sizes[month]) for n in counts]))
    return rows


def running_totals(start: int, changes: Iterable[int]) -> list[int]:
    """`start` plus each change in turn: a total at the end of each day."""
    totals, total = [], start
    for step in changes:
        total += step
        totals.append(total)
    return totals
