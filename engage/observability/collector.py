"""Metrics counted from the database at scrape time: they hold for every process (web, workers,
CLI runs), survive restarts, and need no counter in the services.

- messages by direction, flow, channel and status (`unknown` ones also on their own, to alert on);
- the outbox: messages due now and how long the oldest has waited;
- the last sweep: how long it took and when it finished (the worker runs it; the web reports it);
- points earned and redeemed since the start: sums kept by the ledger's totals (members) and the
  redemptions, which cover every way points move (API, SMS keywords, email replies, the sweep).

Reading is a handful of aggregate statements, at most once per TTL per process however many
scrapers ask. An unreachable database gives `engage_database_up 0` and nothing else from here.
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
from engage.models import JobRun, Member, Message, Redemption

log = logging.getLogger(__name__)

TTL_SECONDS = 10.0


@dataclass
class Reading:
    messages: list[tuple[str, str, str, str, int]] = field(default_factory=list)
    due: int = 0
    oldest_due_age: float = 0.0
    sweep_seconds: float | None = None
    sweep_finished: float | None = None
    points_earned: int = 0
    points_redeemed: dict[str, int] = field(default_factory=dict)


def read(connection: Connection, now: datetime) -> Reading:
    """Everything in one read; each statement is an aggregate over an index or a small table."""
    reading = Reading()
    counts = select(Message.direction, Message.flow, Message.channel, Message.status, func.count()) \
        .group_by(Message.direction, Message.flow, Message.channel, Message.status)
    reading.messages = [(d, f or "", c, s, n) for d, f, c, s, n in connection.execute(counts)]
    due, oldest = connection.execute(
        select(func.count(), func.min(Message.send_after))
        .where(Message.status == vocabulary.MessageStatus.QUEUED, Message.send_after <= now)).one()
    reading.due = due
    if oldest is not None:
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)
        reading.oldest_due_age = max(0.0, (now - oldest).total_seconds())
    sweep = connection.execute(
        select(JobRun.started_at, JobRun.finished_at)
        .where(JobRun.name == "sweep", JobRun.finished_at.is_not(None))
        .order_by(JobRun.finished_at.desc()).limit(1)).first()
    if sweep is not None:
        reading.sweep_seconds = max(0.0, (sweep.finished_at - sweep.started_at).total_seconds())
        reading.sweep_finished = sweep.finished_at.timestamp()
    reading.points_earned = connection.scalar(select(func.coalesce(func.sum(Member.points_earned), 0)))
    reading.points_redeemed = dict(connection.execute(
        select(Redemption.kind, func.sum(Redemption.points)).group_by(Redemption.kind)).all())
    return reading


class DatabaseCollector:
    """A prometheus-client collector reading the database (cached for TTL_SECONDS)."""

    def __init__(self, database: Database, clock: Callable[[], datetime], ttl: float = TTL_SECONDS):
        self.database, self.clock, self.ttl = database, clock, ttl
        self._lock = threading.Lock()
        self._reading: Reading | None = None
        self._read_at = float("-inf")

    def collect(self) -> Iterator:
        reading = self._current()
        up = GaugeMetricFamily("engage_database_up", "Whether the last read of the database worked")
        up.add_metric([], 0 if reading is None else 1)
        yield up
        if reading is not None:
            yield from families(reading)

    def _current(self) -> Reading | None:
        with self._lock:  # one reader per process; the others wait for its answer
            if time.monotonic() - self._read_at >= self.ttl:
                self._reading, self._read_at = self._read(), time.monotonic()
            return self._reading

    def _read(self) -> Reading | None:
        try:
            with self.database.engine.connect() as connection:
                if self.database.is_postgres:  # a slow scrape must not hold the database up
                    connection.execute(text("SET LOCAL statement_timeout = '5s'"))
                return read(connection, self.clock())
        except SQLAlchemyError as error:
            log.warning("metrics: database not readable: %s", str(error).strip().splitlines()[0])
            return None


def families(reading: Reading) -> Iterator:
    messages = GaugeMetricFamily("engage_messages", "Messages by direction, flow, channel and status",
                                 labels=["direction", "flow", "channel", "status"])
    unknown = 0
    for direction, flow, channel, status, count in reading.messages:
        messages.add_metric([direction, flow, channel, status], count)
        unknown += count if status == vocabulary.MessageStatus.UNKNOWN else 0
    yield messages
    yield _gauge("engage_messages_unknown", "Messages in `unknown`: an ambiguous send a person or "
                 "the reconciliation must settle", unknown)
    yield _gauge("engage_outbox_due_messages", "Queued messages whose send time has come", reading.due)
    yield _gauge("engage_outbox_oldest_due_age_seconds", "How long the oldest due message has "
                 "waited past its send time (0 when none is due)", reading.oldest_due_age)
    if reading.sweep_seconds is not None:
        yield _gauge("engage_sweep_last_duration_seconds", "How long the last finished daily sweep took",
                     reading.sweep_seconds)
        yield _gauge("engage_sweep_last_finished_timestamp_seconds", "When the last daily sweep finished "
                     "(Unix time)", reading.sweep_finished)
    earned = CounterMetricFamily("engage_points_earned", "Points credited by earning, ever")
    earned.add_metric([], reading.points_earned)
    yield earned
    redeemed = CounterMetricFamily("engage_points_redeemed", "Points spent on rewards, ever, by "
                                   "reward kind", labels=["kind"])
    for kind, points in sorted(reading.points_redeemed.items()):
        redeemed.add_metric([kind], points or 0)
    yield redeemed


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, documentation)
    gauge.add_metric([], value)
    return gauge
