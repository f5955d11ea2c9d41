"""Reading members' paid memberships as plain periods for the rules (engage.loyalty.memberships)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engage.loyalty import memberships as rules
from engage.models import Membership
from engage.store.program import ProgramView


def periods_of(session: Session, member_id: int) -> list[rules.Period]:
    rows = session.execute(select(Membership.tier_id, Membership.starts_at, Membership.ends_at, Membership.status)
                           .where(Membership.member_id == member_id))
    return [rules.Period(*row) for row in rows]


def held(session: Session, view: ProgramView, member_id: int, tier_id: int, now: datetime,
         periods: list[rules.Period] | None = None) -> dict | None:
    """The `membership` template variable: the paid tier `tier_id` the member holds now, until
    when (its chain's end, as a date in program time) and its latest price; None if not held."""
    periods = periods_of(session, member_id) if periods is None else periods
    lapse = rules.lapses_at(periods, tier_id, now)
    if lapse is None:
        return None
    price, currency = session.execute(
        select(Membership.price, Membership.currency)
        .where(Membership.member_id == member_id, Membership.tier_id == tier_id)
        .order_by(Membership.ends_at.desc()).limit(1)).one()
    return {"tier": view.tier(tier_id).name, "ends_on": lapse.astimezone(view.zone).date(),
            "ends_at": lapse, "price": price, "currency": currency}
