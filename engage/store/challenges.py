"""Challenge progress: recounting a member's activities in a challenge's window and keeping it on
their `challenge_members` row, in one statement; completing it once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import Session

from engage.db import UTCDateTime
from engage.loyalty.challenges import AUTO, ChallengeRule
from engage.models import ChallengeMember

# What counts, per kind: the member's activities whose own time falls in [starts, ends).
COUNTS = {
    "purchase": "SELECT COUNT(*) FROM events WHERE member_id = :member_id AND type = 'purchase'"
                " AND occurred_at >= :starts AND occurred_at < :ends",
    "review": "SELECT COUNT(*) FROM events WHERE member_id = :member_id AND type = 'review'"
              " AND occurred_at >= :starts AND occurred_at < :ends",
    # Ratings by reply (feedback rows) and feedback events the shop reported.
    "feedback": "SELECT (SELECT COUNT(*) FROM feedback WHERE member_id = :member_id AND rating IS NOT NULL"
                " AND created_at >= :starts AND created_at < :ends) + (SELECT COUNT(*) FROM events"
                " WHERE member_id = :member_id AND type = 'feedback' AND occurred_at >= :starts"
                " AND occurred_at < :ends)",
    "referral": "SELECT COUNT(*) FROM members WHERE referred_by_id = :member_id"
                " AND created_at >= :starts AND created_at < :ends",
}
_TIMES = (bindparam("starts", type_=UTCDateTime()), bindparam("ends", type_=UTCDateTime()),
          bindparam("now", type_=UTCDateTime()))
# An auto challenge: every member is in, the first activity writes their row. (`WHERE true`: SQLite
# needs it to read ON CONFLICT after INSERT … SELECT.)
_UPSERT = {kind: text(f"""
    INSERT INTO challenge_members (challenge_id, member_id, joined_at, progress)
    SELECT :challenge_id, :member_id, :now, ({count}) WHERE true
    ON CONFLICT (challenge_id, member_id) DO UPDATE SET progress = excluded.progress
    RETURNING progress, completed_at
""").bindparams(*_TIMES) for kind, count in COUNTS.items()}
# A keyword challenge: only a member who joined has a row to update.
_RECOUNT = {kind: text(f"""
    UPDATE challenge_members SET progress = ({count})
    WHERE challenge_id = :challenge_id AND member_id = :member_id
    RETURNING progress, completed_at
""").bindparams(*_TIMES[:2]) for kind, count in COUNTS.items()}


def recount(session: Session, challenge: ChallengeRule, member_id: int, now: datetime) -> tuple[int, bool] | None:
    """(progress, completed already) after recounting; None for a keyword challenge not joined."""
    statement = (_UPSERT if challenge.join == AUTO else _RECOUNT)[challenge.kind]
    row = session.connection().execute(statement, {
        "challenge_id": challenge.id, "member_id": member_id, "now": now,
        "starts": challenge.starts_at, "ends": challenge.ends_at}).first()
    return None if row is None else (int(row[0]), row[1] is not None)


def complete(session: Session, challenge_id: int, member_id: int, now: datetime) -> bool:
    """Mark the challenge completed for the member; False when it already was (someone else won)."""
    done = session.execute(update(ChallengeMember).where(
        ChallengeMember.challenge_id == challenge_id, ChallengeMember.member_id == member_id,
        ChallengeMember.completed_at.is_(None)).values(completed_at=now))
    return done.rowcount == 1


def join(session: Session, challenge: ChallengeRule, member_id: int, now: datetime) -> None:
    """Put the member in (a keyword text); joining twice changes nothing."""
    session.connection().execute(text("""
        INSERT INTO challenge_members (challenge_id, member_id, joined_at, progress)
        VALUES (:challenge_id, :member_id, :now, 0)
        ON CONFLICT (challenge_id, member_id) DO NOTHING
    """).bindparams(_TIMES[2]), {"challenge_id": challenge.id, "member_id": member_id, "now": now})


def rows_of(session: Session, member_id: int) -> dict[int, tuple[int, datetime | None]]:
    """{challenge id: (progress, completed_at)} of the member's rows."""
    rows = session.execute(select(ChallengeMember.challenge_id, ChallengeMember.progress,
                                  ChallengeMember.completed_at).where(ChallengeMember.member_id == member_id))
    return {challenge_id: (progress, completed) for challenge_id, progress, completed in rows}
