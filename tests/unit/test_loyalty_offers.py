"""Offer rules: N purchases of a sku or category in D days earn an offer; once open, no other."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from engage.loyalty.offers import Bought, OfferRule, offer_rules, offers_due, refusal, relevant

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=timezone.utc)
BLEND = OfferRule("blend-fan", "sku", "BLEND-1", times=4, days=30, reward_id=1, cost=50, valid_days=14,
                  keyword="COFFEE")
TEA = OfferRule("tea-fan", "category", "tea", times=2, days=7, reward_id=2, cost=0, valid_days=7, keyword="TEA")


def blend(event_id: int, days_ago: float, name: str = "House blend") -> Bought:
    return Bought(event_id, "BLEND-1", name, "coffee", NOW - timedelta(days=days_ago))


def due(bought, *, last=None, open_rules=frozenset(), rewards=(1, 2), rules=(BLEND, TEA)):
    return offers_due(rules, bought, last_offered=last or {}, open_rules=set(open_rules),
                      rewards_on_offer=set(rewards), now=NOW)


def test_the_fourth_purchase_in_thirty_days_earns_the_offer_named_for_the_latest_product():
    bought = [blend(1, 29), blend(2, 20), blend(3, 10), blend(4, 0, "House blend 1 kg")]
    [offer] = due(bought)
    assert offer.rule == BLEND and offer.product == "House blend 1 kg"
    assert offer.ends_at == NOW + timedelta(days=14)


def test_three_purchases_are_not_enough_and_older_ones_do_not_count():
    assert due([blend(1, 40), blend(2, 20), blend(3, 10), blend(4, 0)]) == []


def test_one_purchase_with_several_lines_of_the_sku_counts_once():
    assert due([blend(1, 3), blend(1, 3), blend(2, 2), blend(3, 1)]) == []


def test_an_open_offer_blocks_another_of_its_rule():
    bought = [blend(n, n) for n in range(4)]
    assert due(bought, open_rules={"blend-fan"}) == []


def test_purchases_before_the_last_offer_never_count_again():
    bought = [blend(n, n) for n in range(6)]  # 0..5 days ago
    assert due(bought, last={"blend-fan": NOW - timedelta(days=2, hours=12)}) == []  # 3 after it
    assert len(due(bought, last={"blend-fan": NOW - timedelta(days=3, hours=12)})) == 1  # 4 after it


def test_a_category_rule_matches_any_case_and_a_withdrawn_reward_makes_no_offer():
    tea = [Bought(1, "T1", "Green tea", "Tea", NOW - timedelta(days=1)), Bought(2, "T2", "Black tea", "TEA", NOW)]
    [offer] = due(tea)
    assert offer.rule == TEA and offer.product == "Black tea"
    assert due(tea, rewards=(1,)) == []


def test_only_rules_the_new_items_match_are_evaluated():
    assert relevant([BLEND, TEA], [blend(9, 0)]) == (BLEND,)
    assert relevant([BLEND, TEA], []) == ()


def test_an_offer_is_redeemed_once_and_not_after_it_ended():
    ends = NOW + timedelta(days=1)
    assert refusal(redeemed=False, ends_at=ends, now=NOW) is None
    assert refusal(redeemed=True, ends_at=ends, now=NOW) == "this offer was already redeemed"
    assert refusal(redeemed=False, ends_at=ends, now=ends) == "this offer ended on 2026-03-21"


def test_settings_become_rules_with_upper_case_keywords():
    [rule] = offer_rules([{"key": "k", "match": "sku", "value": "A", "times": 2, "days": 5, "reward_id": 3,
                           "cost": 10, "valid_days": 4, "keyword": "beans"}])
    assert rule.keyword == "BEANS" and rule.times == 2
