"""Tiers: Bronze 0, Silver 500, Gold 1500; up at once on earning, down only in the sweep."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engage.loyalty.tiers import (
    TierRule,
    after_earning,
    may_lift,
    next_tier,
    ordered,
    qualifying_since,
    rank,
    tier_for,
)

BRONZE = TierRule(id=1, name="Bronze", threshold=0, multiplier=Decimal("1.0"))
SILVER = TierRule(id=2, name="Silver", threshold=500, multiplier=Decimal("1.25"))
GOLD = TierRule(id=3, name="Gold", threshold=1500, multiplier=Decimal("1.5"))
TIERS = [GOLD, BRONZE, SILVER]  # deliberately unordered


def test_ordered_by_threshold():
    assert ordered(TIERS) == [BRONZE, SILVER, GOLD]


@pytest.mark.parametrize(
    ("qualifying", "expected"),
    [(0, BRONZE), (1, BRONZE), (499, BRONZE), (500, SILVER), (501, SILVER), (1499, SILVER),
     (1500, GOLD), (1501, GOLD), (10**9, GOLD)],
)
def test_tier_for_thresholds(qualifying, expected):
    assert tier_for(qualifying, TIERS) == expected


def test_tier_for_below_lowest_threshold_is_lowest_tier():
    ladder = [TierRule(1, "Entry", 100, Decimal("1")), TierRule(2, "Top", 200, Decimal("2"))]
    assert tier_for(0, ladder).name == "Entry"
    assert tier_for(-5, TIERS) == BRONZE


def test_default_multipliers():
    assert [t.multiplier for t in ordered(TIERS)] == [Decimal("1.0"), Decimal("1.25"), Decimal("1.5")]


@pytest.mark.parametrize(
    ("qualifying", "expected"),
    [(0, (SILVER, 500)), (120, (SILVER, 380)), (499, (SILVER, 1)), (500, (GOLD, 1000)), (1499, (GOLD, 1))],
)
def test_next_tier_points_needed(qualifying, expected):
    assert next_tier(qualifying, TIERS) == expected


@pytest.mark.parametrize("qualifying", [1500, 1501, 99999])
def test_next_tier_none_at_top(qualifying):
    assert next_tier(qualifying, TIERS) is None


@pytest.mark.parametrize(
    ("current", "qualifying", "expected"),
    [
        (BRONZE, 0, BRONZE),
        (BRONZE, 500, SILVER),
        (BRONZE, 1600, GOLD),  # may skip a tier
        (SILVER, 1500, GOLD),
        (SILVER, 100, SILVER),  # computed Bronze: downgrade waits for the sweep
        (GOLD, 0, GOLD),
        (GOLD, 700, GOLD),
        (GOLD, 2000, GOLD),
    ],
)
def test_after_earning(current, qualifying, expected):
    assert after_earning(current, qualifying, TIERS) == expected


@given(current=st.sampled_from(TIERS), qualifying=st.integers(min_value=0, max_value=10_000))
def test_after_earning_never_lowers_and_reaches_computed_tier(current, qualifying):
    result = after_earning(current, qualifying, TIERS)
    assert result.threshold >= current.threshold
    assert result.threshold >= tier_for(qualifying, TIERS).threshold
    assert result in (current, tier_for(qualifying, TIERS))


@given(a=st.integers(min_value=0, max_value=10_000), b=st.integers(min_value=0, max_value=10_000))
def test_tier_for_monotonic(a, b):
    low, high = sorted([a, b])
    assert tier_for(low, TIERS).threshold <= tier_for(high, TIERS).threshold


@given(qualifying=st.integers(min_value=0, max_value=10_000))
def test_next_tier_consistent_with_tier_for(qualifying):
    nxt = next_tier(qualifying, TIERS)
    if nxt is None:
        assert tier_for(qualifying, TIERS) == GOLD
    else:
        tier, needed = nxt
        assert needed > 0
        assert tier_for(qualifying + needed, TIERS) == tier
        assert tier_for(qualifying + needed - 1, TIERS) != tier


def test_rank():
    assert [rank(t, TIERS) for t in (BRONZE, SILVER, GOLD)] == [0, 1, 2]


def test_qualifying_window():
    now = datetime(2025, 6, 1, 12, tzinfo=timezone.utc)
    assert qualifying_since(now, 365) == now - timedelta(days=365)
    assert qualifying_since(now, 30) == datetime(2025, 5, 2, 12, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("current", "earned_ever", "expected"),
    [
        (BRONZE, 499, False),  # below Silver's 500: no window to sum
        (BRONZE, 500, True),
        (SILVER, 1499, False),
        (SILVER, 5000, True),
        (GOLD, 99999, False),  # the top: nothing lifts
    ],
)
def test_may_lift(current, earned_ever, expected):
    assert may_lift(current, earned_ever, TIERS) is expected


@given(current=st.sampled_from(TIERS), qualifying=st.integers(min_value=0, max_value=5_000),
       older=st.integers(min_value=0, max_value=5_000))
def test_may_lift_never_misses_a_lift(current, qualifying, older):
    # all points ever earned are the qualifying ones plus any older ones
    if after_earning(current, qualifying, TIERS) != current:
        assert may_lift(current, qualifying + older, TIERS)
