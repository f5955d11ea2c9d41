"""membership_renewal: daily, `notice_days` (7) before a paid membership lapses, once per lapse
date; a renewal bought in time moves the date, so the waiting reminder is skipped."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engage.flows.compose import queue_flow
from engage.flows.registry import skip_reason_of
from engage.loyalty import memberships as rules
from engage.models import Member, Membership
from engage.store import memberships, transaction
from engage.store.program import live_flow_config, load


def dedupe_key(member_id: int, tier_id: int, ends_on: date) -> str:
    return f"membership_renewal:{member_id}:{tier_id}:{ends_on.isoformat()}"


def remind(session: Session, as_of: date, now: datetime) -> int:
    """Queue the reminders due now: members holding a paid tier whose hold ends within the notice."""
    config = live_flow_config(session, "membership_renewal")
    if not config.enabled:
        return 0
    notice = config.params.notice_days
    queued = 0
    with transaction(session):
        view = load(session)
        candidates = session.execute(
            select(Membership.member_id, Membership.tier_id).distinct()
            .join(Member, Member.id == Membership.member_id)
            .where(Membership.status == rules.ACTIVE, Membership.ends_at > now,
                   Membership.ends_at <= now + timedelta(days=notice),
                   Member.tier_id == Membership.tier_id, Member.erased_at.is_(None)))
        for member_id, tier_id in list(candidates):
            periods = memberships.periods_of(session, member_id)
            held = memberships.held(session, view, member_id, tier_id, now, periods)
            if held is None or not rules.renewal_due(held["ends_at"], now, notice):
                continue  # renewed: the hold runs on past the notice
            queued += queue_flow(session, member_id, "membership_renewal", now,
                                 dedupe_key=dedupe_key(member_id, tier_id, held["ends_on"]),
                                 extra={"membership": _variable(held)},
                                 data={"tier_id": tier_id, "ends_at": held["ends_at"].isoformat()},
                                 view=view, config=config) is not None
    return queued


def _variable(held: dict) -> dict:
    return {name: held[name] for name in ("tier", "ends_on", "price", "currency")}


@skip_reason_of("membership_renewal")
def renewed_reason(session, message, member, now) -> str | None:
    """Why not to send: renewed (the hold now ends later), cancelled or already lapsed; else None."""
    if "tier_id" not in message.data:
        return None
    view = load(session)
    held = memberships.held(session, view, member.id, message.data["tier_id"], now)
    if held is None:
        return "the membership was cancelled or has lapsed"
    if held["ends_at"] > datetime.fromisoformat(message.data["ends_at"]):
        return "the membership was renewed"
    return None
