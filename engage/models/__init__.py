"""Tables. Import from here: `from engage.models import Member, LedgerEntry`."""

from engage.models.content import FlowSetting, JobRun, SenderBudget, TemplateVersion
from engage.models.experiments import Experiment
from engage.models.ledger import Event, IdempotencyRecord, LedgerEntry, Lot, Redemption
from engage.models.members import ConsentEvent, Member, Suppression
from engage.models.messages import Feedback, Message, WebhookEvent
from engage.models.program import ApiKey, Program, Reward, RewardCode, Tier
from engage.models.purchases import Offer, PurchaseItem
from engage.models.users import AuditEntry, SignInAttempt, User

__all__ = [
    "ApiKey", "AuditEntry", "ConsentEvent", "Event", "Experiment", "Feedback", "FlowSetting", "IdempotencyRecord",
    "JobRun", "LedgerEntry", "Lot", "Member", "Message", "Offer", "Program", "PurchaseItem", "Redemption", "Reward",
    "RewardCode", "SenderBudget", "SignInAttempt", "Suppression", "TemplateVersion", "Tier", "User", "WebhookEvent",
]
