"""API keys: created once (shown once), stored as a hash, checked per request."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engage.errors import Conflict, NotFound, Unprocessable
from engage.loyalty import codes
from engage.models import ApiKey
from engage.store import transaction

ROLES = ("integration", "marketer", "admin")
# "egk_" and 6 random characters: stored so an operator can tell keys apart (`engage keys list`);
# 36 bits of the 256, so it gives away nothing that matters.
PREFIX_LENGTH = 10
# "Last used" is written at most this often per key and process: a write per request would cost
# more than the cached check it follows.
TOUCH_EVERY = timedelta(minutes=1)


def allows(role: str, needed: str) -> bool:
    """Roles nest: admin can do what a marketer can, a marketer what an integration can."""
    return ROLES.index(role) >= ROLES.index(needed)


def issue(session: Session, role: str, name: str, now: datetime) -> tuple[ApiKey, str]:
    """Store a new key's hash; return its row and the key itself (the only time it is seen)."""
    if role not in ROLES:
        raise Unprocessable(f"role must be one of {', '.join(ROLES)}", {"role": [f"one of {', '.join(ROLES)}"]})
    if not name.strip():
        raise Unprocessable("a key needs a name", {"name": ["a key needs a name"]})
    key = codes.api_key()
    row = ApiKey(name=name.strip(), role=role, prefix=key[:PREFIX_LENGTH], key_hash=codes.key_hash(key),
                 created_at=now)
    with transaction(session):
        session.add(row)
    return row, key


def create(session: Session, role: str, name: str, now: datetime) -> str:
    """Store a new key's hash and return the key itself (the only time it is seen)."""
    return issue(session, role, name, now)[1]


def listed(session: Session) -> list[ApiKey]:
    """Every key, oldest first (revoked ones too): name, role, prefix, when created, last used
    (to the minute) and revoked."""
    with transaction(session):
        return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke(session: Session, key_id: int, now: datetime, *, by: int | None = None) -> ApiKey:
    """Revoke a key for good (idempotent: the first revocation time stays).

    `by` is the key asking (API): it may not revoke itself, so an admin cannot lock the last
    door by accident. This process forgets the key at once; other processes within KeyCache's ttl.
    """
    if by is not None and by == key_id:
        raise Conflict("a key cannot revoke itself; use another admin key or `engage keys revoke`")
    with transaction(session):
        key = session.get(ApiKey, key_id, with_for_update=True)
        if key is None:
            raise NotFound(f"no API key {key_id}")
        if key.revoked_at is None:
            key.revoked_at = now
    cache: KeyCache | None = session.info.get("key_cache")
    if cache is not None:
        cache.forget(key.key_hash)
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
        self.touched: dict[int, datetime] = {}  # key id -> when this process last wrote last_used_at

    def due(self, key_id: int, now: datetime) -> bool:
        """Whether this process should write the key's last use now (and note that it will)."""
        with self.lock:
            last = self.touched.get(key_id)
            if last is not None and timedelta(0) <= now - last < TOUCH_EVERY:
                return False
            if len(self.touched) > 10_000:
                self.touched.clear()
            self.touched[key_id] = now
            return True

    def get(self, digest: str) -> Caller | None:
        with self.lock:
            hit = self.entries.get(digest)
        return hit[1] if hit and time.monotonic() - hit[0] < self.ttl else None

    def forget(self, digest: str) -> None:
        with self.lock:
            self.entries.pop(digest, None)

    def put(self, digest: str, caller: Caller) -> None:
        with self.lock:
            if len(self.entries) > 10_000:
                self.entries.clear()
            self.entries[digest] = (time.monotonic(), caller)


def authenticate(session: Session, key: str, now: datetime | None = None) -> Caller | None:
    """Who this secret belongs to, if it is a live key; with `now`, its use is noted (see touch)."""
    digest = codes.key_hash(key)
    cache: KeyCache | None = session.info.get("key_cache")
    if cache is not None and (hit := cache.get(digest)) is not None:
        touch(session, hit.id, now)
        return hit
    found = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
    caller = Caller(found.id, found.name, found.role) if found and found.revoked_at is None else None
    session.rollback()  # a read only; don't hold a transaction open until the service's own
    if caller is None:
        return None
    if cache is not None:
        cache.put(digest, caller)
    touch(session, caller.id, now)
    return caller


def touch(session: Session, key_id: int, now: datetime | None) -> None:
    """Record the key's use, at most once a minute per process (always without a cache)."""
    cache: KeyCache | None = session.info.get("key_cache")
    if now is None or (cache is not None and not cache.due(key_id, now)):
        return
    with transaction(session):
        session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
