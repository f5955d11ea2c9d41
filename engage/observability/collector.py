"""Metrics counted from the database at scrape time: they hold for every process (web, workers,
CLI runs), survive restarts, and need no counter in the services.

Two readings, each cached per process however many scrapers ask:

- the queue, every 10 s: messages not settled yet (scheduled, queued, sending, unknown) by
  channel and status, those due now and how long the oldest has waited, the last sweep. Each
  statement reads an index over the unsettled rows only, so it stays cheap as history grows;
- the totals, every 5 minutes: all messages by direction, flow, channel and status, points earned
  (the members' ledger totals) and redeemed (the redemptions). These read whole tables: about
  0.6 s per million messages on a small PostgreSQL, hence the slow refresh and a longer timeout.

Points counted here cover every way points move (API, SMS keywords, email replies, the sweep).
An unreachable database gives `engage_database_up 0` and only the readings still cached.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from engage import vocabulary
from engage.db import Database
from engage.loyalty.reward_limits import pool_low
from engage.models import JobRun, Member, Message, Redemption, Reward, RewardCode

log = logging.getLogger(__name__)

QUEUE_TTL_SECONDS = 10.0
TOTALS_TTL_SECONDS = 300.0
UNSETTLED = (vocabulary.MessageStatus.SCHEDULED, vocabulary.MessageStatus.QUEUED,
             vocabulary.MessageStatus.SENDING, vocabulary.MessageStatus.UNKNOWN)


@dataclass
class Queue:
    unsettled: list[tuple[str, str, int]] = field(default_factory=list)  # channel, status, count
    due: int = 0
    oldest_due_age: float = 0.0
    sweep_seconds: float | None = None
    sweep_finished: float | None = None
    pools: list[tuple[int, int, int | None]] = field(default_factory=list)  # reward, codes free, threshold


@dataclass
class Totals:
    messages: list[tuple[str, str, str, str, int]] = field(default_factory=list)
    points_earned: int = 0
    points_redeemed: dict[str, int] = field(default_factory=dict)


def read_queue(connection: Connection, now: datetime) -> Queue:
    queue = Queue()
    queue.unsettled = [tuple(row) for row in connection.execute(
        select(Message.channel, Message.status, func.count()).where(Message.status.in_(UNSETTLED))
        .group_by(Message.channel, Message.status))]
    due, oldest = connection.execute(
        select(func.count(), func.min(Message.send_after))
        .where(Message.status == vocabulary.MessageStatus.QUEUED, Message.send_after <= now)).one()
    queue.due = due
    if oldest is not None:
        queue.oldest_due_age = max(0.0, (now - oldest).total_seconds())
    sweep = connection.execute(
        select(JobRun.started_at, JobRun.finished_at)
        .where(JobRun.name == "sweep", JobRun.finished_at.is_not(None))
        .order_by(JobRun.finished_at.desc()).limit(1)).first()
    if sweep is not None:
        queue.sweep_seconds = max(0.0, (sweep.finished_at - sweep.started_at).total_seconds())
        queue.sweep_finished = sweep.finished_at.timestamp()
    # Partner rewards' pools: one row per partner reward (few), counted over the free-codes index.
    free = func.count(RewardCode.id)
    queue.pools = [tuple(row) for row in connection.execute(
        select(Reward.id, free, Reward.low_codes_threshold)
        .outerjoin(RewardCode, (RewardCode.reward_id == Reward.id) & RewardCode.redemption_id.is_(None))
        .where(Reward.partner.is_not(None)).group_by(Reward.id, Reward.low_codes_threshold).order_by(Reward.id))]
    return queue


def read_totals(connection: Connection, _now: datetime) -> Totals:
    totals = Totals()
    # The console's phone simulator's messages are not traffic: left out.
    counts = select(Message.direction, Message.flow, Message.channel, Message.status, func.count()) \
        .where(Message.simulated.is_(False)) \
        .group_by(Message.direction, Message.flow, Message.channel, Message.status)
    totals.messages = [(d, f or "", c, s, n) for d, f, c, s, n in connection.execute(counts)]
    totals.points_earned = connection.scalar(select(func.coalesce(func.sum(Member.points_earned), 0)))
    totals.points_redeemed = dict(connection.execute(
        select(Redemption.kind, func.sum(Redemption.points)).group_by(Redemption.kind)).all())
    return totals


class _Cached:
    """One reading, refreshed at most every `ttl` seconds; the last good one is kept on failure."""

    def __init__(self, read: Callable, ttl: float, timeout: str):
        self.read, self.ttl, self.timeout = read, ttl, timeout
        self.value = None
        self.read_at = float("-inf")
        self.lock = threading.Lock()

    def get(self, database: Database, now: datetime) -> tuple[object, bool]:
        """(the reading or None, whether the database answered)."""
        with self.lock:  # one reader per process; the others wait for its answer
            if time.monotonic() - self.read_at < self.ttl:
                return self.value, True
            try:
                with database.engine.connect() as connection:
                    if database.is_postgres:  # a slow scrape must not hold the database up
                        connection.execute(text(f"SET LOCAL statement_timeout = '{self.timeout}'"))
                    self.value, self.read_at = self.read(connection, now), time.monotonic()
                return self.value, True
            except SQLAlchemyError as error:
                log.warning("metrics: database not readable: %s", str(error).strip().splitlines()[0])
                return self.value, False


class DatabaseCollector:
    """A prometheus-client collector reading the database (see the module's docstring)."""

    def __init__(self, database: Database, clock: Callable[[], datetime]):
        self.database, self.clock = database, clock
        self.queue = _Cached(read_queue, QUEUE_TTL_SECONDS, "5s")
        self.totals = _Cached(read_totals, TOTALS_TTL_SECONDS, "60s")

    def fresh(self) -> None:
        """Read both again at the next scrape (tests)."""
        self.queue.ttl = self.totals.ttl = 0

    def collect(self) -> Iterator:
        now = self.clock()
        queue, queue_ok = self.queue.get(self.database, now)
        totals, totals_ok = self.totals.get(self.database, now)
        yield _gauge("engage_database_up", "Whether the last read of the database for these metrics "
                     "worked", 1 if queue_ok and totals_ok else 0)
        if queue is not None:
            yield from queue_families(queue)
        if totals is not None:
            yield from totals_families(totals)


def queue_families(queue: Queue) -> Iterator:
    unsettled = GaugeMetricFamily("engage_outbox_messages", "Messages not settled yet (scheduled, "
                                  "queued, sending, unknown) by channel and status",
                                  labels=["channel", "status"])
    for channel, status, count in queue.unsettled:
        unsettled.add_metric([channel, status], count)
    yield unsettled
    yield _gauge("engage_messages_unknown", "Messages in `unknown`: an ambiguous send a person or the "
                 "reconciliation must settle", sum(n for _, s, n in queue.unsettled if s == "unknown"))
    yield _gauge("engage_outbox_due_messages", "Queued messages whose send time has come", queue.due)
    yield _gauge("engage_outbox_oldest_due_age_seconds", "How long the oldest due message has waited "
                 "past its send time (0 when none is due)", queue.oldest_due_age)
    available = GaugeMetricFamily("engage_reward_codes_available", "Partner codes not handed out yet, by "
                                  "reward id", labels=["reward"])
    low = GaugeMetricFamily("engage_reward_codes_low", "1 when a partner reward has fewer codes left than "
                            "its low_codes_threshold", labels=["reward"])
    for reward_id, free, threshold in queue.pools:
        available.add_metric([str(reward_id)], free)
        low.add_metric([str(reward_id)], 1 if pool_low(free, threshold) else 0)
    yield available
    yield low
    if queue.sweep_seconds is not None:
        yield _gauge("engage_sweep_last_duration_seconds", "How long the last finished daily sweep took",
                     queue.sweep_seconds)
        yield _gauge("engage_sweep_last_finished_timestamp_seconds", "When the last daily sweep finished "
                     "(Unix time)", queue.sweep_finished)


def totals_families(totals: Totals) -> Iterator:
    messages = GaugeMetricFamily("engage_messages", "Messages by direction, flow, channel and status "
                                 "(read every 5 minutes)", labels=["direction", "flow", "channel", "status"])
    for direction, flow, channel, status, count in totals.messages:
        messages.add_metric([direction, flow, channel, status], count)
    yield messages
    earned = CounterMetricFamily("engage_points_earned", "Points credited by earning, ever")
    earned.add_metric([], totals.points_earned)
    yield earned
    redeemed = CounterMetricFamily("engage_points_redeemed", "Points spent on rewards, ever, by reward kind",
                                   labels=["kind"])
    for kind, points in sorted(totals.points_redeemed.items()):
        redeemed.add_metric([kind], points or 0)
    yield redeemed


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, documentation)
    gauge.add_metric([], value)
    return gauge
