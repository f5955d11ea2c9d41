"""Who reacts to what: domain events → flow reactions, and flows' "still worth sending?" checks."""

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


Relevance = Callable[[Session, object, object, datetime], "str | None"]
_relevance: dict[str, Relevance] = {}


def relevance(flow: str) -> Callable[[Relevance], Relevance]:
    """Register a check run just before sending: a reason string means the message lost its point."""

    def register(fn: Relevance) -> Relevance:
        _relevance[flow] = fn
        return fn

    return register


def lost_point(session: Session, message, member, now: datetime) -> str | None:
    """Why a waiting flow message should be skipped now, or None to send it."""
    check = _relevance.get(message.flow or "")
    return check(session, message, member, now) if check else None
