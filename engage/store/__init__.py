"""The store: queries and writes shared by services, flows and the outbox.

Ledger reads and writes, the program's rules with their flow settings, member and contact reads,
idempotency keys and suppressions. Nothing here decides anything: the rules live in
`engage.loyalty` and `engage.messaging`, the use cases in `engage.services`.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.orm import Session


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """Begin a service's transaction, first ending any read-only one the caller autobegan."""
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("unsaved changes on the session before a service call")
        session.commit()  # nothing to write; with expire_on_commit=False objects stay loaded
    with session.begin():
        yield session
