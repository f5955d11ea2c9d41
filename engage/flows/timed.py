"""Time-driven flows for one day: expiry warnings and redemption re-reminders.

Candidates are found with set-based queries; each chunk of members is one transaction, so a
million members never sit in one transaction or in memory at once. Dedupe keys make a rerun
for the same date queue nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engage.flows import expiry_warning
from engage.flows.compose import queue_flow
from engage.loyalty import lots, rewards
from engage.loyalty.lots import sweep_cutoff
from engage.models import Lot, Member, Message, Redemption
from engage.store import ledger, transaction
from engage.store.program import live_flow_config, load

CHUNK = 1000


def _chunks(ids: list[int], size: int = CHUNK) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def expiry_candidates(session: Session, as_of: date, horizon_days: int) -> list[int]:
    """Members with unexpired points that expire within the horizon (one indexed range scan)."""
    view = load(session)
    start = sweep_cutoff(as_of, view.zone)
    query = (select(Lot.member_id).where(Lot.remaining > 0, Lot.expires_at >= start,
                                         Lot.expires_at < start + timedelta(days=horizon_days + 1))
             .group_by(Lot.member_id).order_by(Lot.member_id))
    return list(session.scalars(query))


def send_expiry_warnings(session: Session, as_of: date, now: datetime,
                         progress: Callable[[int], None] | None = None) -> int:
    """Queue the warnings due on `as_of`. Returns how many were queued."""
    config = live_flow_config(session, "expiry_warning")
    if not config.enabled:
        return 0
    offsets = sorted(config.params.offsets_days)
    queued = 0
    for chunk in _chunks(expiry_candidates(session, as_of, max(offsets))):
        with transaction(session):
            queued += expiry_warning.warn_members(session, chunk, as_of, now, offsets, load(session))
        if progress:
            progress(len(chunk))
    return queued


def reminder_candidates(session: Session, since: datetime) -> list[int]:
    """Members whose newest reminder is older than `since` and who redeemed nothing after it."""
    last = (select(Message.member_id, func.max(Message.created_at).label("at"))
            .where(Message.flow == "redemption_reminder", Message.is_test.is_(False))
            .group_by(Message.member_id).subquery())
    redeemed_after = select(Redemption.id).where(Redemption.member_id == last.c.member_id,
                                                 Redemption.created_at >= last.c.at).exists()
    query = select(last.c.member_id).where(last.c.at < since, ~redeemed_after).order_by(last.c.member_id)
    return list(session.scalars(query))


def send_reminders(session: Session, as_of: date, now: datetime) -> int:
    """Remind again those who could redeem for 30 days and did not."""
    config = live_flow_config(session, "redemption_reminder")
    if not config.enabled:
        return 0
    since = now - timedelta(days=config.params.repeat_days)
    queued = 0
    for chunk in _chunks(reminder_candidates(session, since)):
        with transaction(session):
            view = load(session)
            for member in session.scalars(select(Member).where(Member.id.in_(chunk), Member.erased_at.is_(None))):
                available = lots.available_points(ledger.open_lots(session, member.id), now)
                reward = rewards.cheapest_paid(view.rewards, view.tier(member.tier_id), available, now)
                if reward is None:
                    continue
                queued += queue_flow(
                    session, member, "redemption_reminder", now,
                    dedupe_key=f"redemption_reminder:{member.id}:repeat:{as_of.isoformat()}",
                    extra={"reward": {"id": reward.id, "name": reward.name, "cost": reward.cost}},
                    data={"reward_id": reward.id}, view=view) is not None
    return queued
