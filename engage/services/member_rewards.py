"""The rewards one member is shown: those open to their tier today, each with whether they can
redeem it now and why not."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from engage.loyalty import lots, reward_limits, rewards
from engage.store import ledger, members, transaction
from engage.store.program import load


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _item(rule: rewards.RewardRule, locale: str | None, why_not: str | None) -> dict:
    text = rewards.reward_text(rule, locale)
    return {"id": rule.id, "name": text.name, "description": text.description, "kind": rule.kind,
            "cost": rule.cost, "partner": rule.partner, "category": rule.category,
            "ends_at": _moment(rule.calendar.ends_at), "left": rule.left,
            "redeemable": why_not is None, "reason": why_not}


def for_member(session: Session, member_id: int, now: datetime, category: str | None = None,
               redeemable_only: bool = False) -> list[dict]:
    """Rewards open to the member's tier now (early access included), cheapest first, in their
    locale; `category` also refuses rewards scoped to another one."""
    with transaction(session):
        member = members.get(session, member_id)
        view = load(session)
        available = lots.available_points(ledger.open_lots(session, member.id), now)
        shown = rewards.for_member(view.rewards, view.tier(member.tier_id), available, now)
        items = [_item(rule, member.locale,
                       why_not or reward_limits.category_refusal(rule.name, rule.category, category))
                 for rule, why_not in shown]
    return [item for item in items if item["redeemable"]] if redeemable_only else items
