"""Tables. Import from here: `from engage.models import Member, LedgerEntry`."""

from engage.models.content import FlowSetting, JobRun, SenderBudget, TemplateVersion
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
from engage.models.program import ApiKey, Program, Reward, Tier
from engage.models.users import AuditEntry, User

__all__ = [
    "ApiKey", "AuditEntry", "ConsentEvent", "Event", "Feedback", "FlowSetting", "IdempotencyRecord", "InsightCohortDay",
    "InsightDay", "InsightFlowDay", "InsightRevenueDay", "InsightStale", "InsightTierDay", "JobRun",
    "LedgerEntry", "Lot", "Member", "Message", "Program", "Redemption", "Reward", "SenderBudget", "Suppression",
    "TemplateVersion", "Tier", "User", "WebhookEvent",
]
