"""Redeeming rewards: spend points oldest-first, hand out a unique coupon code."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from engage import flows
from engage.errors import NotFound, Unprocessable
from engage.events import RewardRedeemed
from engage.loyalty import codes, lots, rewards
from engage.models import Member, Redemption, Reward
from engage.store import idempotency, ledger, members, transaction
from engage.store.program import load
from engage.vocabulary import LedgerKind


def _redeem_locked(session: Session, member, reward_id: int, now: datetime) -> dict:
    view = load(session)
    reward = session.get(Reward, reward_id)
    if reward is None:
        raise NotFound(f"reward {reward_id} not found")
    available = lots.available_points(ledger.open_lots(session, member.id), now)
    why_not = rewards.refusal(view.reward(reward.id), view.tier(member.tier_id), available)
    if why_not:
        raise Unprocessable(why_not, {"reward_id": [why_not]})
    return take(session, member, reward, reward.cost, now)


def take(session: Session, member, reward: Reward, cost: int, now: datetime) -> dict:
    """Write the redemption of a reward the member may have for `cost` points (its catalog price,
    or an offer's): the row, its coupon code, the FIFO debit and the flows' reactions."""
    redemption = Redemption(member_id=member.id, reward_id=reward.id, kind=reward.kind, points=cost,
                            value=reward.value, created_at=now,
                            coupon_code=None if reward.kind == "donation" else codes.coupon_code())
    session.add(redemption)
    session.flush()
    if cost > 0:
        kind = LedgerKind.DONATE if reward.kind == "donation" else LedgerKind.REDEEM
        ledger.debit_fifo(session, member.id, cost, kind=kind, reason=reward.name,
                          source=f"redemption:{redemption.id}", now=now)
    flows.react(session, [RewardRedeemed(member.id, redemption.id, reward.id)], now)
    return {
        "id": redemption.id, "reward_id": reward.id, "reward": reward.name, "kind": reward.kind,
        "coupon_code": redemption.coupon_code, "points_spent": cost,
        "value": f"{Decimal(reward.value):.2f}" if reward.value is not None else None,
        "points": ledger.balance(session, member.id), "created_at": now.isoformat(),
    }


def keyed(session: Session, scope: str, key: str | None, member_id: int, body: dict, now: datetime,
          redeem_locked: Callable[[Member], dict]) -> dict:
    """One transaction: replay the key's answer, or lock the member, redeem and store the answer."""
    with transaction(session):
        replay = idempotency.claim(session, scope, key, member_id, body, now)
        if replay is not None:
            return replay
        answer = redeem_locked(members.lock(session, member_id))
        idempotency.store(session, scope, key, answer, 201)
        return answer


def redeem(session: Session, member_id: int, reward_id: int, key: str | None, now: datetime) -> dict:
    """Redeem one reward; refuses (422) when points or tier fall short, however many requests race."""
    return keyed(session, "redemptions", key, member_id, {"reward_id": reward_id}, now,
                 lambda member: _redeem_locked(session, member, reward_id, now))


def redeem_cheapest(session: Session, member_id: int, now: datetime) -> dict:
    """REDEEM by text: the cheapest paid reward the member can afford; 422 with the reason if none."""
    with transaction(session):
        member = members.lock(session, member_id)
        view = load(session)
        available = lots.available_points(ledger.open_lots(session, member.id), now)
        choice = rewards.cheapest_paid(view.rewards, view.tier(member.tier_id), available)
        if choice is None:
            paid = [r for r in view.rewards if r.cost > 0 and r.kind != "donation" and r.active]
            cheapest = min((r.cost for r in paid), default=0)
            raise Unprocessable("not enough points for any reward",
                                {"shortfall": [str(max(0, cheapest - available))]})
        return _redeem_locked(session, member, choice.id, now)
