"""What happened, in the past tense. Services collect these; flows react in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class MemberEnrolled:
    member_id: int
    signup_points: int


@dataclass(frozen=True)
class PointsEarned:
    member_id: int
    points: int
    balance_before: int
    balance_after: int
    source: str
    tier_id: int  # the member's tier after this award


@dataclass(frozen=True)
class TierUpgraded:
    member_id: int
    old_tier_id: int
    new_tier_id: int


@dataclass(frozen=True)
class PurchaseRecorded:
    member_id: int
    event_id: int
    amount: Decimal
    currency: str
    occurred_at: datetime
    # Known to a writer that looked it up in its own statement; None: the flow looks it up.
    asked_for_feedback_recently: bool | None = None


@dataclass(frozen=True)
class RewardRedeemed:
    member_id: int
    redemption_id: int
    reward_id: int




@dataclass(frozen=True)
class ChallengeStepLeft:
    """A member is one activity away from completing a challenge."""

    member_id: int
    challenge_id: int
    progress: int



@dataclass(frozen=True)
class OfferMade:
    member_id: int
    offer_id: int


DomainEvent = (MemberEnrolled | PointsEarned | TierUpgraded | PurchaseRecorded | RewardRedeemed
               | ChallengeStepLeft | OfferMade)
