"""feedback_request: 3 days after a purchase, at most one per member per `min_days_between` (30)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, select, text

from engage.db import sql_strings
from engage.events import PurchaseRecorded
from engage.flows.compose import queue_flow
from engage.flows.registry import on, skip_reason_of
from engage.models import Message
from engage.store.program import live_flow_config, load
from engage.vocabulary import PENDING_OR_WENT_OUT, WENT_OUT

# "A feedback request was written recently" — the one definition, as SQL, so that a writer can
# also ask it inside its own statement (services.purchases). Parameters :member_id and
# :feedback_since (`spacing_start`).
RECENT_REQUEST_SQL = (
    "EXISTS (SELECT 1 FROM messages WHERE messages.member_id = :member_id"
    " AND messages.flow = 'feedback_request' AND messages.direction = 'out' AND NOT messages.is_test"
    f" AND messages.status IN ({sql_strings(PENDING_OR_WENT_OUT)})"
    " AND messages.created_at >= :feedback_since)")
_RECENT_REQUEST = text(f"SELECT {RECENT_REQUEST_SQL}").bindparams(
    bindparam("feedback_since", type_=Message.created_at.type))


def spacing_start(session, now):
    """Requests written since this instant keep a new one from being asked for."""
    config = live_flow_config(session, "feedback_request")
    return now - timedelta(days=config.params.min_days_between)


def _asked_recently(session, member_id: int, now) -> bool:
    params = {"member_id": member_id, "feedback_since": spacing_start(session, now)}
    return bool(session.connection().execute(_RECENT_REQUEST, params).scalar())


@on(PurchaseRecorded)
def ask_for_feedback(session, event: PurchaseRecorded, now) -> None:
    config = live_flow_config(session, "feedback_request")
    if not config.enabled:
        return
    recently = event.asked_for_feedback_recently
    if recently is None:
        recently = _asked_recently(session, event.member_id, now)
    if recently:
        return
    view = load(session)
    local_day = event.occurred_at.astimezone(view.zone).date()
    queue_flow(session, event.member_id, "feedback_request", now, base=event.occurred_at,
               dedupe_key=f"feedback_request:{event.member_id}:{event.event_id}",
               extra={"purchase": {"amount": event.amount, "currency": event.currency, "date": local_day}},
               data={"event_id": event.event_id}, view=view, config=config)


@skip_reason_of("feedback_request")
def too_soon_reason(session, message, member, now) -> str | None:
    """Why not to send: another feedback request went out too recently; else None."""
    days = live_flow_config(session, "feedback_request").params.min_days_between
    spacing = timedelta(days=days)
    sent = session.scalar(select(Message.id).where(
        Message.member_id == member.id, Message.flow == "feedback_request", Message.id != message.id,
        Message.status.in_(WENT_OUT),
        # claimed_at: one taken for sending earlier in this same batch has no sent_at yet
        (Message.sent_at >= now - spacing) | (Message.claimed_at >= now - spacing)).limit(1))
    return f"another feedback request went out in the last {days} days" if sent else None
