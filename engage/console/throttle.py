"""Sign-in attempts per key (an IP address, an email) in a sliding window, in this process."""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime


class Throttle:
    """At most a given number of attempts per key in any `window_seconds`; `now` is passed in."""

    def __init__(self, window_seconds: float = 60.0, max_keys: int = 100_000):
        self.window, self.max_keys = window_seconds, max_keys
        self.attempts: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def retry_after(self, limits: dict[str, int], now: datetime) -> int:
        """Seconds until every key is under its limit ({key: limit}), counting this attempt
        against each key only if all may go ahead now (0)."""
        at = now.timestamp()
        with self.lock:
            if len(self.attempts) > self.max_keys:  # bounded memory under a spray of addresses
                self.attempts.clear()
            windows = {key: self._window(key, at) for key in limits}
            waits = [window[0] + self.window - at for key, window in windows.items() if len(window) >= limits[key]]
            if waits:
                return max(1, int(max(waits) + 0.999))
            for window in windows.values():
                window.append(at)
            return 0

    def _window(self, key: str, at: float) -> deque[float]:
        window = self.attempts.setdefault(key, deque())
        while window and window[0] <= at - self.window:
            window.popleft()
        return window
