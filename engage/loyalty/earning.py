"""How many points a purchase or an action earns."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, Decimal

from engage.loyalty.items import Item, purchase_bonus
from engage.loyalty.settings import EarningRules

# Actions a member can earn for only once, whatever the shop reports.
ONCE_PER_MEMBER = frozenset({"signup", "newsletter_signup", "social_follow"})


def purchase_points(amount: Decimal, multiplier: Decimal, rules: EarningRules, items: Sequence[Item] = ()) -> int:
    """Whole currency units × points per unit × tier multiplier, rounded down; never negative;
    plus the bonus the program's item rules give the purchase's items (engage.loyalty.items)."""
    bonus = purchase_bonus(items, rules.item_bonuses, multiplier, rules.points_per_currency_unit)
    if amount <= 0:
        return bonus
    whole_units = amount.to_integral_value(rounding=ROUND_FLOOR)
    points = whole_units * rules.points_per_currency_unit * multiplier
    return int(points.to_integral_value(rounding=ROUND_FLOOR)) + bonus


def action_points(action: str, rules: EarningRules) -> int:
    """Fixed points for an action (signup, review, …); 0 for an unknown action."""
    return max(0, int(rules.action_points.get(action, 0)))


def once_only_source(action: str, request_id: int | None = None) -> str | None:
    """The shared ledger `source` of an action that earns once (per member, or per feedback
    request), or None when every such event earns (its source is then the event itself)."""
    if action in ONCE_PER_MEMBER:
        return action
    if action == "feedback" and request_id is not None:
        return f"feedback:message:{request_id}"
    return None


def action_source(action: str, event_id: int, request_id: int | None = None) -> str:
    """The ledger `source` of an action credit; once-only actions share one per member."""
    return once_only_source(action, request_id) or f"event:{event_id}"
