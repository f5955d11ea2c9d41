"""API keys: created once (shown once), stored as a hash, checked per request."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engage.errors import Unprocessable
from engage.loyalty import codes
from engage.models import ApiKey
from engage.store import transaction

ROLES = ("integration", "marketer", "admin")


def allows(role: str, needed: str) -> bool:
    """Roles nest: admin can do what a marketer can, a marketer what an integration can."""
    return ROLES.index(role) >= ROLES.index(needed)


def create(session: Session, role: str, name: str, now: datetime) -> str:
    """Store a new key's hash and return the key itself (the only time it is seen)."""
    if role not in ROLES:
        raise Unprocessable(f"role must be one of {', '.join(ROLES)}")
    if not name.strip():
        raise Unprocessable("a key needs a name")
    key = codes.api_key()
    with transaction(session):
        session.add(ApiKey(name=name.strip(), role=role, prefix=key[:10], key_hash=codes.key_hash(key),
                           created_at=now))
    return key


@dataclass(frozen=True)
class Caller:
    id: int
    name: str
    role: str


class KeyCache:
    """Recently checked keys, so a request doesn't pay a query to authenticate.

    A revoked key stops working within `ttl` seconds in every process.
    """

    def __init__(self, ttl_seconds: float = 30.0):
        self.ttl, self.entries, self.lock = ttl_seconds, {}, threading.Lock()

    def get(self, digest: str) -> Caller | None:
        with self.lock:
            hit = self.entries.get(digest)
        return hit[1] if hit and time.monotonic() - hit[0] < self.ttl else None

    def put(self, digest: str, caller: Caller) -> None:
        with self.lock:
            if len(self.entries) > 10_000:
                self.entries.clear()
            self.entries[digest] = (time.monotonic(), caller)


def authenticate(session: Session, key: str) -> Caller | None:
    """Who this secret belongs to, if it is a live key."""
    digest = codes.key_hash(key)
    cache: KeyCache | None = session.info.get("key_cache")
    if cache is not None and (hit := cache.get(digest)) is not None:
        return hit
    found = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
    caller = Caller(found.id, found.name, found.role) if found and found.revoked_at is None else None
    session.rollback()  # a read only; don't hold a transaction open until the service's own
    if caller is None:
        return None
    if cache is not None:
        cache.put(digest, caller)
    return caller
