"""Line items of a purchase and the bonus points earning rules add for them ("double points on
coffee", "5 extra points per bag of beans").

A bonus rule names one sku or one category. An item takes the rule for its sku if there is one,
else the rule for its category (the more specific rule wins, so one item never earns two
bonuses). Matching ignores case. A rule adds, for each matching item:

- `multiplier`: the item's own points (its whole currency units × points per unit × the
  member's tier multiplier) times (multiplier − 1) — 2 doubles the item's points;
- `points_per_unit`: that many points for each unit bought (quantity).

Each item's bonus is rounded down; the bonus is added to the purchase's base points, which stay
what the purchase amount earns (items may not add up to the amount: discounts, shipping).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

MATCHES = ("sku", "category")


@dataclass(frozen=True)
class Item:
    """One line of a purchase: `amount` is the line's total, not the unit price."""

    sku: str
    name: str
    category: str | None
    quantity: int
    amount: Decimal


@dataclass(frozen=True)
class BonusRule:
    match: str  # "sku" or "category"
    value: str
    multiplier: Decimal = Decimal(1)
    points_per_unit: int = 0

    @classmethod
    def from_setting(cls, setting: dict) -> "BonusRule":
        return cls(setting["match"], str(setting["value"]), Decimal(str(setting.get("multiplier", "1"))),
                   int(setting.get("points_per_unit", 0)))


def bonus_rules(settings: Iterable[dict]) -> tuple[BonusRule, ...]:
    """The program's `item_bonuses` setting as rules."""
    return tuple(BonusRule.from_setting(setting) for setting in settings)


def item_from(data: dict) -> Item:
    """An item as the API and the store hand it over (a dict of its fields)."""
    return Item(str(data["sku"]), str(data["name"]), data.get("category"), int(data["quantity"]),
                Decimal(str(data["amount"])))


def matches(match: str, value: str, item: Item) -> bool:
    """Whether an item is the sku or in the category a rule names (any case)."""
    own = item.sku if match == "sku" else item.category
    return own is not None and own.casefold() == value.casefold()


def rule_for(rules: Sequence[BonusRule], item: Item) -> BonusRule | None:
    """The item's sku rule, else its category rule, else None."""
    for match in MATCHES:
        for rule in rules:
            if rule.match == match and matches(rule.match, rule.value, item):
                return rule
    return None


def item_bonus(item: Item, rule: BonusRule, multiplier: Decimal, points_per_currency_unit: int) -> int:
    """The extra points one item earns under its rule; never negative."""
    if item.amount <= 0 and rule.points_per_unit <= 0:
        return 0
    units = max(Decimal(0), item.amount).to_integral_value(rounding=ROUND_FLOOR)
    extra = units * points_per_currency_unit * multiplier * max(Decimal(0), rule.multiplier - 1)
    per_unit = max(0, item.quantity) * max(0, rule.points_per_unit)
    return int(extra.to_integral_value(rounding=ROUND_FLOOR)) + per_unit


def purchase_bonus(items: Sequence[Item], rules: Sequence[BonusRule], multiplier: Decimal,
                   points_per_currency_unit: int) -> int:
    """The bonus points of a purchase's items for a member whose tier has `multiplier`."""
    if not items or not rules:
        return 0
    total = 0
    for item in items:
        rule = rule_for(rules, item)
        if rule is not None:
            total += item_bonus(item, rule, multiplier, points_per_currency_unit)
    return total
