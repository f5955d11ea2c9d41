"""Challenges: creating them, counting members' progress at each activity, crediting the bonus
once on completion, joining by keyword, and a member's progress for the API."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engage.errors import Conflict, Unprocessable
from engage.events import ChallengeStepLeft
from engage.loyalty import challenges as rules
from engage.models import Challenge
from engage.services.awards import award
from engage.store import challenges as progress_store
from engage.store import members, transaction
from engage.store.program import ProgramView, changed, load


def bonus_source(challenge_id: int) -> str:
    """The bonus's ledger source: unique per member, so a challenge never credits twice."""
    return f"challenge:{challenge_id}"


def after_activity(session: Session, view: ProgramView, member_id: int, kind: str, occurred_at: datetime,
                   now: datetime) -> list:
    """Recount the challenges an activity counts toward (in the caller's transaction, under the
    member's row lock); credit a completion once; the domain events for the flows."""
    counting = rules.counting(view.challenges, kind, occurred_at)
    return settle(session, view, member_id, {c.id: progress_store.recount(session, c, member_id, now)
                                             for c in counting}, now)


def settle(session: Session, view: ProgramView, member_id: int, counted: dict, now: datetime) -> list:
    """Act on recounted progress ({challenge id: (count, completed already) or None if not joined}):
    credit a completion once, nudge with one step left; the domain events for the flows."""
    events: list = []
    for challenge in (c for c in view.challenges if c.id in counted):
        counted_now = counted[challenge.id]
        if counted_now is None:
            continue  # a keyword challenge the member did not join
        count, completed = counted_now
        if rules.progress(challenge, count).complete:
            if not completed and progress_store.complete(session, challenge.id, member_id, now):
                member = members.lock(session, member_id)  # the ORM row: award may lift its tier
                events += award(session, view, member, challenge.bonus, reason=f"challenge bonus: {challenge.name}",
                                source=bonus_source(challenge.id), occurred_at=now, now=now).events
        elif rules.nudge_due(challenge, count, now):
            events.append(ChallengeStepLeft(member_id, challenge.id, count))
    return events


def join_by_keyword(session: Session, view: ProgramView, member_id: int, text: str,
                    now: datetime) -> tuple[rules.ChallengeRule, int] | None:
    """(the open keyword challenge this text joins, the member's progress in it), or None.

    Activities in the window before joining count too: the challenge is the window's."""
    challenge = rules.joined_by(view.challenges, text, now)
    if challenge is None:
        return None
    progress_store.join(session, challenge, member_id, now)
    return challenge, progress_store.recount(session, challenge, member_id, now)[0]


def challenge_json(challenge: Challenge | rules.ChallengeRule) -> dict:
    return {"id": challenge.id, "name": challenge.name, "kind": challenge.kind, "goal": challenge.goal,
            "bonus": challenge.bonus, "starts_at": challenge.starts_at, "ends_at": challenge.ends_at,
            "join": challenge.join, "keyword": challenge.keyword}


def create(session: Session, data: dict, now: datetime) -> dict:
    """Add a challenge; an auto one counts every member's activities in its window."""
    keyword = (data.get("keyword") or "").strip().upper() or None
    zone = load(session).zone  # times without an offset are the program's wall clock
    data = {**data, **{name: data[name].replace(tzinfo=zone) for name in ("starts_at", "ends_at")
                       if data[name].tzinfo is None}}
    if data["ends_at"] <= data["starts_at"]:
        raise Unprocessable("a challenge must end after it starts", {"ends_at": ["Must be after starts_at."]})
    if (data.get("join", rules.AUTO) == rules.KEYWORD) != (keyword is not None):
        raise Unprocessable("a keyword challenge needs its keyword, and only it has one",
                            {"keyword": ["Required with join=keyword, and only then."]})
    try:
        with transaction(session):
            row = Challenge(name=data["name"], kind=data["kind"], goal=data["goal"], bonus=data["bonus"],
                            starts_at=data["starts_at"], ends_at=data["ends_at"],
                            join=data.get("join", rules.AUTO), keyword=keyword, created_at=now)
            session.add(row)
            session.flush()
            answer = challenge_json(row)
    except IntegrityError:
        raise Conflict(f"another challenge already has the keyword {keyword}") from None
    changed(session)
    return answer


def list_all(session: Session) -> list[dict]:
    """Every challenge, newest first."""
    return [challenge_json(c) for c in session.scalars(select(Challenge).order_by(Challenge.starts_at.desc(),
                                                                                  Challenge.id.desc()))]


def member_progress(session: Session, member_id: int, now: datetime) -> list[dict]:
    """The member's challenges: the auto ones and those they joined, with progress and completion."""
    members.get(session, member_id)
    view = load(session)
    rows = progress_store.rows_of(session, member_id)
    found = []
    for challenge in view.challenges:
        if challenge.join != rules.AUTO and challenge.id not in rows:
            continue
        count, completed_at = rows.get(challenge.id, (0, None))
        step = rules.progress(challenge, count)
        found.append({"challenge": challenge_json(challenge), "progress": step.done, "remaining": step.remaining,
                      "completed_at": completed_at, "open": rules.is_open(challenge, now)})
    return found
