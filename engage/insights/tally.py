"""Turning one day's query rows into the day's rollup counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from engage.insights.periods import local_day, month_of


@dataclass(frozen=True)
class Buyers:
    purchases: int = 0
    first_buyers: int = 0  # first purchase ever
    repeat_buyers: int = 0  # second purchase ever: now a repeat buyer
    referred_buyers: int = 0  # first purchase of a member who enrolled with a referral code
    cohorts: dict[date, int] = field(default_factory=dict)  # enrolment month: first purchase this month


def buyers(rows: Iterable[tuple[int, int, int, int, datetime, bool]], zone: tzinfo) -> Buyers:
    """Rows: (member, purchases that day, earlier purchases capped at 2, earlier purchases that
    month capped at 1, enrolled at, referred)."""
    purchases = first = repeat = referred_first = 0
    cohorts: Counter[date] = Counter()
    for _member, today, before, this_month, enrolled_at, referred in rows:
        purchases += today
        first += before == 0
        repeat += before < 2 <= before + today
        referred_first += before == 0 and bool(referred)
        if this_month == 0:
            cohorts[month_of(local_day(enrolled_at, zone))] += 1
    return Buyers(purchases, first, repeat, referred_first, dict(cohorts))


def points(by_kind: Mapping[str, tuple[int, int]]) -> dict[str, int]:
    """Ledger sums by kind as positive amounts (adjustments stay signed), and redemptions counted."""
    def total(kind: str) -> int:
        return by_kind.get(kind, (0, 0))[0]
    return {"points_issued": total("earn"), "points_redeemed": -total("redeem"),
            "points_donated": -total("donate"), "points_expired": -total("expire"),
            "points_adjusted": total("adjust"),
            "redemptions": by_kind.get("redeem", (0, 0))[1] + by_kind.get("donate", (0, 0))[1]}
