"""Who reacts to what: domain events → flow reactions, and each flow's reason to skip a message
that waited (None: still worth sending)."""

from __future__ import annotations

from datetime import datetime
from typing import Callable, Iterable

from sqlalchemy.orm import Session

Reaction = Callable[[Session, object, datetime], None]
_reactions: list[tuple[type, Reaction]] = []


def on(event_type: type) -> Callable[[Reaction], Reaction]:
    """Register a flow's reaction to one kind of domain event."""

    def register(fn: Reaction) -> Reaction:
        _reactions.append((event_type, fn))
        return fn

    return register


def react(session: Session, events: Iterable[object], now: datetime) -> None:
    """Let every registered flow queue its messages for these events."""
    for event in events:
        for event_type, fn in _reactions:
            if isinstance(event, event_type):
                fn(session, event, now)


SkipReason = Callable[[Session, object, object, datetime], "str | None"]
_skip_reasons: dict[str, SkipReason] = {}


def skip_reason_of(flow: str) -> Callable[[SkipReason], SkipReason]:
    """Register the flow's check run just before sending: it returns why the message lost its point,
    or None to send it."""

    def register(fn: SkipReason) -> SkipReason:
        _skip_reasons[flow] = fn
        return fn

    return register


def skip_reason(session: Session, message, member, now: datetime) -> str | None:
    """Why a waiting flow message should be skipped now, or None to send it."""
    reason_of = _skip_reasons.get(message.flow or "")
    return reason_of(session, message, member, now) if reason_of else None
