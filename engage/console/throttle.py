"""Sign-in attempts per key (an IP address, an email) in a sliding window, in this process."""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime


class Throttle:
    """At most `limit` attempts per key in any `window_seconds`; `now` is passed in (testable)."""

    def __init__(self, limit: int = 5, window_seconds: float = 60.0, max_keys: int = 100_000):
        self.limit, self.window, self.max_keys = limit, window_seconds, max_keys
        self.attempts: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def retry_after(self, keys: list[str], now: datetime) -> int:
        """Seconds until every key may try again, counting this attempt if all may (0: go ahead)."""
        at = now.timestamp()
        with self.lock:
            if len(self.attempts) > self.max_keys:  # bounded memory under a spray of addresses
                self.attempts.clear()
            windows = [self._window(key, at) for key in keys]
            waits = [window[0] + self.window - at for window in windows if len(window) >= self.limit]
            if waits:
                return max(1, int(max(waits) + 0.999))
            for window in windows:
                window.append(at)
            return 0

    def _window(self, key: str, at: float) -> deque[float]:
        window = self.attempts.setdefault(key, deque())
        while window and window[0] <= at - self.window:
            window.popleft()
        return window
