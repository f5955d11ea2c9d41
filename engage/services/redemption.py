"""Redeeming rewards: spend points oldest-first, hand out a unique coupon code (or the next code
of a partner's pool), take a unit off a limited reward's stock."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from engage import flows
from engage.errors import Conflict, NotFound, Unprocessable
from engage.events import RewardRedeemed
from engage.loyalty import codes, lots, reward_limits, rewards
from engage.loyalty.tiers import TierRule
from engage.models import Member, Redemption, Reward, RewardCode
from engage.store import causes, idempotency, ledger, members, reward_codes, transaction
from engage.store.program import changed, load, reward_rule
from engage.vocabulary import LedgerKind

log = logging.getLogger(__name__)


def _refuse(reward: Reward, cost: int, tier: TierRule, available: int, category: str | None,
            now: datetime) -> None:
    """422 for what the member lacks (points, tier, dates, category); 409 when nothing is left.
    The reward is read from its row, not the cached rules: its stock changes with every redemption."""
    why_not = (rewards.refusal(replace(reward_rule(reward, None), cost=cost), tier, available, now)
               or reward_limits.category_refusal(reward.name, reward.category, category))
    if isinstance(why_not, rewards.SoldOut):
        raise Conflict(why_not)
    if why_not:
        raise Unprocessable(why_not, {"reward_id": [why_not]})


def _take(session: Session, reward: Reward) -> tuple[RewardCode | None, int | None]:
    """Claim a partner code and a unit of stock before anything is written, so a refusal debits
    nothing: (the code, the stock left)."""
    code = reward_codes.take_code(session, reward.id) if reward.partner else None
    if reward.partner and code is None:
        raise Conflict(f"{reward.name} is sold out: every partner code has been handed out")
    stock = reward_codes.take_stock(session, reward.id) if reward.stock is not None else None
    if reward.stock is not None and stock is None:
        raise Conflict(f"{reward.name} is sold out")
    return code, stock


def _report_pool(session: Session, reward: Reward, code: RewardCode) -> str | None:
    """Tell admins (log line, without the member) when this code took the pool under its
    threshold or emptied it. Counted from the code's place in the pool, so exactly one claim
    reports each crossing even when concurrent claims cannot see each other."""
    after = reward_codes.codes_after(session, reward.id, code.id)
    notice = reward_limits.pool_notice(after, reward.low_codes_threshold)
    if notice is not None:
        log.warning("reward %s (%s): partner codes %s: %d left, threshold %s", reward.id, reward.partner,
                    notice, after, reward.low_codes_threshold)
    return notice


def _redeem_locked(session: Session, member, reward_id: int, now: datetime, category: str | None = None,
                   cost: int | None = None) -> dict:
    """Redeem for the reward's cost, or `cost` (a personalised offer's price, services.offers)."""
    view = load(session)
    reward = session.get(Reward, reward_id, populate_existing=True)
    if reward is None:
        raise NotFound(f"reward {reward_id} not found")
    cost = reward.cost if cost is None else cost
    available = lots.available_points(ledger.open_lots(session, member.id), now)
    _refuse(reward, cost, view.tier(member.tier_id), available, category, now)
    code, stock = _take(session, reward)
    coupon = code.code if code else None if reward.kind == "donation" else codes.coupon_code()
    redemption = Redemption(member_id=member.id, reward_id=reward.id, kind=reward.kind, points=cost,
                            value=reward.value, created_at=now, coupon_code=coupon)
    session.add(redemption)
    session.flush()
    if reward.kind == "donation":  # counted toward the cause's running total (GET /causes)
        causes.give_donation(session, view.program.charity_name, member.id, redemption.id, reward.value,
                             reward.cost, now)
    notice = None
    if code is not None:
        reward_codes.hand_out(code, redemption.id, now)
        notice = _report_pool(session, reward, code)
    if stock == 0 or notice == "empty":
        changed(session)  # this process stops offering it at once; others within the cache's ttl
    if cost > 0:
        kind = LedgerKind.DONATE if reward.kind == "donation" else LedgerKind.REDEEM
        ledger.debit_fifo(session, member.id, cost, kind=kind, reason=reward.name,
                          source=f"redemption:{redemption.id}", now=now)
    flows.react(session, [RewardRedeemed(member.id, redemption.id, reward.id)], now)
    return {
        "id": redemption.id, "reward_id": reward.id, "reward": reward.name, "kind": reward.kind,
        "coupon_code": redemption.coupon_code, "partner": reward.partner, "points_spent": cost,
        "value": f"{Decimal(reward.value):.2f}" if reward.value is not None else None,
        "points": ledger.balance(session, member.id), "created_at": now.isoformat(),
    }


def redeem(session: Session, member_id: int, reward_id: int, key: str | None, now: datetime,
           category: str | None = None) -> dict:
    """Redeem one reward; refuses (422) when points, tier, dates or category fall short, however
    many requests race, and (409) when its stock or partner codes are gone."""
    request = {"reward_id": reward_id} if category is None else {"reward_id": reward_id, "category": category}
    return keyed(session, "redemptions", key, member_id, request, now,
                 lambda member: _redeem_locked(session, member, reward_id, now, category))


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


def redeem_cheapest(session: Session, member_id: int, now: datetime) -> dict:
    """REDEEM by text: the cheapest paid reward the member can afford; 422 with the reason if none."""
    with transaction(session):
        member = members.lock(session, member_id)
        view = load(session)
        available = lots.available_points(ledger.open_lots(session, member.id), now)
        choice = rewards.cheapest_paid(view.rewards, view.tier(member.tier_id), available, now)
        if choice is None:
            paid = [r for r in view.rewards if r.cost > 0 and r.kind != "donation" and r.active]
            cheapest = min((r.cost for r in paid), default=0)
            raise Unprocessable("not enough points for any reward",
                                {"shortfall": [str(max(0, cheapest - available))]})
        return _redeem_locked(session, member, choice.id, now)
