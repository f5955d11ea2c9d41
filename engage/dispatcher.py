"""The dispatcher: claim due messages, send each through its channel, record the results.

It is the only code that calls a provider. Several threads (and processes) can run it at once.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from datetime import datetime

from engage import vocabulary
from engage.config import Config
from engage.db import Database
from engage.outbox.ports import Channel
from engage.outbox.ratelimit import RateLimiter, SharedRateLimiter
from engage.services.claims import Claimed, claim
from engage.services.send_results import Outcome, record, settle_stale

log = logging.getLogger(__name__)


class Dispatcher:
    """Drains the outbox through the channels, within each sender's rate."""

    def __init__(self, database: Database, channels: dict[str, Channel], config: Config,
                 clock: Callable[[], datetime], batch_size: int = 100, rng: random.Random | None = None):
        self.database, self.channels, self.config, self.clock = database, channels, config, clock
        self.batch_size, self.rng = batch_size, rng
        self.limiters = {name: self._limiter(name) for name in channels}

    def _limiter(self, channel: str):
        """Shared across processes on PostgreSQL (many workers, one sender); per process on SQLite."""
        rate = self.config.send_rate_per_second
        if not self.database.is_postgres:
            return RateLimiter(rate)
        sender = (self.config.twilio_from_number or self.config.twilio_messaging_service_sid
                  if channel == vocabulary.Channel.SMS else self.config.sendgrid_from_email) or "console"
        return SharedRateLimiter(self.database.engine, f"{channel}:{sender}", rate)

    def _send(self, claimed: Claimed) -> Outcome:
        channel = self.channels[claimed.message.channel]
        self.limiters[claimed.message.channel].acquire()
        return Outcome(claimed, channel.send(claimed.message))

    def run_batch(self) -> int:
        """Claim one batch, send it, record it. Returns how many messages were attempted."""
        with self.database.session() as session:
            batch = claim(session, self.batch_size, self.clock(), self.config.public_url)
            outcomes = [self._send(item) for item in batch]
            record(session, outcomes, self.clock(), self.config.max_attempts,
                   self.config.retry_base_seconds, self.rng)
        return len(batch)

    def run_once(self) -> int:
        """Send everything due now (the `engage jobs run outbox` job). Returns messages attempted."""
        total = 0
        while (sent := self.run_batch()) > 0:
            total += sent
        with self.database.session() as session:
            settle_stale(session, self.clock(), self.config.unknown_after_seconds)
        return total

    def run_forever(self, stop: threading.Event, threads: int = 2, idle_seconds: float = 1.0) -> None:
        """Keep draining with `threads` workers until `stop` is set."""
        workers = [threading.Thread(target=self._loop, args=(stop, idle_seconds), daemon=True,
                                    name=f"dispatcher-{n}") for n in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    def _loop(self, stop: threading.Event, idle_seconds: float) -> None:
        while not stop.is_set():
            try:
                if self.run_batch() == 0:
                    stop.wait(idle_seconds)
            except Exception:  # a bad batch must not kill the dispatcher; its rows settle later
                log.exception("dispatcher batch failed")
                stop.wait(idle_seconds)
