"""Lots: each credit expires a fixed time after it was earned; spending takes the oldest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo


class InsufficientPoints(Exception):
    """Not enough unexpired points to cover a debit."""

    def __init__(self, needed: int, available: int):
        super().__init__(f"needs {needed} points, {available} available")
        self.needed, self.available = needed, available


@dataclass(frozen=True)
class OpenLot:
    id: int
    remaining: int
    earned_at: datetime
    expires_at: datetime


def expires_at(earned_at: datetime, lifetime_days: int) -> datetime:
    """When a credit earned at `earned_at` expires."""
    return earned_at + timedelta(days=lifetime_days)


def usable(lots: list[OpenLot], now: datetime) -> list[OpenLot]:
    """Lots with points left that have not expired at `now`, oldest (soonest to expire) first."""
    live = [lot for lot in lots if lot.remaining > 0 and lot.expires_at > now]
    return sorted(live, key=lambda lot: (lot.expires_at, lot.id))


def available_points(lots: list[OpenLot], now: datetime) -> int:
    return sum(lot.remaining for lot in usable(lots, now))


def plan_fifo(lots: list[OpenLot], points: int, now: datetime) -> list[tuple[int, int]]:
    """(lot id, points taken) pairs covering `points`, oldest lots first."""
    plan: list[tuple[int, int]] = []
    left = points
    for lot in usable(lots, now):
        if left == 0:
            break
        take = min(lot.remaining, left)
        plan.append((lot.id, take))
        left -= take
    if left:
        raise InsufficientPoints(points, points - left)
    return plan


def next_expiry(lots: list[OpenLot], now: datetime, zone: tzinfo) -> tuple[int, date] | None:
    """The soonest local expiry date among usable lots, and the points expiring that day."""
    live = usable(lots, now)
    if not live:
        return None
    day = live[0].expires_at.astimezone(zone).date()
    return sum(lot.remaining for lot in live if lot.expires_at.astimezone(zone).date() == day), day


def sweep_cutoff(as_of: date, zone: tzinfo) -> datetime:
    """The daily sweep for a date expires what expired before that date began, in program time."""
    return datetime.combine(as_of, time(0), tzinfo=zone)
