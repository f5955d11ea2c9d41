"""tier_congratulations: on an upgrade, naming the new tier and its benefits."""

from __future__ import annotations

from engage.events import TierUpgraded
from engage.flows.compose import queue_flow
from engage.flows.registry import on, skip_reason_of
from engage.store.program import load


@on(TierUpgraded)
def congratulate(session, event: TierUpgraded, now) -> None:
    view = load(session)
    tier = view.tier(event.new_tier_id)
    queue_flow(session, event.member_id, "tier_congratulations", now,
               dedupe_key=f"tier_congratulations:{event.member_id}:{tier.id}:{now.date().isoformat()}",
               extra={"tier": {"name": tier.name, "benefits": view.benefits.get(tier.id, [])}},
               data={"tier_id": tier.id}, view=view)


@skip_reason_of("tier_congratulations")
def tier_lost_reason(session, message, member, now) -> str | None:
    """Why not to send: the member fell below the tier congratulated; else None."""
    view = load(session)
    congratulated = view.tier(message.data.get("tier_id", member.tier_id))
    if view.tier(member.tier_id).threshold < congratulated.threshold:
        return f"member is no longer {congratulated.name}"
    return None
