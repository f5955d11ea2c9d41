"""Limited and partner rewards as pure rules: the calendar with early access by tier, stock and
codes left, the low-pool notice, the category scope, and the partner's code lists."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from engage.loyalty import partner_codes
from engage.loyalty.reward_limits import (
    Calendar,
    calendar_problems,
    calendar_refusal,
    category_refusal,
    crossed_low,
    is_open,
    opens_for,
    pool_low,
    pool_notice,
    sold_out,
    units_left,
)
from engage.loyalty.rewards import RewardRule, SoldOut, cheapest_paid, for_member, refusal
from engage.loyalty.tiers import TierRule

BRONZE = TierRule(id=1, name="Bronze", threshold=0, multiplier=Decimal("1.0"))
GOLD = TierRule(id=3, name="Gold", threshold=1500, multiplier=Decimal("1.5"))

EARLY = datetime(2026, 11, 20, tzinfo=timezone.utc)
PUBLIC = datetime(2026, 11, 27, tzinfo=timezone.utc)  # Black Friday
END = datetime(2026, 12, 1, tzinfo=timezone.utc)
BLACK_FRIDAY = Calendar(starts_at=PUBLIC, ends_at=END, early_access_from=EARLY, early_tier_ids=frozenset({3}))
SALE = RewardRule(7, "Black Friday EUR 20 off", "discount", 120, None, calendar=BLACK_FRIDAY)


# --- calendar ------------------------------------------------------------------------------------

def test_early_tiers_open_at_early_access_others_at_the_public_start():
    assert opens_for(BLACK_FRIDAY, GOLD.id) == EARLY
    assert opens_for(BLACK_FRIDAY, BRONZE.id) == PUBLIC


def test_calendar_refusal_before_during_and_after():
    before_early = EARLY - timedelta(seconds=1)
    assert calendar_refusal("Sale", BLACK_FRIDAY, GOLD.id, before_early) == "Sale opens at 2026-11-20 00:00 UTC"
    assert calendar_refusal("Sale", BLACK_FRIDAY, GOLD.id, EARLY) is None
    assert calendar_refusal("Sale", BLACK_FRIDAY, BRONZE.id, EARLY) == "Sale opens at 2026-11-27 00:00 UTC"
    assert calendar_refusal("Sale", BLACK_FRIDAY, BRONZE.id, PUBLIC) is None
    assert calendar_refusal("Sale", BLACK_FRIDAY, GOLD.id, END) == "Sale ended at 2026-12-01 00:00 UTC"
    assert calendar_refusal("Sale", Calendar(), BRONZE.id, END) is None


@given(st.datetimes(timezones=st.just(timezone.utc)), st.sampled_from([BRONZE, GOLD]))
def test_open_exactly_when_not_refused(now, tier):
    assert is_open(BLACK_FRIDAY, tier.id, now) == (calendar_refusal("x", BLACK_FRIDAY, tier.id, now) is None)


def test_calendar_problems():
    assert calendar_problems(BLACK_FRIDAY) == {}
    assert calendar_problems(Calendar(starts_at=END, ends_at=PUBLIC)) == {"ends_at": "Must be after starts_at."}
    assert set(calendar_problems(Calendar(early_access_from=EARLY, early_tier_ids=frozenset({3})))) == {"starts_at"}
    assert set(calendar_problems(Calendar(starts_at=EARLY, early_access_from=PUBLIC,
                                          early_tier_ids=frozenset({3})))) == {"early_access_from"}
    assert set(calendar_problems(Calendar(starts_at=PUBLIC, early_access_from=EARLY))) == {"early_access_tiers"}
    assert set(calendar_problems(Calendar(early_tier_ids=frozenset({3})))) == {"early_access_from"}


# --- stock, codes left, low pool -----------------------------------------------------------------

def test_units_left_is_the_smaller_limit():
    assert units_left(None, None) is None
    assert units_left(5, None) == 5
    assert units_left(None, 3) == 3
    assert units_left(5, 3) == 3
    assert units_left(0, 9) == 0
    assert not sold_out(None) and not sold_out(1) and sold_out(0)


def test_pool_low_and_its_crossing():
    assert pool_low(9, 10) and not pool_low(10, 10) and not pool_low(0, None)
    assert crossed_low(10, 9, 10)
    assert not crossed_low(9, 8, 10) and not crossed_low(11, 10, 10) and not crossed_low(5, 4, None)


def test_pool_notice_once_per_crossing_and_at_the_last_code():
    # codes 1..20 handed out in order with threshold 10: after each, 19..0 codes behind it
    notices = [pool_notice(after, 10) for after in range(19, -1, -1)]
    assert notices.count("low") == 1 and notices[10] == "low"  # the 11th code leaves 9
    assert notices[-1] == "empty" and notices.count("empty") == 1
    assert pool_notice(5, None) is None and pool_notice(0, None) == "empty"


@given(st.permutations(list(range(12))), st.integers(min_value=1, max_value=12))
def test_pool_notice_low_exactly_once_whatever_the_claim_order(order, threshold):
    """Concurrent claims may take codes out of order; each code's rank is fixed, so one notice."""
    size = 12
    notices = [pool_notice(size - 1 - position, threshold) for position in order]
    assert notices.count("low") == (1 if threshold > 1 else 0)
    assert notices.count("empty") == 1


# --- refusal with limits -------------------------------------------------------------------------

def test_sold_out_is_a_conflict_refusal():
    gone = RewardRule(8, "Mug", "gift", 10, None, left=0)
    why = refusal(gone, BRONZE, 100)
    assert isinstance(why, SoldOut) and why == "Mug is sold out"
    assert refusal(RewardRule(8, "Mug", "gift", 10, None, left=1), BRONZE, 100) is None


def test_calendar_refused_before_tier_and_points():
    assert refusal(SALE, BRONZE, 0, EARLY) == "Black Friday EUR 20 off opens at 2026-11-27 00:00 UTC"
    assert refusal(SALE, GOLD, 500, EARLY) is None
    assert refusal(SALE, BRONZE, 500, PUBLIC) is None
    assert refusal(SALE, BRONZE, 500) is None  # no clock: the calendar is not checked


def test_cheapest_paid_skips_closed_and_sold_out_rewards():
    ten_off = RewardRule(1, "EUR 10 off", "discount", 100, None)
    sold = RewardRule(2, "Cheap mug", "gift", 50, None, left=0)
    cheap_sale = RewardRule(3, "Sale", "discount", 60, None, calendar=BLACK_FRIDAY)
    catalog = [ten_off, sold, cheap_sale]
    assert cheapest_paid(catalog, BRONZE, 200, EARLY) == ten_off
    assert cheapest_paid(catalog, GOLD, 200, EARLY) == cheap_sale


def test_for_member_hides_what_is_not_open_to_the_tier_and_says_why_not():
    ten_off = RewardRule(1, "EUR 10 off", "discount", 100, None)
    retired = RewardRule(2, "Old", "gift", 10, None, active=False)
    sold = RewardRule(4, "Mug", "gift", 50, None, left=0)
    catalog = [SALE, ten_off, retired, sold]
    bronze = for_member(catalog, BRONZE, 110, EARLY)
    assert [(r.id, why) for r, why in bronze] == [(4, "Mug is sold out"), (1, None)]
    gold = for_member(catalog, GOLD, 110, EARLY)
    assert [(r.id, why) for r, why in gold] == [
        (4, "Mug is sold out"), (1, None), (7, "Black Friday EUR 20 off costs 120 points; member has 110")]
    assert [r.id for r, _ in for_member(catalog, BRONZE, 110, END)] == [4, 1]


def test_category_scope():
    assert category_refusal("Coffee deal", "coffee", None) is None
    assert category_refusal("Coffee deal", "coffee", " Coffee ") is None
    assert category_refusal("Coffee deal", None, "tea") is None
    assert category_refusal("Coffee deal", "coffee", "tea") == "Coffee deal applies to coffee only, not tea"


# --- partner code lists --------------------------------------------------------------------------

def test_csv_with_header_ignores_other_columns_and_counts_repeats():
    found = partner_codes.from_csv("partner,code\nacme,AC-1\nacme,AC-2\n\nacme,AC-1\n")
    assert found.codes == [(2, "AC-1"), (3, "AC-2")]
    assert found.repeated == [(5, 2)]
    assert found.problems == []


def test_csv_without_header_is_one_code_a_line():
    found = partner_codes.from_csv("\ufeffAC-1\nAC-2\n")
    assert [code for _, code in found.codes] == ["AC-1", "AC-2"]


def test_csv_problems_name_their_line():
    found = partner_codes.from_csv("code\nok-1\nhas space\n" + "X" * 33 + "\n,\n")
    assert found.problems == [(3, "only printable ASCII without spaces"), (4, "longer than 32 characters")]
    assert partner_codes.from_csv("").problems == [(0, "no codes in the file")]
    assert partner_codes.from_csv("a,b\n1,2\n").problems == [(1, "no `code` column in the header")]


def test_json_list_positions_stand_for_lines():
    found = partner_codes.from_list(["A", "", "A", "B"])
    assert found.codes == [(1, "A"), (4, "B")]
    assert found.problems == [(2, "empty code")] and found.repeated == [(3, 1)]
