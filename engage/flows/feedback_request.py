"""feedback_request: 3 days after a purchase, at most one per member per 30 days."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engage.events import PurchaseRecorded
from engage.flows.compose import queue_flow
from engage.flows.registry import on, relevance
from engage.flows.settings import live_flow_config
from engage.models import Message
from engage.services.program import load

LIVE = ("scheduled", "queued", "sending", "sent", "delivered", "unknown")

# `_recent_request` as SQL, for a writer that asks it inside its own statement (services.purchases):
# parameters :member_id and :feedback_since (`spacing_start`).
RECENT_REQUEST_SQL = (
    "EXISTS (SELECT 1 FROM messages WHERE messages.member_id = :member_id"
    " AND messages.flow = 'feedback_request' AND messages.direction = 'out' AND NOT messages.is_test"
    f" AND messages.status IN ({', '.join(repr(status) for status in LIVE)})"
    " AND messages.created_at >= :feedback_since)")


def spacing_start(session, now):
    """Requests written since this instant keep a new one from being asked for."""
    config = live_flow_config(session, "feedback_request")
    return now - timedelta(days=int(config.params.get("min_days_between", 30)))


def _recent_request(session, member_id: int, since, exclude_id: int | None = None) -> int | None:
    query = select(Message.id).where(
        Message.member_id == member_id, Message.flow == "feedback_request", Message.direction == "out",
        Message.is_test.is_(False), Message.status.in_(LIVE), Message.created_at >= since)
    if exclude_id is not None:
        query = query.where(Message.id != exclude_id)
    return session.scalar(query.limit(1))


@on(PurchaseRecorded)
def ask_for_feedback(session, event: PurchaseRecorded, now) -> None:
    config = live_flow_config(session, "feedback_request")
    if not config.enabled:
        return
    recently = event.asked_for_feedback_recently
    if recently is None:
        recently = _recent_request(session, event.member_id, spacing_start(session, now)) is not None
    if recently:
        return
    view = load(session)
    local_day = event.occurred_at.astimezone(view.zone).date()
    queue_flow(session, event.member_id, "feedback_request", now, base=event.occurred_at,
               dedupe_key=f"feedback_request:{event.member_id}:{event.event_id}",
               extra={"purchase": {"amount": event.amount, "currency": event.currency, "date": local_day}},
               data={"event_id": event.event_id}, view=view, config=config)


@relevance("feedback_request")
def not_too_soon(session, message, member, now) -> str | None:
    spacing = timedelta(days=int(live_flow_config(session, "feedback_request").params.get("min_days_between", 30)))
    sent = session.scalar(select(Message.id).where(
        Message.member_id == member.id, Message.flow == "feedback_request", Message.id != message.id,
        Message.status.in_(("sending", "sent", "delivered", "unknown")), Message.sent_at >= now - spacing))
    return "another feedback request went out in the last 30 days" if sent else None
