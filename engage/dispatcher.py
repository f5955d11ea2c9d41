"""The dispatcher: claim one due message, send it through its channel, record the result; and
reconcile the attempts whose result was ambiguous.

It is the only code that calls a provider. Several threads (and processes) can run it at once.
Each thread commits `sending` for the one message it is about to send, and records the answer in
the commit that claims its next message, so a crash (kill -9) leaves at most one message per
thread whose fate is unknown; that one is reconciled with the provider, never resent blindly.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime

from engage import vocabulary
from engage.config import Config
from engage.db import Database
from engage.outbox.ports import Channel
from engage.outbox.ratelimit import RateLimiter, SharedRateLimiter
from engage.services import reconciliation
from engage.services.claims import Claimed, claim
from engage.services.send_results import Outcome, abandon_stale, record, record_and_claim_next

log = logging.getLogger(__name__)


class Dispatcher:
    """Drains the outbox through the channels, within each sender's rate."""

    def __init__(self, database: Database, channels: dict[str, Channel], config: Config,
                 clock: Callable[[], datetime], rng: random.Random | None = None):
        self.database, self.channels, self.config, self.clock = database, channels, config, clock
        self.rng = rng
        self.limiters = {name: self._limiter(name) for name in channels}
        self._reconciling = threading.Lock()  # one reconciler per process at a time
        self._next_reconcile = 0.0  # time.monotonic() of the loop's next reconciliation

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

    def send_one(self) -> int:
        """Claim one due message, send it, record the answer. Returns 1, or 0 when nothing is due."""
        config = self.config
        with self.database.session() as session:
            claimed = claim(session, 1, self.clock(), config.public_url)
            if not claimed:
                return 0
            outcomes = [self._send(item) for item in claimed]
            record(session, outcomes, self.clock(), config.max_attempts, config.retry_base_seconds,
                   self.rng, config.reconcile_after_seconds)
        return 1

    def drain(self, stop: threading.Event | None = None, reconcile: bool = False) -> int:
        """Send until nothing is due (or `stop` is set), one message at a time, recording each
        answer in the same commit that claims the next message. Returns messages attempted.

        `reconcile`: also reconcile when due, but only with the last answer recorded first: a
        thread never holds a message `sending` while it does something else."""
        config, sent, outcome = self.config, 0, None
        with self.database.session() as session:
            try:
                while stop is None or not stop.is_set():
                    if reconcile and self._reconcile_due():
                        if outcome is not None:
                            record(session, [outcome], self.clock(), config.max_attempts,
                                   config.retry_base_seconds, self.rng, config.reconcile_after_seconds)
                            outcome = None
                        self._reconcile_if_due()
                    done, outcome = [outcome] if outcome else [], None
                    claimed = record_and_claim_next(session, done, self.clock(), config.max_attempts,
                                                    config.retry_base_seconds, self.rng,
                                                    config.reconcile_after_seconds, config.public_url)
                    if not claimed:
                        return sent
                    outcome = self._send(claimed[0])
                    sent += 1
            finally:
                if outcome is not None:  # stopped between the call and the next claim
                    record(session, [outcome], self.clock(), config.max_attempts, config.retry_base_seconds,
                           self.rng, config.reconcile_after_seconds)
        return sent

    def reconcile(self) -> dict[str, int]:
        """Ask the providers about the ambiguous attempts that are due; returns actions taken."""
        config, now = self.config, self.clock()
        with self.database.session() as session:
            # A call never outlives its timeouts (connect and read, each up to the setting): a row
            # `sending` longer than that, with room to spare, or the settling delay, lost its dispatcher.
            abandon_stale(session, now, max(config.reconcile_after_seconds, 3 * config.provider_timeout_seconds + 5))
            pending = reconciliation.due(session, now, config.public_url)
        actions: dict[str, int] = {}
        for item in pending:
            lookup = self.channels[item.message.channel].find(item.message, item.attempt_began)
            with self.database.session() as session:
                action = reconciliation.settle(session, item, lookup, self.clock(),
                                               config.reconcile_after_seconds, config.unknown_after_seconds)
            actions[action] = actions.get(action, 0) + 1
        if actions:
            log.info("reconciled ambiguous attempts: %s", actions)
        return actions

    def run_once(self) -> int:
        """Send everything due now and reconcile what is ambiguous (the `engage jobs run outbox`
        job). Returns messages attempted."""
        total = 0
        while True:
            total += self.drain()
            if not self.reconcile().get("requeue"):
                return total

    def run_forever(self, stop: threading.Event, threads: int = 2, idle_seconds: float = 1.0) -> None:
        """Keep draining with `threads` workers until `stop` is set."""
        workers = [threading.Thread(target=self._loop, args=(stop, idle_seconds), daemon=True,
                                    name=f"dispatcher-{n}") for n in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    def _reconcile_due(self) -> bool:
        return time.monotonic() >= self._next_reconcile

    def _reconcile_if_due(self) -> None:
        """Reconcile every half settling delay (at most every 30 s), in one thread of the process."""
        if not self._reconcile_due() or not self._reconciling.acquire(blocking=False):
            return
        try:
            self._next_reconcile = time.monotonic() + min(self.config.reconcile_after_seconds / 2, 30.0)
            self.reconcile()
        finally:
            self._reconciling.release()

    def _loop(self, stop: threading.Event, idle_seconds: float) -> None:
        while not stop.is_set():
            try:
                self._reconcile_if_due()
                self.drain(stop, reconcile=True)
                stop.wait(idle_seconds)  # nothing due
            except Exception:  # a failed send or record must not kill the dispatcher; its row settles later
                log.exception("dispatcher step failed")
                stop.wait(idle_seconds)
