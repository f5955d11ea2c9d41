"""Whether a member may redeem a reward, and which one is the cheapest they can have."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from engage.loyalty.tiers import TierRule


@dataclass(frozen=True)
class RewardRule:
    id: int
    name: str
    kind: str
    cost: int
    min_tier_threshold: int | None
    min_tier_name: str | None = None
    active: bool = True
    description: str | None = None
    # Other locales' texts ({locale: {"name", "description"?}}); `name` is the default locale's.
    texts: Mapping[str, Mapping[str, str]] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class RewardText:
    name: str
    description: str | None


def reward_text(reward: RewardRule, locale: str | None) -> RewardText:
    """The reward's name and description for a member's locale: its exact tag ('nl_BE'), else its
    language ('nl'), else the program default's (`name`). A translation without a description
    takes the default's description."""
    tag = (locale or "").replace("-", "_")
    for candidate in (tag, tag.split("_")[0]):
        text = reward.texts.get(candidate) if candidate else None
        if text:
            return RewardText(text["name"], text.get("description") or reward.description)
    return RewardText(reward.name, reward.description)


def refusal(reward: RewardRule, tier: TierRule, available: int) -> str | None:
    """Why the member cannot redeem this reward now, or None when they can."""
    if not reward.active:
        return f"{reward.name} is no longer available"
    if reward.min_tier_threshold is not None and tier.threshold < reward.min_tier_threshold:
        return f"{reward.name} needs {reward.min_tier_name} tier or higher; member is {tier.name}"
    if available < reward.cost:
        return f"{reward.name} costs {reward.cost} points; member has {available}"
    return None


def affordable(rewards: list[RewardRule], tier: TierRule, available: int) -> list[RewardRule]:
    """Rewards the member may redeem now, cheapest first."""
    ok = [r for r in rewards if refusal(r, tier, available) is None]
    return sorted(ok, key=lambda r: (r.cost, r.id))


def cheapest_paid(rewards: list[RewardRule], tier: TierRule, available: int) -> RewardRule | None:
    """The cheapest reward that costs points (free perks and donations are not 'bought')."""
    for reward in affordable(rewards, tier, available):
        if reward.cost > 0 and reward.kind != "donation":
            return reward
    return None


def newly_affordable(rewards: list[RewardRule], tier: TierRule, before: int, after: int) -> RewardRule | None:
    """A paid reward the member can afford now and could not afford before, if any."""
    old = {r.id for r in affordable(rewards, tier, before)}
    for reward in affordable(rewards, tier, after):
        if reward.cost > 0 and reward.kind != "donation" and reward.id not in old:
            return reward
    return None
