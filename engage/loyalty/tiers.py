"""Tiers from qualifying points: up at once when earning, down only in the daily sweep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal


@dataclass(frozen=True)
class TierRule:
    id: int
    name: str
    threshold: int
    multiplier: Decimal
    # A paid tier is bought (engage.loyalty.memberships), never reached by points; its threshold
    # only ranks it among the tiers.
    paid: bool = False


def ordered(tiers: list[TierRule]) -> list[TierRule]:
    return sorted(tiers, key=lambda tier: tier.threshold)


def earnable(tiers: list[TierRule]) -> list[TierRule]:
    """The tiers points can reach, lowest first."""
    return [tier for tier in ordered(tiers) if not tier.paid]


def tier_for(qualifying: int, tiers: list[TierRule]) -> TierRule:
    """The highest earnable tier whose threshold the qualifying points reach (the lowest tier at least)."""
    ladder = earnable(tiers)
    reached = [tier for tier in ladder if tier.threshold <= qualifying]
    return reached[-1] if reached else ladder[0]


def next_tier(qualifying: int, tiers: list[TierRule]) -> tuple[TierRule, int] | None:
    """The next earnable tier up and the points still needed, or None at the top."""
    for tier in earnable(tiers):
        if tier.threshold > qualifying:
            return tier, tier.threshold - qualifying
    return None


def next_tier_from(current: TierRule, qualifying: int, tiers: list[TierRule]) -> tuple[TierRule, int] | None:
    """`next_tier`, for a member holding a paid tier: the next earnable tier above the one held."""
    if not current.paid:
        return next_tier(qualifying, tiers)
    for tier in earnable(tiers):
        if tier.threshold > max(qualifying, current.threshold):
            return tier, tier.threshold - qualifying
    return None


def after_earning(current: TierRule, qualifying: int, tiers: list[TierRule]) -> TierRule:
    """Earning can only lift a tier; a lower computed tier waits for the daily sweep."""
    reached = tier_for(qualifying, tiers)
    return reached if reached.threshold > current.threshold else current


def may_lift(current: TierRule, earned_ever: int, tiers: list[TierRule]) -> bool:
    """Could earning lift `current`? Qualifying points never exceed all points ever earned, so
    below the next tier's threshold the answer is no without summing the qualifying window."""
    above = next_tier(current.threshold, tiers)
    return above is not None and earned_ever >= above[0].threshold


def rank(tier: TierRule, tiers: list[TierRule]) -> int:
    return [t.id for t in ordered(tiers)].index(tier.id)


def qualifying_since(now: datetime, window_days: int) -> datetime:
    """Credits earned at or after this instant count toward the tier."""
    return now - timedelta(days=window_days)
