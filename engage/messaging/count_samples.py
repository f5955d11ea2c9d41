"""Estimating counts over a long time window from short slices of it, for pages that show what
a window holds without reading all of it (the console's last-30-days flow counts at millions of
messages). Pure: the caller counts the rows in the slices and scales up.

The window is cut into `count` equal strata and one slice of `width` is taken in each, at a place
that moves from stratum to stratum (golden-ratio steps), so the slices fall at every hour of the
day and every day of the week rather than always at the same time of day."""

from __future__ import annotations

from datetime import datetime, timedelta

GOLDEN = 0.6180339887498949


def slices(since: datetime, until: datetime, count: int, width: timedelta) -> list[tuple[datetime, datetime]]:
    """`count` slices [start, end) of `width`, one per equal stratum of [since, until)."""
    stratum = (until - since) / count
    if width > stratum:
        raise ValueError("slices wider than their strata would overlap")
    room = stratum - width
    starts = [since + i * stratum + room * ((i * GOLDEN) % 1.0) for i in range(count)]
    return [(start, start + width) for start in starts]


def scaled(sampled: int, since: datetime, until: datetime, count: int, width: timedelta) -> int:
    """The window's estimated count from what its slices held."""
    return round(sampled * (until - since) / (count * width))


def rounded(estimate: int) -> int:
    """An estimate to two significant figures (a third would claim a precision it does not have)."""
    if estimate < 100:
        return estimate
    step = 10 ** (len(str(estimate)) - 2)
    return round(estimate / step) * step
