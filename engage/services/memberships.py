"""Paid memberships: buying a paid tier for a period, listing, cancelling or refunding, and the
daily sweep's record of those that lapsed (the sweep's tier re-evaluation then falls back)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engage import flows
from engage.errors import Conflict, NotFound, Unprocessable
from engage.events import TierUpgraded
from engage.loyalty import memberships as rules
from engage.loyalty import tiers as tier_rules
from engage.loyalty.idempotency import decide, fingerprint
from engage.models import Member, Membership, Tier
from engage.services import audit
from engage.store import ledger, members, transaction
from engage.store.memberships import periods_of
from engage.store.program import ProgramView, load

SWEEP = audit.Actor("sweep")


def membership_json(row: Membership, view: ProgramView) -> dict:
    return {"id": row.id, "member_id": row.member_id, "tier": view.tier(row.tier_id).name,
            "payment_reference": row.payment_reference, "starts_at": row.starts_at, "ends_at": row.ends_at,
            "price": f"{row.price:.2f}", "currency": row.currency, "status": row.status,
            "cancelled_at": row.cancelled_at, "lapsed_at": row.lapsed_at}


def _paid_tier(session: Session, name: str) -> Tier:
    tier = session.scalar(select(Tier).where(Tier.name == name))
    if tier is None:
        raise Unprocessable(f"no tier named {name!r}", {"tier": ["Unknown tier."]})
    if not tier.paid:
        raise Unprocessable(f"{name} is earned with points, not bought; mark it paid first",
                            {"tier": ["Not a paid tier."]})
    return tier


def _aware(moment: datetime | None, view: ProgramView) -> datetime | None:
    """A time without an offset is the shop's wall clock: the program's time zone."""
    return moment.replace(tzinfo=view.zone) if moment is not None and moment.tzinfo is None else moment


def _period(data: dict, start: datetime, view: ProgramView) -> tuple[datetime, datetime]:
    if ("months" in data) == ("ends_at" in data):
        raise Unprocessable("give the period as `months` or as `ends_at` (one of them)",
                            {"months": ["Give months or ends_at, not both."]})
    start = _aware(data.get("starts_at"), view) or start
    end = _aware(data.get("ends_at"), view) or rules.add_months(start, data["months"])
    if end <= start:
        raise Unprocessable("the membership must end after it starts", {"ends_at": ["Must be after starts_at."]})
    return start, end


def _replay(session: Session, member_id: int, reference: str, print_: str, view: ProgramView) -> dict | None:
    row = session.scalar(select(Membership).where(Membership.payment_reference == reference))
    if row is None:
        return None
    if row.member_id != member_id or decide(row.fingerprint, print_) == "conflict":
        raise Conflict(f"payment reference {reference!r} already bought another membership")
    return membership_json(row, view)


def buy(session: Session, member_id: int, data: dict, actor: audit.Actor, now: datetime) -> dict:
    """Record a membership paid in the shop; the same payment reference again answers the same."""
    print_ = fingerprint("memberships", member_id, {name: str(value) for name, value in data.items()})
    try:
        with transaction(session):
            view = load(session)
            replay = _replay(session, member_id, data["payment_reference"], print_, view)
            if replay is not None:
                return replay
            member = members.lock(session, member_id)
            tier = _paid_tier(session, data["tier"])
            currency = (data.get("currency") or view.program.currency).upper()
            periods = periods_of(session, member.id)
            starts_at, ends_at = _period(data, rules.renewal_start(periods, tier.id, now), view)
            row = Membership(member_id=member.id, tier_id=tier.id, payment_reference=data["payment_reference"],
                             fingerprint=print_, starts_at=starts_at, ends_at=ends_at, price=data["price"],
                             currency=currency, status=rules.ACTIVE, created_at=now)
            session.add(row)
            session.flush()
            answer = membership_json(row, view)
            _hold(session, view, member, periods + [rules.Period(tier.id, starts_at, ends_at)], now)
            audit.add(session, actor, "membership.buy", "membership", str(row.id), None, answer, now)
            return answer
    except IntegrityError:  # the same payment reference bought concurrently: answer as its replay
        with transaction(session):
            replay = _replay(session, member_id, data["payment_reference"], print_, load(session))
        if replay is None:
            raise
        return replay


def _hold(session: Session, view: ProgramView, member: Member, periods: list[rules.Period], now: datetime) -> None:
    """Lift the member to a paid tier active now (at once, like an earned upgrade)."""
    current = view.tier(member.tier_id)
    held = rules.effective_tier(current, periods, view.tiers, now)
    if held.id != current.id:
        member.tier_id = held.id
        flows.react(session, [TierUpgraded(member.id, current.id, held.id)], now)


def list_for(session: Session, member_id: int) -> list[dict]:
    """The member's memberships, newest first."""
    members.known(session, member_id)
    view = load(session)
    rows = session.scalars(select(Membership).where(Membership.member_id == member_id)
                           .order_by(Membership.starts_at.desc(), Membership.id.desc()))
    return [membership_json(row, view) for row in rows]


def cancel(session: Session, member_id: int, membership_id: int, refund: bool, actor: audit.Actor,
           now: datetime) -> dict:
    """End a membership now (cancelled, or refunded by the shop); the member falls back at once
    to the higher of their earned tier and any other membership active now."""
    with transaction(session):
        member = members.lock(session, member_id)
        row = session.get(Membership, membership_id)
        if row is None or row.member_id != member_id:
            raise NotFound(f"membership {membership_id} not found")
        view = load(session)
        before = membership_json(row, view)
        if row.status != rules.ACTIVE:
            raise Conflict(f"membership {membership_id} is already {row.status}")
        row.status, row.cancelled_at = (rules.REFUNDED if refund else rules.CANCELLED), now
        session.flush()
        answer = membership_json(row, view)
        current = view.tier(member.tier_id)
        if current.id == row.tier_id:
            member.tier_id = _fallback(session, view, member.id, now).id
        audit.add(session, actor, "membership.refund" if refund else "membership.cancel", "membership",
                  str(row.id), before, {**answer, "tier_after": view.tier(member.tier_id).name}, now)
        return answer


def _fallback(session: Session, view: ProgramView, member_id: int, now: datetime) -> tier_rules.TierRule:
    since = tier_rules.qualifying_since(now, view.rules.qualifying_window_days)
    earned = tier_rules.tier_for(ledger.qualifying(session, member_id, since), view.tiers)
    return rules.effective_tier(earned, periods_of(session, member_id), view.tiers, now)


def record_lapses(session: Session, now: datetime) -> int:
    """Mark memberships whose period is over as lapsed, each with an audit entry; the tier
    re-evaluation that follows in the same sweep moves their members back. Returns how many."""
    with transaction(session):
        view = load(session)
        rows = list(session.scalars(select(Membership).where(
            Membership.status == rules.ACTIVE, Membership.lapsed_at.is_(None), Membership.ends_at <= now)))
        for row in rows:
            row.lapsed_at = now
            audit.add(session, SWEEP, "membership.lapse", "membership", str(row.id), None,
                      membership_json(row, view), now)
        return len(rows)
