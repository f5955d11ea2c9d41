"""Exponential backoff with jitter for transient provider errors (pure)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

MAX_DELAY = timedelta(hours=6)


def backoff(attempts: int, base_seconds: float, rng: random.Random | None = None) -> timedelta:
    """Delay before the next try after `attempts` tries: base × 2^(attempts-1), half of it jittered.

    "Equal jitter": half the delay is fixed so retries don't bunch at zero, half is random so
    many messages failing together don't retry together.
    """
    rng = rng or random
    full = min(base_seconds * 2 ** max(0, attempts - 1), MAX_DELAY.total_seconds())
    return timedelta(seconds=full / 2 + rng.uniform(0, full / 2))


def next_step(attempts: int, max_attempts: int, transient: bool, now: datetime, base_seconds: float,
              rng: random.Random | None = None) -> tuple[str, datetime | None]:
    """('retry', when) or ('failed', None) after a provider error."""
    if not transient or attempts >= max_attempts:
        return "failed", None
    return "retry", now + backoff(attempts, base_seconds, rng)
