"""The dispatcher: claim a small batch of due messages, hand them one at a time to their channel,
record each result; and reconcile the attempts whose result was ambiguous.

It is the only code that calls a provider. Several threads (and processes) can run it at once.
Each thread claims up to CLAIM_BATCH messages (`sending`, not handed, under its claimant id), then
before each call commits that one message handed together with the previous message's answer: one
commit per message (on PostgreSQL one statement, alone in its round trip). A crash (kill -9) leaves at most one handed message per thread whose fate is
unknown (reconciled with the provider, never resent blindly); its unhanded rows were never sent,
and go straight back to the queue as soon as another dispatcher sees the claimant gone.
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
from engage.services.claims import Claimant, Claimed, claim, release, take_back_unhanded
from engage.services.send_results import (
    Outcome,
    abandon_stale,
    record,
    record_and_hand,
    record_and_hand_at_once,
)
from engage.store import transaction

log = logging.getLogger(__name__)

# Messages a thread claims at once: the claim's checks (member, suppressions, flow rules) are made
# once per batch. Bounded by a second's worth of the sender rate, so a rate-limited batch is
# handed out long before its rows could look abandoned. 128 rather than 32 takes the claim from
# about 250 to 150 µs of CPU per message (bench/RESULTS.md); a row taken back from a slow batch
# is skipped at its hand-off, never sent twice.
CLAIM_BATCH = 128


class Dispatcher:
    """Drains the outbox through the channels, within each sender's rate."""

    def __init__(self, database: Database, channels: dict[str, Channel], config: Config,
                 clock: Callable[[], datetime], rng: random.Random | None = None):
        self.database, self.channels, self.config, self.clock = database, channels, config, clock
        self.rng = rng
        self.limiters = {name: self._limiter(name) for name in channels}
        self._reconciling = threading.Lock()  # one reconciler per process at a time
        self._next_reconcile = 0.0  # time.monotonic() of the loop's next reconciliation
        self.batch_size = max(1, min(CLAIM_BATCH, int(config.send_rate_per_second)))
        self._started = threading.Lock()
        self._taken_back = database.is_postgres  # PostgreSQL takes orphans back in every claim
        # One statement per message between claims (PostgreSQL), unless the plain steps are asked
        # for: tests/integration/test_fast_paths.py runs both and compares.
        self._at_once = database.is_postgres and not config.plain_paths

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

    def drain(self, stop: threading.Event | None = None, reconcile: bool = False,
              claimant: Claimant | None = None) -> int:
        """Send until nothing is due (or `stop` is set), recording each answer in the commit that
        hands over the next message. Returns messages attempted.

        `claimant`: the thread's identity, kept across calls (run_forever); without one, a claimant
        lives for this call. `reconcile`: also reconcile when due, but only with the last answer
        recorded and the unhanded rows released first: a thread never holds rows while it does
        something else."""
        self._take_back_at_start()
        own = claimant is None
        claimant = claimant or Claimant(self.database)
        sent, outcome, batch = 0, None, []
        try:
            with self.database.session() as session:
                try:
                    while stop is None or not stop.is_set():
                        if reconcile and self._reconcile_due():
                            self._put_down(session, outcome, batch, claimant)
                            outcome = None
                            self._reconcile_if_due()
                        done, outcome = outcome, None
                        claimed = self._hand_next(session, done, batch, claimant)
                        if claimed is None:
                            return sent
                        outcome = self._send(claimed)
                        sent += 1
                finally:  # stopped (or failed) between calls: the answer in hand, the rest back
                    self._put_down(session, outcome, batch, claimant)
        finally:
            if own:
                claimant.close()
        return sent

    def _hand_next(self, session, outcome: Outcome | None, batch: list[Claimed],
                   claimant: Claimant) -> Claimed | None:
        """Record `outcome` and hand over the next message (claiming a batch when none is left).

        PostgreSQL, within a batch, after a success: one statement on the claimant's connection
        (send_results.record_and_hand_at_once). Otherwise, and with plain paths, the plain steps
        in the session."""
        if self._at_once and claimant.connection is not None and (outcome is None or outcome.result.ok):
            while batch:
                claimed = batch.pop(0)
                handed = record_and_hand_at_once(claimant.connection, outcome, claimed, claimant.id, self.clock())
                outcome = None  # recorded, whether or not the row was still ours
                if handed:
                    return claimed
        config = self.config
        return record_and_hand(session, [outcome] if outcome else [], batch, claimant.id, self.clock(),
                               config.max_attempts, config.retry_base_seconds, self.rng,
                               config.reconcile_after_seconds, config.public_url, self.batch_size)

    def _put_down(self, session, outcome: Outcome | None, batch: list[Claimed], claimant: Claimant) -> None:
        """Record the answer in hand and put the thread's unhanded rows back in the queue (`batch`
        may not name them all: a claim whose hand-off failed left its rows claimed)."""
        config = self.config
        if outcome is not None:
            record(session, [outcome], self.clock(), config.max_attempts, config.retry_base_seconds,
                   self.rng, config.reconcile_after_seconds)
        release(session, claimant.id, self.clock())
        batch.clear()

    def _take_back_at_start(self) -> None:
        """SQLite: before this process's first claim, every unhanded row is an orphan of a process
        that stopped (one process at a time uses the database); requeue them."""
        if self._taken_back:
            return
        with self._started:
            if not self._taken_back:
                with self.database.session() as session, transaction(session):
                    take_back_unhanded(session, self.clock())
                self._taken_back = True

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
        claimant: Claimant | None = None
        try:
            while not stop.is_set():
                try:
                    claimant = claimant or Claimant(self.database)
                    self._reconcile_if_due()
                    self.drain(stop, reconcile=True, claimant=claimant)
                    stop.wait(idle_seconds)  # nothing due
                except Exception:  # a failed send or record must not kill the dispatcher; its row settles later
                    log.exception("dispatcher step failed")
                    if claimant is not None:  # its lock connection may be what failed: take a new one
                        claimant.close()
                        claimant = None
                    stop.wait(idle_seconds)
        finally:
            if claimant is not None:
                claimant.close()
