"""A token bucket per sender, shared by the dispatcher threads of one process."""

from __future__ import annotations

import threading
import time


class RateLimiter:
    """At most `rate` acquisitions per second, with bursts up to `burst`."""

    def __init__(self, rate: float, burst: float | None = None, clock=time.monotonic, sleep=time.sleep):
        self.rate = rate
        self.capacity = burst if burst is not None else max(1.0, rate)
        self.tokens = self.capacity
        self.clock, self.sleep = clock, sleep
        self.updated = clock()
        self.lock = threading.Lock()

    def _wait_time(self) -> float:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1 - 1e-9:  # float refill can land a hair under 1; don't spin on it
            self.tokens = max(0.0, self.tokens - 1)
            return 0.0
        return (1 - self.tokens) / self.rate

    def acquire(self) -> None:
        """Block until one more send keeps the sender within its rate."""
        while True:
            with self.lock:
                wait = self._wait_time()
            if wait == 0:
                return
            self.sleep(wait)
