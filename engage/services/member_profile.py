"""Finding a member the way a marketer would (name, email, phone in any format, external id,
referral code) and everything the console shows about one: points, tier and progress, expiring
points, the ledger, the conversation thread, plans and consent history."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from engage.loyalty import lots, tiers
from engage.messaging.phones import InvalidPhoneNumber, normalize_phone
from engage.models import LedgerEntry, Member, Message
from engage.services import member_plans
from engage.store import ledger, transaction
from engage.store.members import get, summary
from engage.store.program import ProgramView, load

MAX_QUERY_CHARS = 120
LEDGER_ROWS = 50
THREAD_ROWS = 100


def _exact(view: ProgramView, query: str) -> list:
    """Conditions that each hit a unique or indexed column."""
    conditions = [Member.external_id == query, Member.referral_code == query.upper()]
    if "@" in query:
        # Emails are stored as given; any case finds them (ix_members_email_lower, migration 0012).
        conditions.append(func.lower(Member.email) == query.lower())
    try:
        conditions.append(Member.phone == normalize_phone(query, view.settings.get("phone_region")))
    except (InvalidPhoneNumber, ValueError):
        pass
    return conditions


def _escaped(text: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", text.lower())


def _like(text: str) -> str:
    return _escaped(text) + "%"


def _starts(column, prefix: str):
    """The lower-cased column starts with `prefix` (lower-cased, escaped): LIKE on lower(column),
    which the name indexes of migration 0012 serve; ILIKE could use no index."""
    return func.lower(column).like(prefix, escape="\\")


def _by_name(query: str) -> list:
    """First or last name starting with the text; "ana pop" is first name Ana…, last name Pop…."""
    words = query.split()
    if not words or any(ch.isdigit() or ch == "@" for ch in query):
        return []
    if len(words) == 1:
        prefix = _like(words[0])
        return [_starts(Member.first_name, prefix), _starts(Member.last_name, prefix)]
    first, last = _like(words[0]), _like(" ".join(words[1:]))
    return [_starts(Member.first_name, first) & _starts(Member.last_name, last)]


def search(session: Session, query: str, limit: int = 25) -> list[Member]:
    """Members matching the query exactly (ids, codes, email, phone), then by name; erased ones never."""
    query = query.replace("\x00", "").strip()[:MAX_QUERY_CHARS]  # PostgreSQL text cannot hold NUL
    if not query:
        return []
    with transaction(session):
        view = load(session)
        live = Member.erased_at.is_(None)
        found = list(session.scalars(select(Member).where(or_(*_exact(view, query)), live)
                                     .order_by(Member.id).limit(limit)))
        names = _by_name(query)
        if names and len(found) < limit:
            seen = [member.id for member in found] or [0]
            found += session.scalars(select(Member).where(or_(*names), live, Member.id.not_in(seen))
                                     .order_by(Member.id).limit(limit - len(found)))
        return found


def listing(tier_id: int | None = None) -> Select:
    """Every member not erased, of one tier or all, for the caller to page through newest first
    (keyset on the id: a deep page costs what the first one does; ix_members_tier, migration 0012)."""
    query = select(Member).where(Member.erased_at.is_(None))
    return query if tier_id is None else query.where(Member.tier_id == tier_id)


def tier_names(session: Session) -> dict[int, str]:
    """{tier id: name}, lowest tier first."""
    with transaction(session):
        return {tier.id: tier.name for tier in tiers.ordered(load(session).tiers)}


def _progress(view: ProgramView, member: Member, points: dict) -> int | None:
    """Percent of the way from the member's tier to the next (None at the top)."""
    if points["next_tier"] is None:
        return None
    start = view.tier(member.tier_id).threshold
    goal = points["qualifying_points"] + points["next_tier"]["points_needed"]
    return max(0, min(100, round(100 * (points["qualifying_points"] - start) / max(1, goal - start))))


def _expiring(open_lots: list[lots.OpenLot], now: datetime, view: ProgramView) -> list[tuple]:
    """(local date, points) of each coming expiry, soonest first."""
    by_day: dict = {}
    for lot in lots.usable(open_lots, now):
        day = lot.expires_at.astimezone(view.zone).date()
        by_day[day] = by_day.get(day, 0) + lot.remaining
    return list(by_day.items())


def profile(session: Session, member_id: int, now: datetime) -> dict:
    """The member, their points (as the API shows them), progress to the next tier, coming
    expiries, newest ledger entries, the newest messages in and out (oldest first), what Engage
    plans to send them next and their consent history (member_plans)."""
    with transaction(session):
        view = load(session)
        member = get(session, member_id)
        open_lots = ledger.open_lots(session, member.id)
        points = summary(session, member, now, view, open_lots=open_lots)
        entries = list(session.scalars(select(LedgerEntry).where(LedgerEntry.member_id == member.id)
                                       .order_by(LedgerEntry.id.desc()).limit(LEDGER_ROWS)))
        thread = list(session.scalars(select(Message).where(Message.member_id == member.id)
                                      .order_by(Message.id.desc()).limit(THREAD_ROWS)))
        return {"member": member, "points": points, "progress": _progress(view, member, points),
                "expiring": _expiring(open_lots, now, view), "ledger": entries, "thread": thread[::-1],
                "tier_names": [tier.name for tier in tiers.ordered(view.tiers)],
                **member_plans.plans(session, member, view, now, open_lots)}
