"""A new purchase's extras written together: the program's gift to its cause and the member's
progress in the purchase challenges it counts toward.

On PostgreSQL they are one statement (data-modifying CTEs), so switching giving back on and
opening a challenge adds one round trip to a purchase, not one per feature and challenge;
SQLite (no INSERT inside WITH) runs the same writes one by one.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from engage.db import UTCDateTime
from engage.loyalty.challenges import AUTO, ChallengeRule
from engage.loyalty.giving import Share
from engage.store import causes
from engage.store import challenges as progress_store

Counted = dict[int, tuple[int, bool] | None]  # challenge id → (progress, completed already) or not joined


def write(session: Session, share: Share | None, member_id: int, event_id: int, occurred_at: datetime,
          counting: list[ChallengeRule], now: datetime) -> Counted:
    """Give `share` (if any) and recount `counting`; each challenge's (progress, completed already)."""
    if session.get_bind().dialect.name == "sqlite":
        if share is not None:
            causes.give_share(session, share, member_id, event_id, occurred_at, now)
        return {c.id: progress_store.recount(session, c, member_id, now) for c in counting}
    params: dict = {"member_id": member_id, "now": now, "event_id": event_id, "occurred_at": occurred_at}
    if share is not None:
        params.update(cause=share.cause, amount=share.amount, points=share.points)
    for n, challenge in enumerate(counting):
        params.update({f"c{n}": challenge.id, f"starts{n}": challenge.starts_at, f"ends{n}": challenge.ends_at})
    shape = (share is not None, tuple((c.kind, c.join == AUTO) for c in counting))
    found: Counted = {c.id: None for c in counting}
    for challenge_id, progress, completed in session.connection().execute(_statement(shape), params):
        found[challenge_id] = (int(progress), completed is not None)
    return found


@lru_cache(maxsize=64)
def _statement(shape: tuple[bool, tuple[tuple[str, bool], ...]]):
    """The one statement for a shape: gift or not, and each challenge's kind and join."""
    give, counting = shape
    parts, selects = [], []
    if give:
        parts.append("gift AS (INSERT INTO cause_gifts (cause, source, member_id, event_id, amount, points, "
                     "occurred_at, created_at) VALUES (:cause, 'purchase', :member_id, :event_id, :amount, "
                     ":points, :occurred_at, :now))")
    for n, (kind, auto) in enumerate(counting):
        count = (progress_store.COUNTS[kind].replace(":starts", f":starts{n}").replace(":ends", f":ends{n}"))
        if auto:
            parts.append(f"c{n} AS (INSERT INTO challenge_members (challenge_id, member_id, joined_at, progress) "
                         f"SELECT :c{n}, :member_id, :now, ({count}) ON CONFLICT (challenge_id, member_id) "
                         f"DO UPDATE SET progress = excluded.progress RETURNING challenge_id, progress, completed_at)")
        else:
            parts.append(f"c{n} AS (UPDATE challenge_members SET progress = ({count}) WHERE challenge_id = :c{n} "
                         f"AND member_id = :member_id RETURNING challenge_id, progress, completed_at)")
        selects.append(f"SELECT challenge_id, progress, completed_at FROM c{n}")
    if not selects:  # the gift alone
        selects.append("SELECT 0 AS challenge_id, 0 AS progress, NULL AS completed_at WHERE false")
    times = [bindparam("now", type_=UTCDateTime())]
    if give:
        times.append(bindparam("occurred_at", type_=UTCDateTime()))
    for n in range(len(counting)):
        times += [bindparam(f"starts{n}", type_=UTCDateTime()), bindparam(f"ends{n}", type_=UTCDateTime())]
    return text("WITH " + ", ".join(parts) + " " + " UNION ALL ".join(selects)).bindparams(*times)
