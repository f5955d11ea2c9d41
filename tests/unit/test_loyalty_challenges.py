"""Challenges: window, progress, nudge, keyword join, the challenge shown to a member."""

from datetime import datetime, timedelta, timezone

from engage.loyalty import challenges as rules
from engage.loyalty.challenges import ChallengeRule

MARCH = datetime(2026, 3, 1, tzinfo=timezone.utc)
APRIL = datetime(2026, 4, 1, tzinfo=timezone.utc)
THREE = ChallengeRule(1, "3 purchases in March", "purchase", 3, 200, MARCH, APRIL)
REVIEWS = ChallengeRule(2, "Rate 2", "feedback", 2, 100, MARCH, APRIL, rules.KEYWORD, "RATE2")
MID = datetime(2026, 3, 15, tzinfo=timezone.utc)


def test_the_window_includes_its_start_and_excludes_its_end():
    assert rules.counts_at(THREE, MARCH)
    assert not rules.counts_at(THREE, APRIL)
    assert not rules.counts_at(THREE, MARCH - timedelta(seconds=1))


def test_progress_from_the_count_never_past_the_goal():
    assert rules.progress(THREE, 0) == rules.Progress(0, 3, False)
    assert rules.progress(THREE, 2) == rules.Progress(2, 1, False)
    assert rules.progress(THREE, 3) == rules.Progress(3, 0, True)
    assert rules.progress(THREE, 7) == rules.Progress(3, 0, True)  # the same events counted again


def test_the_nudge_comes_with_one_step_left_while_open():
    assert rules.nudge_due(THREE, 2, MID)
    assert not rules.nudge_due(THREE, 1, MID)
    assert not rules.nudge_due(THREE, 3, MID)
    assert not rules.nudge_due(THREE, 2, APRIL)  # a late event after the end: no nudge


def test_an_activity_counts_toward_the_challenges_of_its_kind_and_time():
    assert rules.counting([THREE, REVIEWS], "purchase", MID) == [THREE]
    assert rules.counting([THREE, REVIEWS], "purchase", APRIL) == []
    assert rules.counting([THREE, REVIEWS], "feedback", MID) == [REVIEWS]


def test_a_keyword_joins_its_open_challenge_only():
    assert rules.joined_by([THREE, REVIEWS], "  rate2 ", MID) == REVIEWS
    assert rules.joined_by([THREE, REVIEWS], "RATE2", APRIL) is None
    assert rules.joined_by([THREE, REVIEWS], "RATE 2", MID) is None


def test_the_member_sees_the_open_challenge_closest_to_done():
    assert rules.closest([THREE, REVIEWS], {}, MID) == (THREE, rules.Progress(0, 3, False))  # not joined RATE2
    assert rules.closest([THREE, REVIEWS], {2: 1}, MID) == (REVIEWS, rules.Progress(1, 1, False))
    assert rules.closest([THREE, REVIEWS], {1: 3, 2: 2}, MID) is None
    assert rules.closest([THREE], {}, APRIL) is None
