"""Tables. Import from here: `from engage.models import Member, LedgerEntry`."""

from engage.models.content import FlowSetting, JobRun, SenderBudget, TemplateVersion
from engage.models.experiments import Experiment
from engage.models.insights import (
    InsightCohortDay,
    InsightDay,
    InsightFlowDay,
    InsightRevenueDay,
    InsightStale,
    InsightTierDay,
)
from engage.models.ledger import Event, IdempotencyRecord, LedgerEntry, Lot, Redemption
from engage.models.members import ConsentEvent, Member, Suppression
from engage.models.messages import Feedback, Message, WebhookEvent
from engage.models.plus import CauseGift, Challenge, ChallengeMember, Membership
from engage.models.program import ApiKey, Program, Reward, RewardCode, Tier
from engage.models.purchases import Offer, PurchaseItem
from engage.models.users import AuditEntry, SignInAttempt, User

__all__ = [
    "ApiKey", "AuditEntry", "CauseGift", "Challenge", "ChallengeMember", "ConsentEvent", "Event", "Experiment",
    "Feedback", "FlowSetting", "IdempotencyRecord", "InsightCohortDay", "InsightDay", "InsightFlowDay",
    "InsightRevenueDay", "InsightStale", "InsightTierDay", "JobRun", "LedgerEntry", "Lot", "Member", "Membership",
    "Message", "Offer", "Program", "PurchaseItem", "Redemption", "Reward", "RewardCode", "SenderBudget",
    "SignInAttempt", "Suppression", "TemplateVersion", "Tier", "User", "WebhookEvent",
]
