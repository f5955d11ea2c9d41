"""Sender rate limits: a token bucket per process (SQLite, tests) or shared in PostgreSQL."""

from __future__ import annotations

import threading
import time

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Engine

from engage.models import SenderBudget


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


# The refill is measured with clock_timestamp() read once the row is locked, not now(): now() is
# when the transaction began, and a take that began first can get the lock second, after the
# other take wrote a later updated_at. Measured that way the elapsed time came out negative, so
# `available` and then the grant did, and a negative grant let a dispatcher send without limit.
# GREATEST(0, …) also covers a clock stepped back.
TAKE = text("""
WITH locked AS (
    SELECT sender, tokens, updated_at, clock_timestamp() AS at
    FROM sender_budgets WHERE sender = :sender FOR UPDATE
), current AS (
    SELECT sender, at, GREATEST(0, LEAST(:capacity, tokens + EXTRACT(EPOCH FROM (at - updated_at)) * :rate))
        AS available
    FROM locked
), grant_ AS (
    SELECT sender, at, available, LEAST(:wanted, FLOOR(available))::int AS granted FROM current
)
UPDATE sender_budgets SET tokens = grant_.available - grant_.granted, updated_at = grant_.at
FROM grant_ WHERE sender_budgets.sender = grant_.sender
RETURNING grant_.granted
""")


class SharedRateLimiter:
    """One sender's rate across every dispatcher process, kept in PostgreSQL (`sender_budgets`).

    Tokens are fetched in small chunks, so a busy sender costs one short UPDATE per chunk, and
    the server's clock measures refill, so processes on hosts with skewed clocks still agree.
    """

    def __init__(self, engine: Engine, sender: str, rate: float, sleep=time.sleep):
        self.engine, self.sender, self.rate, self.sleep = engine, sender[:40], rate, sleep
        self.capacity = max(1.0, rate)
        self.chunk = max(1, min(100, int(rate // 10) or 1))
        self.local = 0
        self.lock = threading.Lock()
        with engine.begin() as connection:
            connection.execute(insert(SenderBudget).values(sender=self.sender, tokens=self.capacity)
                               .values(updated_at=text("now()"))
                               .on_conflict_do_nothing(index_elements=["sender"]))

    def _take(self) -> int:
        with self.engine.begin() as connection:
            granted = connection.execute(TAKE, {"capacity": self.capacity, "rate": self.rate,
                                                "sender": self.sender, "wanted": self.chunk}).scalar()
        return max(0, int(granted or 0))

    def acquire(self) -> None:
        """Block until this process may send one more message for the sender."""
        with self.lock:
            while self.local == 0:
                self.local = self._take()
                if self.local == 0:
                    self.sleep(max(0.005, 1 / self.rate))
            self.local -= 1
