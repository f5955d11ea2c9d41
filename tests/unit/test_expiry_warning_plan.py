"""The next expiry warning the daily sweep will queue (shown on the member page)."""

from __future__ import annotations

from datetime import date

from engage.flows.expiry_warning import next_warning

EXPIRES = date(2027, 3, 2)


def test_far_from_expiry_the_first_notice_is_offset_days_before():
    assert next_warning(EXPIRES, date(2026, 3, 2), [7, 30], set()) == (date(2027, 1, 31), 30)


def test_inside_a_window_whose_notice_is_not_sent_it_is_due_today():
    assert next_warning(EXPIRES, date(2027, 2, 10), [7, 30], set()) == (date(2027, 2, 10), 30)


def test_once_a_notice_is_sent_the_next_offset_follows():
    assert next_warning(EXPIRES, date(2027, 2, 10), [7, 30], {30}) == (date(2027, 2, 23), 7)


def test_inside_the_last_window_the_earlier_notice_is_skipped_as_the_sweep_does():
    assert next_warning(EXPIRES, date(2027, 2, 27), [7, 30], set()) == (date(2027, 2, 27), 7)


def test_nothing_left_when_every_notice_was_sent_or_the_points_expired():
    assert next_warning(EXPIRES, date(2027, 2, 27), [7, 30], {7, 30}) is None
    assert next_warning(EXPIRES, date(2027, 3, 3), [7, 30], set()) is None
