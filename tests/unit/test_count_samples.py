"""Estimating a window's counts from slices of it (engage.messaging.count_samples)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engage.messaging.count_samples import rounded, scaled, slices

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
SINCE = NOW - timedelta(days=30)


def test_one_slice_per_stratum_inside_the_window_without_overlap():
    cut = slices(SINCE, NOW, 120, timedelta(minutes=6))
    assert len(cut) == 120
    stratum = timedelta(hours=6)
    for i, (start, end) in enumerate(cut):
        assert end - start == timedelta(minutes=6)
        assert SINCE + i * stratum <= start and end <= SINCE + (i + 1) * stratum


def test_slices_fall_at_every_hour_of_the_day():
    hours = {start.hour for start, _ in slices(SINCE, NOW, 120, timedelta(minutes=6))}
    assert len(hours) == 24


def test_a_steady_stream_is_estimated_within_a_few_percent():
    # One row a minute over the window: each 6-minute slice holds 6 rows, wherever it falls.
    cut = slices(SINCE, NOW, 120, timedelta(minutes=6))
    minutes = [SINCE + timedelta(minutes=m) for m in range(30 * 24 * 60)]
    sampled = sum(1 for t in minutes for start, end in cut if start <= t < end)
    assert abs(scaled(sampled, SINCE, NOW, 120, timedelta(minutes=6)) - len(minutes)) <= len(minutes) * 0.02


def test_slices_wider_than_their_strata_are_refused():
    with pytest.raises(ValueError):
        slices(SINCE, NOW, 1000, timedelta(hours=1))


@pytest.mark.parametrize(("estimate", "shown"), [(0, 0), (97, 97), (123, 120), (12_345, 12_000),
                                                  (655_555, 660_000)])
def test_estimates_keep_two_significant_figures(estimate, shown):
    assert rounded(estimate) == shown
