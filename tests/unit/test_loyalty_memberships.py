"""Paid memberships: effective tier at `now`, lapse date, renewal due-ness, paid tiers never earned."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from engage.loyalty import memberships as rules
from engage.loyalty import tiers
from engage.loyalty.tiers import TierRule

BRONZE = TierRule(1, "Bronze", 0, Decimal("1.0"))
SILVER = TierRule(2, "Silver", 500, Decimal("1.25"))
PLUS = TierRule(4, "Plus", 1000, Decimal("1.4"), paid=True)
GOLD = TierRule(3, "Gold", 1500, Decimal("1.5"))
LADDER = [BRONZE, SILVER, PLUS, GOLD]
NOW = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def plus(start: datetime, end: datetime, status: str = rules.ACTIVE) -> rules.Period:
    return rules.Period(PLUS.id, start, end, status)


def test_a_paid_tier_is_never_reached_by_points():
    assert tiers.tier_for(1200, LADDER) == SILVER
    assert tiers.tier_for(1600, LADDER) == GOLD
    assert tiers.next_tier(600, LADDER) == (GOLD, 900)


def test_effective_tier_is_the_higher_of_earned_and_paid_active_now():
    held = [plus(NOW - DAY, NOW + 30 * DAY)]
    assert rules.effective_tier(BRONZE, held, LADDER, NOW) == PLUS
    assert rules.effective_tier(GOLD, held, LADDER, NOW) == GOLD  # earned above the paid tier


def test_no_paid_tier_before_the_start_after_the_end_or_once_cancelled():
    assert rules.effective_tier(SILVER, [plus(NOW + DAY, NOW + 9 * DAY)], LADDER, NOW) == SILVER
    assert rules.effective_tier(SILVER, [plus(NOW - 9 * DAY, NOW)], LADDER, NOW) == SILVER  # end exclusive
    assert rules.effective_tier(SILVER, [plus(NOW - DAY, NOW + DAY, rules.REFUNDED)], LADDER, NOW) == SILVER


def test_renewals_chain_into_one_lapse_date():
    first = plus(NOW - 20 * DAY, NOW + 10 * DAY)
    renewal = plus(NOW + 10 * DAY, NOW + 40 * DAY)
    later = plus(NOW + 50 * DAY, NOW + 80 * DAY)  # a gap: not part of the chain
    assert rules.lapses_at([later, renewal, first], PLUS.id, NOW) == NOW + 40 * DAY
    assert rules.lapses_at([later], PLUS.id, NOW) is None


def test_an_early_renewal_starts_when_the_current_one_ends():
    current = plus(NOW - 20 * DAY, NOW + 10 * DAY)
    assert rules.renewal_start([current], PLUS.id, NOW) == NOW + 10 * DAY
    assert rules.renewal_start([current], GOLD.id, NOW) == NOW
    assert rules.renewal_start([plus(NOW - 20 * DAY, NOW - DAY)], PLUS.id, NOW) == NOW


def test_renewal_is_due_within_the_notice_before_the_lapse_only():
    assert rules.renewal_due(NOW + 7 * DAY, NOW)
    assert rules.renewal_due(NOW + DAY, NOW)
    assert not rules.renewal_due(NOW + 7 * DAY + timedelta(seconds=1), NOW)
    assert not rules.renewal_due(NOW, NOW)
    assert not rules.renewal_due(None, NOW)


def test_months_are_calendar_months():
    assert rules.add_months(datetime(2026, 1, 31, tzinfo=timezone.utc), 1) == datetime(2026, 2, 28, tzinfo=timezone.utc)
    assert rules.add_months(datetime(2026, 11, 15, tzinfo=timezone.utc), 3) == datetime(2027, 2, 15, tzinfo=timezone.utc)
    assert rules.add_months(datetime(2026, 3, 1, tzinfo=timezone.utc), 12) == datetime(2027, 3, 1, tzinfo=timezone.utc)


def test_lapsed_lists_standing_memberships_that_are_over():
    over, running = plus(NOW - 30 * DAY, NOW - DAY), plus(NOW - DAY, NOW + DAY)
    cancelled = plus(NOW - 30 * DAY, NOW - DAY, rules.CANCELLED)
    assert rules.lapsed([over, running, cancelled], NOW) == [over]


def test_a_paid_member_is_shown_the_next_earnable_tier_above_the_one_held():
    assert tiers.next_tier_from(PLUS, 200, LADDER) == (GOLD, 1300)
    assert tiers.next_tier_from(BRONZE, 200, LADDER) == (SILVER, 300)
