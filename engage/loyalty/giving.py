"""Giving back: the program's own share of each purchase, donated to a named cause.

The share is the program's money, not the member's: it never debits the member's points (a
member gives their own points with the donation reward). In `points` mode a fixed number of
points per purchase is given, worth `point_value` each in money for the running totals.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

PERCENT, POINTS = "percent", "points"
CENT = Decimal("0.01")

DEFAULT_GIVING_BACK: dict = {
    "enabled": False,
    "cause": "",
    "mode": PERCENT,
    "percent": "1.0",
    "points_per_purchase": 10,
    "point_value": "0.01",
}


@dataclass(frozen=True)
class GivingRules:
    enabled: bool
    cause: str
    mode: str
    percent: Decimal
    points_per_purchase: int
    point_value: Decimal

    @classmethod
    def from_settings(cls, setting: dict | None) -> "GivingRules":
        s = {**DEFAULT_GIVING_BACK, **(setting or {})}
        return cls(bool(s["enabled"]) and bool(str(s["cause"]).strip()), str(s["cause"]).strip(), s["mode"],
                   Decimal(str(s["percent"])), int(s["points_per_purchase"]), Decimal(str(s["point_value"])))


@dataclass(frozen=True)
class Share:
    """What one purchase gives: money, and the points it was counted in (0 in percent mode)."""

    cause: str
    amount: Decimal
    points: int


def purchase_share(amount: Decimal, rules: GivingRules) -> Share | None:
    """The program's gift for a purchase of `amount`, or None (giving back off, or nothing to give)."""
    if not rules.enabled or amount <= 0:
        return None
    if rules.mode == POINTS:
        points = max(0, rules.points_per_purchase)
        money = (points * rules.point_value).quantize(CENT, rounding=ROUND_HALF_UP)
    else:
        points = 0
        money = (amount * rules.percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    return Share(rules.cause, money, points) if money > 0 or points > 0 else None
