"""The shared award step: credit points with their lot and lift the tier at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from engage.events import PointsEarned, TierUpgraded
from engage.loyalty import tiers
from engage.models import Member
from engage.store import ledger
from engage.store.program import ProgramView


@dataclass(frozen=True)
class Award:
    points: int
    events: list
    balance: int | None = None  # after the award, when it was computed


def award(session: Session, view: ProgramView, member: Member, points: int, *, reason: str,
          source: str, occurred_at: datetime, now: datetime) -> Award:
    """Credit points (with their lot) and lift the tier at once if they qualify for a higher one.

    The caller holds the member's row lock. A zero award writes nothing.
    """
    if points <= 0:
        return Award(0, [])
    before, earned = ledger.stored_totals(session, member.id)
    ledger.credit(session, member.id, points, reason=reason, source=source,
                  occurred_at=occurred_at, now=now, rules=view.rules)
    current = view.tier(member.tier_id)
    lifted = ledger.tier_after_earning(session, view.tiers, member.id, current, earned + points,
                                       tiers.qualifying_since(now, view.rules.qualifying_window_days))
    events: list = [PointsEarned(member.id, points, before, before + points, source, lifted.id)]
    if lifted.id != current.id:
        member.tier_id = lifted.id
        events.append(TierUpgraded(member.id, current.id, lifted.id))
    return Award(points, events, before + points)
