"""API keys: created once (shown once), stored as a hash, checked per request."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engage.services import transaction
from engage.errors import Unprocessable
from engage.loyalty import codes
from engage.models import ApiKey

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


def authenticate(session: Session, key: str) -> ApiKey | None:
    """The live key matching this secret, or None."""
    found = session.scalar(select(ApiKey).where(ApiKey.key_hash == codes.key_hash(key)))
    if found is None or found.revoked_at is not None:
        return None
    return found
