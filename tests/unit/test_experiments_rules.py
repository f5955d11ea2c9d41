"""Experiments' pure rules: stable assignment in the split's proportion, the two-proportion test
against numbers worked out by hand, and the plain-words sentence."""

from __future__ import annotations

import hashlib

import pytest

from engage.experiments import VariantCount, assign, bucket, compare, sentence
from engage.experiments.significance import MIN_SENDS
from engage.experiments.wording import chance, outcome_words


def test_bucket_is_the_first_eight_bytes_of_sha256_of_experiment_and_member():
    digest = hashlib.sha256(b"7:12345").digest()
    assert bucket(12345, 7) == int.from_bytes(digest[:8], "big") / 2**64
    assert 0 <= bucket(12345, 7) < 1


def test_the_same_member_always_gets_the_same_variant():
    first = [assign(member, 3, 50) for member in range(1, 2001)]
    assert [assign(member, 3, 50) for member in range(1, 2001)] == first
    assert set(first) == {"A", "B"}


@pytest.mark.parametrize("split", [10, 50, 80])
def test_the_share_of_b_follows_the_split(split):
    members = 20_000
    share = sum(assign(member, 11, split) == "B" for member in range(1, members + 1)) / members
    # A binomial share's standard error at 20,000 draws is under 0.36 points: 1.5 is over 4 of them.
    assert abs(share - split / 100) < 0.015


def test_experiments_split_members_independently():
    one = [assign(member, 1, 50) for member in range(1, 4001)]
    two = [assign(member, 2, 50) for member in range(1, 4001)]
    agree = sum(x == y for x, y in zip(one, two)) / len(one)
    assert 0.46 < agree < 0.54  # independent halves agree about half of the time, not always


def test_a_split_moves_only_members_near_the_line():
    # Raising the split from 20% to 30% keeps every B a B: the bucket is fixed, only the line moves.
    members = range(1, 5001)
    assert all(assign(m, 4, 30) == "B" for m in members if assign(m, 4, 20) == "B")


def test_two_proportion_test_against_hand_worked_numbers():
    # A: 16 replies of 200 (8%); B: 30 of 200 (15%). Pooled p = 46/400 = 0.115;
    # se = sqrt(0.115 × 0.885 × (1/200 + 1/200)) = sqrt(0.00101775) = 0.0319022;
    # z = (0.15 - 0.08) / 0.0319022 = 2.19421; p = erfc(2.19421 / √2) = 0.028221 (about 1 in 35).
    result = compare(VariantCount(200, 16), VariantCount(200, 30))
    assert result.enough
    assert result.z == pytest.approx(2.19421, abs=1e-5)
    assert result.p_value == pytest.approx(0.028221, abs=1e-6)
    assert result.difference == pytest.approx(0.07)


def test_z_of_1_96_is_the_five_percent_line():
    # 1.959964 is the textbook two-sided 5% critical value of the normal distribution.
    import math
    assert math.erfc(1.959964 / math.sqrt(2)) == pytest.approx(0.05, abs=1e-6)


def test_the_test_is_symmetric():
    ab = compare(VariantCount(300, 30), VariantCount(300, 45))
    ba = compare(VariantCount(300, 45), VariantCount(300, 30))
    assert ab.p_value == pytest.approx(ba.p_value)
    assert ab.z == pytest.approx(-ba.z)


@pytest.mark.parametrize(("a", "b"), [
    (VariantCount(0, 0), VariantCount(0, 0)),
    (VariantCount(MIN_SENDS - 1, 10), VariantCount(500, 100)),  # A below the minimum of sends
    (VariantCount(500, 0), VariantCount(500, 0)),  # nobody replied: nothing to compare
    (VariantCount(100, 2), VariantCount(100, 2)),  # 4 outcomes in all: too rare to test
    (VariantCount(100, 100), VariantCount(100, 99)),  # nearly everyone: too few non-outcomes
])
def test_too_few_sends_give_no_p_value(a, b):
    result = compare(a, b)
    assert not result.enough and result.p_value is None and result.z is None


def test_impossible_counts_are_refused():
    with pytest.raises(ValueError):
        compare(VariantCount(10, 11), VariantCount(10, 1))


def test_the_sentence_says_who_leads_and_how_often_chance_would_do_it():
    result = compare(VariantCount(200, 16), VariantCount(200, 30))
    assert sentence(result, "reply", 7) == (
        "B gets more replies within 7 days (15.0% against 8.0%); a difference this large would come by "
        "chance about 1 time in 35.")


def test_the_sentence_names_a_when_a_leads():
    result = compare(VariantCount(200, 30), VariantCount(200, 16))
    assert sentence(result, "purchase", 14).startswith(
        "A gets more purchases within 14 days (15.0% against 8.0%); a difference this large")


def test_the_sentence_for_too_few_sends_and_for_none():
    assert sentence(compare(VariantCount(0, 0), VariantCount(0, 0)), "reply", 7) == "No sends yet."
    text = sentence(compare(VariantCount(12, 1), VariantCount(10, 3)), "redemption", 7)
    assert text.startswith("Too few sends to tell yet: A has 12 and B 10.")


def test_the_sentence_for_equal_rates():
    result = compare(VariantCount(100, 20), VariantCount(100, 20))
    assert result.p_value == 1.0
    assert sentence(result, "reply", 7) == "A and B get the same share of replies within 7 days (20.0%)."


@pytest.mark.parametrize(("p_value", "words"), [
    (0.025, "about 1 time in 40"),
    (0.0004, "less than 1 time in 1000"),
    (0.7, "more often than not, so there is no sign of a real difference"),
    (0.5, "about 1 time in 2"),
])
def test_chance_in_words(p_value, words):
    assert chance(p_value) == words


def test_outcome_words():
    assert outcome_words("redemption", 1) == "redemptions within 1 day"
    assert outcome_words("reply", 3) == "replies within 3 days"
