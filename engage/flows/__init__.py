"""Lifecycle flows: they decide what to queue in the outbox, never send.

Services call `react` with the domain events of their transaction, before it commits, so a
flow's messages are written with the change that caused them. Time-driven flows run in the
daily sweep (`engage.flows.timed`).
"""

from engage.flows.registry import on, react, skip_reason, skip_reason_of

# Importing the flow modules registers their reactions.
from engage.flows import (  # noqa: E402,F401  isort: skip
    challenge_progress, expiry_warning, feedback_request, membership_renewal, offer, redemption_reminder,
    tier_congratulations, welcome,
)

__all__ = ["on", "react", "skip_reason", "skip_reason_of"]
