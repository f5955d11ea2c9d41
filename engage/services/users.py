"""Console users: created by an operator (`engage users create`), signed in with a password that
is only ever stored as an argon2 hash."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engage.errors import Conflict, Unprocessable
from engage.models import User
from engage.services import audit
from engage.store import transaction

ROLES = ("viewer", "marketer", "admin")
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024  # hashing a megabyte "password" is a cheap way to burn our CPU
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

_hasher = PasswordHasher()
# Verified against when the email is unknown, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not anyone's password")


@dataclass(frozen=True)
class Staff:
    """Who is signed in: what the console needs on every request."""

    id: int
    email: str
    role: str


def allows(role: str, needed: str) -> bool:
    """Roles nest: an admin can do what a marketer can, a marketer what a viewer can."""
    return ROLES.index(role) >= ROLES.index(needed)


def normalize_email(email: str) -> str:
    # No email holds a NUL, and PostgreSQL text cannot: drop it rather than fail the query.
    return email.replace("\x00", "").strip().lower()


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_CHARS:
        return f"the password needs at least {MIN_PASSWORD_CHARS} characters"
    if len(password) > MAX_PASSWORD_CHARS:
        return f"the password may have at most {MAX_PASSWORD_CHARS} characters"
    return None


def create(session: Session, email: str, role: str, password: str, now: datetime,
           actor: audit.Actor | None = None) -> Staff:
    """Add a user; 409 if the email (in any case) is taken, 422 for a bad email, role or password.
    With an `actor`, the audit log records who added them, in the same transaction."""
    email = normalize_email(email)
    errors = {}
    if not EMAIL.fullmatch(email) or len(email) > 254:
        errors["email"] = ["not an email address"]
    if role not in ROLES:
        errors["role"] = [f"must be one of {', '.join(ROLES)}"]
    if problem := password_problem(password):
        errors["password"] = [problem]
    if errors:
        raise Unprocessable("; ".join(f"{name}: {problems[0]}" for name, problems in errors.items()), errors)
    user = User(email=email, password_hash=_hasher.hash(password), role=role, created_at=now)
    try:
        with transaction(session):
            session.add(user)
            session.flush()
            if actor is not None:
                audit.add(session, actor, "user.create", "user", str(user.id), None,
                          {"email": email, "role": role}, now)
    except IntegrityError:
        raise Conflict(f"a user with the email {email} already exists") from None
    return Staff(user.id, user.email, user.role)


def ensure(session: Session, email: str, role: str, password: str, now: datetime) -> bool:
    """Create the user unless the email exists (seed-demo); True when it was created."""
    with transaction(session):
        if session.scalar(select(User.id).where(User.email == normalize_email(email))) is not None:
            return False
    create(session, email, role, password, now)
    return True


def sign_in(session: Session, email: str, password: str, now: datetime) -> Staff | None:
    """The user with this email and password, stamped as signed in now; None otherwise (unknown
    email, wrong password, or a disabled user: the caller cannot tell which)."""
    with transaction(session):
        user = session.scalar(select(User).where(User.email == normalize_email(email)).with_for_update())
        try:
            _hasher.verify(user.password_hash if user else _DUMMY_HASH, password[:MAX_PASSWORD_CHARS])
        except (VerificationError, InvalidHashError):
            return None
        if user is None or user.disabled_at is not None:
            return None
        if _hasher.check_needs_rehash(user.password_hash):  # argon2's parameters were raised
            user.password_hash = _hasher.hash(password)
        user.last_sign_in_at = now
        return Staff(user.id, user.email, user.role)


def active(session: Session, user_id: int) -> Staff | None:
    """The user behind a session, unless disabled or gone since it signed in."""
    user = session.get(User, user_id)
    session.rollback()  # a read only; don't hold a transaction open
    if user is None or user.disabled_at is not None:
        return None
    return Staff(user.id, user.email, user.role)


def list_users(session: Session) -> list[User]:
    """Every user, oldest first."""
    with transaction(session):
        return list(session.scalars(select(User).order_by(User.id)))
