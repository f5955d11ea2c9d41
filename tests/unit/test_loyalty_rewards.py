"""Rewards: refusal reasons, affordability, the cheapest paid reward and newly affordable ones."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engage.loyalty.rewards import (
    RewardRule,
    affordable,
    cheapest_paid,
    newly_affordable,
    refusal,
    reward_text,
)
from engage.loyalty.tiers import TierRule

BRONZE = TierRule(id=1, name="Bronze", threshold=0, multiplier=Decimal("1.0"))
SILVER = TierRule(id=2, name="Silver", threshold=500, multiplier=Decimal("1.25"))
GOLD = TierRule(id=3, name="Gold", threshold=1500, multiplier=Decimal("1.5"))

TEN_OFF = RewardRule(id=1, name="EUR 10 off", kind="discount", cost=100, min_tier_threshold=None)
SHIPPING = RewardRule(id=2, name="Free shipping", kind="shipping", cost=150, min_tier_threshold=None)
TWENTYFIVE_OFF = RewardRule(id=3, name="EUR 25 off", kind="discount", cost=250, min_tier_threshold=None)
DONATION = RewardRule(id=4, name="Donate EUR 5", kind="donation", cost=50, min_tier_threshold=None)
EARLY_ACCESS = RewardRule(id=5, name="Early access", kind="perk", cost=0, min_tier_threshold=1500,
                          min_tier_name="Gold")
CATALOG = [TWENTYFIVE_OFF, EARLY_ACCESS, DONATION, SHIPPING, TEN_OFF]


# --- refusal -------------------------------------------------------------------------------------

def test_no_refusal_when_affordable():
    assert refusal(TEN_OFF, BRONZE, 100) is None
    assert refusal(TEN_OFF, GOLD, 10_000) is None


def test_refused_when_too_expensive():
    assert refusal(TEN_OFF, BRONZE, 99) == "EUR 10 off costs 100 points; member has 99"
    assert refusal(TEN_OFF, BRONZE, 0) == "EUR 10 off costs 100 points; member has 0"


def test_refused_below_min_tier():
    assert refusal(EARLY_ACCESS, BRONZE, 0) == "Early access needs Gold tier or higher; member is Bronze"
    assert refusal(EARLY_ACCESS, SILVER, 5000) == "Early access needs Gold tier or higher; member is Silver"
    assert refusal(EARLY_ACCESS, GOLD, 0) is None


def test_min_tier_is_at_least_not_exactly():
    silver_plus = RewardRule(9, "Lounge", "perk", 10, min_tier_threshold=500, min_tier_name="Silver")
    assert refusal(silver_plus, SILVER, 10) is None
    assert refusal(silver_plus, GOLD, 10) is None
    assert "needs Silver tier" in refusal(silver_plus, BRONZE, 10)


def test_refused_when_inactive():
    retired = RewardRule(7, "Old mug", "merch", 10, None, active=False)
    assert refusal(retired, GOLD, 10_000) == "Old mug is no longer available"


def test_refusal_reason_precedence():
    retired_gold = RewardRule(8, "Vault", "perk", 999, min_tier_threshold=1500, min_tier_name="Gold", active=False)
    assert refusal(retired_gold, BRONZE, 0) == "Vault is no longer available"
    gold_costly = RewardRule(8, "Vault", "perk", 999, min_tier_threshold=1500, min_tier_name="Gold")
    assert "needs Gold tier" in refusal(gold_costly, BRONZE, 0)
    assert "costs 999 points" in refusal(gold_costly, GOLD, 0)


# --- affordable / cheapest_paid ------------------------------------------------------------------

def test_affordable_cheapest_first_and_filtered():
    assert affordable(CATALOG, BRONZE, 160) == [DONATION, TEN_OFF, SHIPPING]
    assert affordable(CATALOG, GOLD, 160) == [EARLY_ACCESS, DONATION, TEN_OFF, SHIPPING]
    assert affordable(CATALOG, BRONZE, 0) == []


def test_affordable_ties_broken_by_id():
    a = RewardRule(5, "A", "discount", 100, None)
    b = RewardRule(2, "B", "discount", 100, None)
    assert affordable([a, b], BRONZE, 100) == [b, a]


def test_cheapest_paid_skips_donations():
    assert cheapest_paid(CATALOG, BRONZE, 100) == TEN_OFF
    assert cheapest_paid(CATALOG, BRONZE, 99) is None  # only the donation is affordable


def test_cheapest_paid_skips_free_perks():
    assert cheapest_paid(CATALOG, GOLD, 99) is None  # early access (0) and donation only
    assert cheapest_paid(CATALOG, GOLD, 100) == TEN_OFF


def test_cheapest_paid_respects_tier_and_activity():
    gold_cheap = RewardRule(10, "Gold deal", "discount", 60, 1500, "Gold")
    retired = RewardRule(11, "Retired deal", "discount", 55, None, active=False)
    catalog = CATALOG + [gold_cheap, retired]
    assert cheapest_paid(catalog, BRONZE, 100) == TEN_OFF
    assert cheapest_paid(catalog, GOLD, 100) == gold_cheap


def test_cheapest_paid_of_empty_catalog():
    assert cheapest_paid([], GOLD, 10_000) is None


@given(available=st.integers(min_value=0, max_value=1000), tier=st.sampled_from([BRONZE, SILVER, GOLD]))
def test_cheapest_paid_is_a_cheapest_affordable_paid_reward(available, tier):
    choice = cheapest_paid(CATALOG, tier, available)
    paid = [r for r in affordable(CATALOG, tier, available) if r.cost > 0 and r.kind != "donation"]
    if choice is None:
        assert paid == []
    else:
        assert refusal(choice, tier, available) is None
        assert choice.cost == min(r.cost for r in paid)


# --- newly_affordable ----------------------------------------------------------------------------

def test_newly_affordable_crossing_a_cost():
    assert newly_affordable([TEN_OFF, SHIPPING, TWENTYFIVE_OFF], BRONZE, 90, 120) == TEN_OFF
    assert newly_affordable([TEN_OFF, SHIPPING, TWENTYFIVE_OFF], BRONZE, 120, 160) == SHIPPING


def test_newly_affordable_picks_the_cheapest_new_one():
    assert newly_affordable([TEN_OFF, SHIPPING, TWENTYFIVE_OFF], BRONZE, 0, 300) == TEN_OFF
    assert newly_affordable([TEN_OFF, SHIPPING, TWENTYFIVE_OFF], BRONZE, 100, 300) == SHIPPING


def test_newly_affordable_none_when_nothing_new():
    assert newly_affordable([TEN_OFF, SHIPPING], BRONZE, 110, 140) is None
    assert newly_affordable([TEN_OFF, SHIPPING], BRONZE, 10, 40) is None
    assert newly_affordable([TEN_OFF, SHIPPING], BRONZE, 200, 200) is None


def test_newly_affordable_ignores_free_perks():
    assert newly_affordable([EARLY_ACCESS], GOLD, 0, 1000) is None


def test_newly_affordable_respects_tier():
    gold_deal = RewardRule(10, "Gold deal", "discount", 60, 1500, "Gold")
    assert newly_affordable([gold_deal], SILVER, 0, 100) is None
    assert newly_affordable([gold_deal], GOLD, 0, 100) == gold_deal


@pytest.mark.parametrize(("before", "after"), [(300, 100), (160, 120)])
def test_newly_affordable_none_when_balance_drops(before, after):
    assert newly_affordable([TEN_OFF, SHIPPING, TWENTYFIVE_OFF], BRONZE, before, after) is None


@given(before=st.integers(0, 400), after=st.integers(0, 400), tier=st.sampled_from([BRONZE, SILVER, GOLD]))
def test_newly_affordable_property(before, after, tier):
    reward = newly_affordable(CATALOG, tier, before, after)
    if reward is not None:
        assert reward.cost > 0
        assert refusal(reward, tier, after) is None
        assert refusal(reward, tier, before) is not None
        assert before < reward.cost <= after
    if after <= before:
        assert reward is None


# --- reward_text ---------------------------------------------------------------------------------

TRANSLATED = RewardRule(id=3, name="EUR 25 off", kind="discount", cost=250, min_tier_threshold=None,
                        description="On any order", texts={
                            "nl": {"name": "EUR 25 korting", "description": "Op elke bestelling"},
                            "nl_BE": {"name": "25 EUR korting"}, "de": {"name": "25 EUR Rabatt"}})


@pytest.mark.parametrize(("locale", "name", "description"), [
    ("nl", "EUR 25 korting", "Op elke bestelling"),
    ("nl_BE", "25 EUR korting", "On any order"),  # no Belgian description: the default's
    ("nl-BE", "25 EUR korting", "On any order"),
    ("nl_NL", "EUR 25 korting", "Op elke bestelling"),  # the language's
    ("de_AT", "25 EUR Rabatt", "On any order"),
    ("ro", "EUR 25 off", "On any order"),  # no Romanian text: the default locale's
    ("en", "EUR 25 off", "On any order"),
    (None, "EUR 25 off", "On any order"),
    ("", "EUR 25 off", "On any order"),
])
def test_reward_text_picks_the_locale_then_the_language_then_the_default(locale, name, description):
    text = reward_text(TRANSLATED, locale)
    assert (text.name, text.description) == (name, description)


def test_a_reward_without_texts_has_its_own_name_everywhere():
    assert reward_text(TEN_OFF, "nl").name == "EUR 10 off" and reward_text(TEN_OFF, "nl").description is None
