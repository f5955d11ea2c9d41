"""Feedback requests and the answers to them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from engage.db import UTCDateTime, sql_strings
from engage.vocabulary import WENT_OUT

# A feedback request can be answered for this long after it went out.
ANSWER_WINDOW = timedelta(days=30)

# The newest feedback request sent to a member that can still be answered; :member_id and
# :feedback_since (now - ANSWER_WINDOW). Inbound replies read it inside their facts statement
# (services.inbound_store), the API's feedback event through `open_request`.
NEWEST_REQUEST_SQL = (
    "SELECT r.id FROM messages AS r"
    " WHERE r.member_id = :member_id AND r.direction = 'out' AND r.flow = 'feedback_request'"
    f" AND r.is_test = false AND r.status IN ({sql_strings(WENT_OUT)})"
    " AND r.sent_at >= :feedback_since"
    " ORDER BY r.sent_at DESC, r.id DESC LIMIT 1")
_OPEN_REQUEST = text(NEWEST_REQUEST_SQL).bindparams(bindparam("feedback_since", type_=UTCDateTime()))


def open_request(session: Session, member_id: int, at: datetime) -> int | None:
    """The newest feedback request sent to the member that can still be answered."""
    return session.connection().execute(
        _OPEN_REQUEST, {"member_id": member_id, "feedback_since": at - ANSWER_WINDOW}).scalar()
