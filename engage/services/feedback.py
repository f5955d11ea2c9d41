"""Feedback requests and the answers to them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engage.models import Message

# A feedback request can be answered for this long after it went out.
ANSWER_WINDOW = timedelta(days=30)
ANSWERABLE = ("sending", "sent", "delivered", "unknown")


_OPEN_REQUEST = select(Message.id).where(
    Message.member_id == bindparam("member_id"), Message.direction == "out",
    Message.flow == "feedback_request", Message.is_test.is_(False),
    Message.status.in_(ANSWERABLE), Message.sent_at >= bindparam("since", type_=Message.sent_at.type),
).order_by(Message.sent_at.desc(), Message.id.desc()).limit(1)


def open_request(session: Session, member_id: int, at: datetime) -> int | None:
    """The newest feedback request sent to the member that can still be answered."""
    return session.connection().execute(
        _OPEN_REQUEST, {"member_id": member_id, "since": at - ANSWER_WINDOW}).scalar()
