"""redemption_reminder: when earning lifts the balance to a reward the member could not afford
before (not at enrolment); again at most every 30 days while unredeemed (daily sweep)."""

from __future__ import annotations

from sqlalchemy import select

from engage.events import PointsEarned
from engage.flows.compose import queue_flow
from engage.flows.registry import on, skip_reason_of
from engage.loyalty import lots, rewards
from engage.models import Redemption
from engage.store import ledger
from engage.store.program import load


@on(PointsEarned)
def remind_on_earning(session, event: PointsEarned, now) -> None:
    view = load(session)
    reward = rewards.newly_affordable(view.rewards, view.tier(event.tier_id), event.balance_before,
                                      event.balance_after, now)
    if reward is None:
        return
    queue_flow(session, event.member_id, "redemption_reminder", now,
               dedupe_key=f"redemption_reminder:{event.member_id}:{event.source}",
               extra={"reward": {"id": reward.id, "name": reward.name, "cost": reward.cost}},
               data={"reward_id": reward.id}, view=view)


@skip_reason_of("redemption_reminder")
def reward_gone_reason(session, message, member, now) -> str | None:
    """Why not to send: the member redeemed since, or can no longer redeem the reward; else None."""
    redeemed = session.scalar(select(Redemption.id).where(
        Redemption.member_id == member.id, Redemption.created_at >= message.created_at).limit(1))
    if redeemed:
        return "member redeemed a reward after this reminder was written"
    view = load(session)
    reward = view.reward(message.data["reward_id"]) if message.data.get("reward_id") else None
    available = lots.available_points(ledger.open_lots(session, member.id), now)
    if reward is not None and rewards.refusal(reward, view.tier(member.tier_id), available, now):
        return f"member can no longer redeem {reward.name}"
    return None
