"""Giving back: the program's share of a purchase."""

from decimal import Decimal

from engage.loyalty.giving import GivingRules, Share, purchase_share


def rules(**setting) -> GivingRules:
    return GivingRules.from_settings({"enabled": True, "cause": "the food bank", **setting})


def test_percent_of_the_amount_rounded_to_the_cent():
    assert purchase_share(Decimal("25.90"), rules(percent="2")) == Share("the food bank", Decimal("0.52"), 0)
    assert purchase_share(Decimal("0.10"), rules(percent="1")) is None  # rounds to nothing


def test_points_per_purchase_counted_in_money_at_the_point_value():
    share = purchase_share(Decimal("12.00"), rules(mode="points", points_per_purchase=10, point_value="0.05"))
    assert share == Share("the food bank", Decimal("0.50"), 10)


def test_nothing_when_off_without_a_cause_or_for_a_zero_purchase():
    assert purchase_share(Decimal("50"), GivingRules.from_settings({"enabled": False, "cause": "x"})) is None
    assert purchase_share(Decimal("50"), GivingRules.from_settings({"enabled": True, "cause": "  "})) is None
    assert purchase_share(Decimal("0"), rules()) is None
    assert purchase_share(Decimal("50"), GivingRules.from_settings(None)) is None
