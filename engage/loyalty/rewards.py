"""Whether a member may redeem a reward, and which one is the cheapest they can have."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from engage.loyalty.reward_limits import ALWAYS, Calendar, calendar_refusal, is_open, sold_out
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
    calendar: Calendar = ALWAYS
    # Units left (stock, partner codes) when the rules were read; None: unlimited. The
    # redemption's own claim decides; this only keeps sold-out rewards out of choices and lists.
    left: int | None = None
    category: str | None = None
    partner: str | None = None


class SoldOut(str):
    """A refusal that is a conflict (409), not the member's shortfall: nothing left to hand out."""


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


def refusal(reward: RewardRule, tier: TierRule, available: int, now: datetime | None = None) -> str | None:
    """Why the member cannot redeem this reward now, or None when they can. Without `now` the
    reward's calendar is not checked."""
    if not reward.active:
        return f"{reward.name} is no longer available"
    closed = calendar_refusal(reward.name, reward.calendar, tier.id, now) if now is not None else None
    if closed:
        return closed
    if reward.min_tier_threshold is not None and tier.threshold < reward.min_tier_threshold:
        return f"{reward.name} needs {reward.min_tier_name} tier or higher; member is {tier.name}"
    if sold_out(reward.left):
        return SoldOut(f"{reward.name} is sold out")
    if available < reward.cost:
        return f"{reward.name} costs {reward.cost} points; member has {available}"
    return None


def for_member(rewards: list[RewardRule], tier: TierRule, available: int,
               now: datetime) -> list[tuple[RewardRule, str | None]]:
    """The rewards a member is shown, cheapest first, each with why they cannot redeem it now
    (None: they can). Disabled ones, and those whose dates do not include `now` for the member's
    tier (early access for other tiers), are not shown."""
    shown = [r for r in rewards if r.active and is_open(r.calendar, tier.id, now)]
    return [(r, refusal(r, tier, available, now)) for r in sorted(shown, key=lambda r: (r.cost, r.id))]


def affordable(rewards: list[RewardRule], tier: TierRule, available: int,
               now: datetime | None = None) -> list[RewardRule]:
    """Rewards the member may redeem now, cheapest first."""
    ok = [r for r in rewards if refusal(r, tier, available, now) is None]
    return sorted(ok, key=lambda r: (r.cost, r.id))


def cheapest_paid(rewards: list[RewardRule], tier: TierRule, available: int,
                  now: datetime | None = None) -> RewardRule | None:
    """The cheapest reward that costs points (free perks and donations are not 'bought')."""
    for reward in affordable(rewards, tier, available, now):
        if reward.cost > 0 and reward.kind != "donation":
            return reward
    return None


def newly_affordable(rewards: list[RewardRule], tier: TierRule, before: int, after: int,
                     now: datetime | None = None) -> RewardRule | None:
    """A paid reward the member can afford now and could not afford before, if any."""
    old = {r.id for r in affordable(rewards, tier, before, now)}
    for reward in affordable(rewards, tier, after, now):
        if reward.cost > 0 and reward.kind != "donation" and reward.id not in old:
            return reward
    return None
