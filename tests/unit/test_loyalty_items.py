"""Item bonus rules: sku over category, multiplier on the item's own points, points per unit."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from engage.loyalty.earning import purchase_points
from engage.loyalty.items import BonusRule, Item, bonus_rules, purchase_bonus, rule_for
from engage.loyalty.settings import EarningRules

COFFEE = Item("BLEND-1", "House blend 250 g", "Coffee", 2, Decimal("17.80"))
TEA = Item("TEA-9", "Green tea", "tea", 1, Decimal("6.00"))
DOUBLE_COFFEE = BonusRule("category", "coffee", Decimal(2))
FIVE_PER_BLEND = BonusRule("sku", "blend-1", Decimal(1), 5)


def rules(*bonuses: dict) -> EarningRules:
    return EarningRules.from_settings({"item_bonuses": list(bonuses)})


def test_double_points_on_a_category_doubles_the_items_own_points():
    # 17 whole euros earn 17; doubled: 17 more. Tea has no rule.
    assert purchase_bonus([COFFEE, TEA], [DOUBLE_COFFEE], Decimal(1), 1) == 17


def test_the_multiplier_applies_to_the_members_tier_points_and_rounds_down():
    assert purchase_bonus([COFFEE], [DOUBLE_COFFEE], Decimal("1.25"), 1) == 21  # 17 × 1.25 = 21.25


def test_a_fixed_bonus_per_unit_counts_the_quantity():
    assert purchase_bonus([COFFEE], [FIVE_PER_BLEND], Decimal("1.5"), 1) == 10


def test_the_sku_rule_wins_over_the_category_rule_so_an_item_earns_one_bonus():
    assert rule_for([DOUBLE_COFFEE, FIVE_PER_BLEND], COFFEE) == FIVE_PER_BLEND
    assert purchase_bonus([COFFEE], [DOUBLE_COFFEE, FIVE_PER_BLEND], Decimal(1), 1) == 10


def test_matching_ignores_case_and_an_item_without_category_matches_no_category_rule():
    assert rule_for([DOUBLE_COFFEE], COFFEE) is DOUBLE_COFFEE
    assert rule_for([DOUBLE_COFFEE], Item("X", "x", None, 1, Decimal(5))) is None


def test_no_items_or_no_rules_earn_no_bonus():
    assert purchase_bonus([], [DOUBLE_COFFEE], Decimal(1), 1) == 0
    assert purchase_bonus([COFFEE], [], Decimal(1), 1) == 0


def test_purchase_points_add_the_bonus_to_what_the_amount_earns():
    earning = rules({"match": "category", "value": "coffee", "multiplier": "2"})
    assert purchase_points(Decimal("23.80"), Decimal(1), earning, [COFFEE, TEA]) == 23 + 17
    assert purchase_points(Decimal("23.80"), Decimal(1), earning) == 23  # without items: as before


def test_settings_become_rules_with_their_defaults():
    assert bonus_rules([{"match": "sku", "value": "A", "points_per_unit": 3}]) == (
        BonusRule("sku", "A", Decimal(1), 3),)


@given(amount=st.decimals(min_value=0, max_value=10_000, places=2),
       quantity=st.integers(min_value=1, max_value=50),
       multiplier=st.decimals(min_value=1, max_value=10, places=2),
       per_unit=st.integers(min_value=0, max_value=100),
       tier=st.sampled_from([Decimal("1.0"), Decimal("1.25"), Decimal("1.5")]))
def test_a_bonus_is_never_negative_and_grows_with_the_rule(amount, quantity, multiplier, per_unit, tier):
    item = Item("S", "n", "c", quantity, amount)
    weak = purchase_bonus([item], [BonusRule("sku", "s", multiplier, per_unit)], tier, 1)
    strong = purchase_bonus([item], [BonusRule("sku", "s", multiplier + 1, per_unit + 1)], tier, 1)
    assert 0 <= weak <= strong
