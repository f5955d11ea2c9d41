"""The in-process token bucket that spaces one sender's sends, on a clock the test moves."""

from __future__ import annotations

from engage.outbox.ratelimit import RateLimiter


def test_rate_limiter_spaces_sends():
    now = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(rate=5, burst=1, clock=lambda: now[0], sleep=sleep)
    for _ in range(11):
        limiter.acquire()
    assert abs(now[0] - 2.0) < 1e-9  # 1 at once, then 10 more at 5 per second
