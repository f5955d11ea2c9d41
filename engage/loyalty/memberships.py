"""Paid memberships: a tier bought for a period, held whatever the qualifying points.

The member's tier is the higher of the tier their points earn and the paid tier of a membership
active now; a membership lapses at its end and the daily sweep falls back to the earned tier.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

from engage.loyalty.tiers import TierRule

ACTIVE = "active"
CANCELLED = "cancelled"
REFUNDED = "refunded"
RENEWAL_NOTICE_DAYS = 7


@dataclass(frozen=True)
class Period:
    """One bought membership: which tier, from when until when (end exclusive), still standing?"""

    tier_id: int
    starts_at: datetime
    ends_at: datetime
    status: str = ACTIVE


def add_months(start: datetime, months: int) -> datetime:
    """The same day `months` later (the month's last day when it is shorter: 31 Jan + 1 = 28 Feb)."""
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    return start.replace(year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1]))


def renewal_start(periods: list[Period], tier_id: int, now: datetime) -> datetime:
    """A new membership of a tier the member already holds starts when the held one lapses, so a
    renewal bought early loses no days; otherwise it starts now."""
    return max([now] + [p.ends_at for p in periods if p.tier_id == tier_id and p.status == ACTIVE
                        and p.ends_at > now])


def active_periods(periods: list[Period], now: datetime) -> list[Period]:
    return [p for p in periods if p.status == ACTIVE and p.starts_at <= now < p.ends_at]


def paid_tier(periods: list[Period], tiers: list[TierRule], now: datetime) -> TierRule | None:
    """The highest tier of a membership active now, or None."""
    held = {p.tier_id for p in active_periods(periods, now)}
    ranked = sorted((t for t in tiers if t.id in held), key=lambda t: t.threshold)
    return ranked[-1] if ranked else None


def effective_tier(earned: TierRule, periods: list[Period], tiers: list[TierRule], now: datetime) -> TierRule:
    """max(earned tier, paid tier active now), ranked by threshold."""
    paid = paid_tier(periods, tiers, now)
    return paid if paid is not None and paid.threshold > earned.threshold else earned


def lapses_at(periods: list[Period], tier_id: int, now: datetime) -> datetime | None:
    """When the member's hold on a paid tier ends: the end of the chain of its memberships that
    covers now (back-to-back or overlapping renewals extend it); None when none covers now."""
    chain = sorted((p for p in periods if p.tier_id == tier_id and p.status == ACTIVE),
                   key=lambda p: p.starts_at)
    end = None
    for period in chain:
        if end is None and period.starts_at <= now < period.ends_at:
            end = period.ends_at
        elif end is not None and period.starts_at <= end:
            end = max(end, period.ends_at)
    return end


def renewal_due(lapse: datetime | None, now: datetime, notice_days: int = RENEWAL_NOTICE_DAYS) -> bool:
    """Is it time for the renewal reminder: the membership lapses within `notice_days`?"""
    return lapse is not None and now < lapse <= now + timedelta(days=notice_days)


def lapsed(periods: list[Period], now: datetime) -> list[Period]:
    """Memberships still standing whose period is over: the sweep records their lapse."""
    return [p for p in periods if p.status == ACTIVE and p.ends_at <= now]
