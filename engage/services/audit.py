"""The audit log: who changed what, when, with the object before and after."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from engage.models import AuditEntry
from engage.store import transaction


def _plain(value: dict | None) -> dict | None:
    """As JSON stores it: dates (and any other value) as their text."""
    return None if value is None else json.loads(json.dumps(value, default=str))


@dataclass(frozen=True)
class Actor:
    """A console user (with their id) or a machine (an API key, by name)."""

    name: str
    user_id: int | None = None


def add(session: Session, actor: Actor, action: str, object_type: str, object_id: str | None,
        before: dict | None, after: dict | None, now: datetime) -> None:
    """Add an entry inside the caller's transaction (the change and its record commit together)."""
    session.add(AuditEntry(created_at=now, user_id=actor.user_id, actor=actor.name, action=action,
                           object_type=object_type, object_id=object_id,
                           before=_plain(before), after=_plain(after)))


def record(session: Session, actor: Actor, action: str, object_type: str, object_id: str | None,
           before: dict | None, after: dict | None, now: datetime) -> None:
    """Add an entry in its own transaction, after a service committed the change itself."""
    with transaction(session):
        add(session, actor, action, object_type, object_id, before, after, now)


def entries() -> Select:
    """The query of every entry (the caller pages through it, newest first)."""
    return select(AuditEntry)
