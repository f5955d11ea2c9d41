"""Reading members: by id or external id, locked for a balance change, and their loyalty summary."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engage.errors import NotFound
from engage.loyalty import lots, tiers
from engage.models import Member
from engage.store import ledger
from engage.store.program import ProgramView, load


def get(session: Session, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None or member.erased_at is not None:
        raise NotFound(f"member {member_id} not found")
    return member


def known(session: Session, member_id: int) -> Member:
    """The member, erased or not: what stays of an erased member (ledger, message statuses) can
    still be read."""
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound(f"member {member_id} not found")
    return member


def by_external_id(session: Session, external_id: str) -> Member:
    member = session.scalar(select(Member).where(Member.external_id == external_id))
    if member is None or member.erased_at is not None:
        raise NotFound(f"no member with external_id {external_id!r}")
    return member


def lock(session: Session, member_id: int) -> Member:
    """The member's row, locked until the transaction ends (serialises balance changes)."""
    member = session.scalar(select(Member).where(Member.id == member_id).with_for_update()
                            .execution_options(populate_existing=True))
    if member is None or member.erased_at is not None:
        raise NotFound(f"member {member_id} not found")
    return member


def summaries(session: Session, page: list[Member], now: datetime, view: ProgramView | None = None) -> dict[int, dict]:
    """`summary` of each member of a page, by id, in two statements whatever the page size.

    The balance is the one on the member rows just read (the ledger trigger keeps it)."""
    view = view or load(session)
    ids = [member.id for member in page]
    qualifying = ledger.qualifying_of(session, ids, tiers.qualifying_since(now, view.rules.qualifying_window_days))
    open_lots = ledger.open_lots_of(session, ids)
    return {member.id: summary(session, member, now, view, open_lots=open_lots[member.id],
                               totals=(int(member.points_balance), qualifying[member.id]))
            for member in page}


def summary(session: Session, member: Member, now: datetime, view: ProgramView | None = None,
            open_lots: list[lots.OpenLot] | None = None, totals: tuple[int, int] | None = None) -> dict:
    """Points, tier, qualifying points, next tier and next expiry, for the API and templates.

    `open_lots` and `totals` (balance, qualifying points) when the caller read them already.
    """
    view = view or load(session)
    if totals is None:
        totals = (ledger.balance(session, member.id), ledger.qualifying(
            session, member.id, tiers.qualifying_since(now, view.rules.qualifying_window_days)))
    balance, qualifying = totals
    upcoming = tiers.next_tier_from(view.tier(member.tier_id), qualifying, view.tiers)
    open_lots = ledger.open_lots(session, member.id) if open_lots is None else open_lots
    expiry = lots.next_expiry(open_lots, now, view.zone)
    return {
        "points": balance,
        "tier": view.tier(member.tier_id).name,
        "qualifying_points": qualifying,
        "next_tier": {"name": upcoming[0].name, "points_needed": upcoming[1]} if upcoming else None,
        "expiring": {"points": expiry[0], "date": expiry[1].isoformat()} if expiry else None,
    }

