"""Earning rules: purchase points (whole units × rate × tier multiplier, floored) and action points."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engage.loyalty.earning import ONCE_PER_MEMBER, action_points, action_source, purchase_points
from engage.loyalty.settings import DEFAULT_SETTINGS, EarningRules

RULES = EarningRules.from_settings({})
BRONZE, SILVER, GOLD = Decimal("1.0"), Decimal("1.25"), Decimal("1.5")


@pytest.mark.parametrize(
    ("amount", "multiplier", "expected"),
    [
        ("25.90", BRONZE, 25),  # SPEC example: EUR 25.90 → 25
        ("25.90", SILVER, 31),  # 25 × 1.25 = 31.25 → 31
        ("25.90", GOLD, 37),  # 25 × 1.5 = 37.5 → 37
        ("25.00", BRONZE, 25),
        ("25.00", SILVER, 31),
        ("24.00", SILVER, 30),
        ("4.00", SILVER, 5),
        ("3.99", SILVER, 3),  # 3 whole units × 1.25 = 3.75 → 3
        ("1.00", GOLD, 1),
        ("100.00", GOLD, 150),
        ("0.99", BRONZE, 0),
        ("0.99", GOLD, 0),
        ("1", BRONZE, 1),
        ("99999.99", GOLD, 149998),  # 99999 × 1.5 = 149998.5 → 149998
    ],
)
def test_purchase_points_default_rate(amount, multiplier, expected):
    assert purchase_points(Decimal(amount), multiplier, RULES) == expected


def test_fraction_is_dropped_before_the_multiplier():
    # 25.90 × 1.25 = 32.375 would give 32; the rule floors the amount to whole units first.
    assert purchase_points(Decimal("25.90"), SILVER, RULES) == 31


@pytest.mark.parametrize("amount", ["0", "0.00", "-0.01", "-1", "-25.90", "-100000"])
@pytest.mark.parametrize("multiplier", [BRONZE, SILVER, GOLD])
def test_zero_and_negative_amounts_earn_nothing(amount, multiplier):
    assert purchase_points(Decimal(amount), multiplier, RULES) == 0


def test_points_per_currency_unit_is_applied():
    rules = EarningRules.from_settings({"points_per_currency_unit": 3})
    assert purchase_points(Decimal("25.90"), BRONZE, rules) == 75
    assert purchase_points(Decimal("25.90"), SILVER, rules) == 93  # 75 × 1.25 = 93.75


def test_result_is_a_plain_int():
    points = purchase_points(Decimal("25.90"), SILVER, RULES)
    assert type(points) is int


amounts = st.decimals(min_value=Decimal("-1000"), max_value=Decimal("100000"), places=2,
                      allow_nan=False, allow_infinity=False)
multipliers = st.sampled_from([BRONZE, SILVER, GOLD, Decimal("2"), Decimal("1.1"), Decimal("0.5")])


@given(a=amounts, b=amounts, multiplier=multipliers)
def test_purchase_points_monotonic_in_amount(a, b, multiplier):
    low, high = sorted([a, b])
    assert purchase_points(low, multiplier, RULES) <= purchase_points(high, multiplier, RULES)


@given(amount=amounts, multiplier=multipliers)
def test_purchase_points_never_negative_and_never_more_than_exact(amount, multiplier):
    points = purchase_points(amount, multiplier, RULES)
    assert points >= 0
    if amount > 0:
        # Floors: never above the exact product, less than one point below the floored-units product.
        whole = int(amount)
        exact = Decimal(whole) * multiplier
        assert points <= exact < points + 1


@given(amount=amounts)
def test_higher_tier_never_earns_less(amount):
    bronze = purchase_points(amount, BRONZE, RULES)
    silver = purchase_points(amount, SILVER, RULES)
    gold = purchase_points(amount, GOLD, RULES)
    assert bronze <= silver <= gold


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("signup", 100),
        ("newsletter_signup", 20),
        ("social_follow", 10),
        ("review", 50),
        ("feedback", 25),
        ("reply", 5),
        ("referral", 200),
    ],
)
def test_default_action_points(action, expected):
    assert action_points(action, RULES) == expected


def test_unknown_action_earns_nothing():
    assert action_points("tweet", RULES) == 0
    assert action_points("", RULES) == 0


def test_negative_configured_action_points_are_clamped_to_zero():
    rules = EarningRules.from_settings({"action_points": {"review": -10}})
    assert action_points("review", rules) == 0
    assert action_points("feedback", rules) == 25  # other defaults survive the partial override


def test_configured_action_points_override_defaults():
    rules = EarningRules.from_settings({"action_points": {"review": 75, "signup": "120"}})
    assert action_points("review", rules) == 75
    assert action_points("signup", rules) == 120


def test_action_points_do_not_mutate_defaults():
    EarningRules.from_settings({"action_points": {"review": 75}})
    assert DEFAULT_SETTINGS["action_points"]["review"] == 50


def test_once_per_member_actions():
    assert ONCE_PER_MEMBER == {"signup", "newsletter_signup", "social_follow"}


@pytest.mark.parametrize("action", sorted(ONCE_PER_MEMBER))
def test_once_only_actions_share_one_source_per_member(action):
    assert action_source(action, 1) == action_source(action, 2) == action
    assert action_source(action, 1, request_id=9) == action


def test_feedback_is_once_per_feedback_request():
    assert action_source("feedback", 1, request_id=42) == "feedback:message:42"
    assert action_source("feedback", 2, request_id=42) == "feedback:message:42"
    assert action_source("feedback", 1, request_id=43) != action_source("feedback", 1, request_id=42)


def test_feedback_without_request_is_per_event():
    assert action_source("feedback", 7) == "event:7"


@pytest.mark.parametrize("action", ["review", "reply", "referral", "purchase"])
def test_repeatable_actions_are_keyed_by_event(action):
    assert action_source(action, 7) == "event:7"
    assert action_source(action, 8) == "event:8"
    assert action_source(action, 7, request_id=3) == "event:7"
