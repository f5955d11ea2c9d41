"""Program rule settings and defaults (docs/loyalty.md, docs/messaging.md); admins edit them."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal

from engage.loyalty.giving import DEFAULT_GIVING_BACK
from engage.loyalty.items import BonusRule, bonus_rules
from engage.loyalty.offers import OfferRule, offer_rules

ACTION_TYPES = ("newsletter_signup", "social_follow", "review", "feedback")

DEFAULT_SETTINGS: dict = {
    "points_per_currency_unit": 1,
    "action_points": {
        "signup": 100,
        "newsletter_signup": 20,
        "social_follow": 10,
        "review": 50,
        "feedback": 25,
        "reply": 5,
        "referral": 200,
    },
    "reply_daily_cap": 3,
    "lot_lifetime_days": 365,
    "qualifying_window_days": 365,
    "max_purchase_amount": "100000.00",
    "quiet_hours": {"start": "21:00", "end": "08:00"},
    "sms_daily_cap": 2,
    "sms_weekly_cap": 5,
    "phone_region": None,
    "max_sms_segments": 4,
    "giving_back": DEFAULT_GIVING_BACK,
    # Bonus points for line items (engage.loyalty.items) and personalised offers
    # (engage.loyalty.offers): none until a marketer adds one.
    "item_bonuses": [],
    "offer_rules": [],
}


def merged_settings(stored: dict | None) -> dict:
    """Stored settings over the defaults, so settings added later get their default."""
    result = copy.deepcopy(DEFAULT_SETTINGS)
    for key, value in (stored or {}).items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key].update(value)
        else:
            result[key] = value
    return result


@dataclass(frozen=True)
class EarningRules:
    """The numbers the earning and expiry rules need, as plain values."""

    points_per_currency_unit: int
    action_points: dict
    reply_daily_cap: int
    lot_lifetime_days: int
    qualifying_window_days: int
    max_purchase_amount: Decimal
    item_bonuses: tuple[BonusRule, ...] = ()
    offer_rules: tuple[OfferRule, ...] = ()

    @classmethod
    def from_settings(cls, settings: dict) -> "EarningRules":
        s = merged_settings(settings)
        return cls(
            points_per_currency_unit=int(s["points_per_currency_unit"]),
            action_points=dict(s["action_points"]),
            reply_daily_cap=int(s["reply_daily_cap"]),
            lot_lifetime_days=int(s["lot_lifetime_days"]),
            qualifying_window_days=int(s["qualifying_window_days"]),
            max_purchase_amount=Decimal(str(s["max_purchase_amount"])),
            item_bonuses=bonus_rules(s["item_bonuses"]),
            offer_rules=offer_rules(s["offer_rules"]),
        )
