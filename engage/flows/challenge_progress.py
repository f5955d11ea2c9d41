"""challenge_progress: once per member and challenge, when one activity is left to complete it."""

from __future__ import annotations

from engage.events import ChallengeStepLeft
from engage.flows.compose import queue_flow
from engage.flows.registry import on, skip_reason_of
from engage.loyalty import challenges as rules
from engage.store import challenges as progress_store
from engage.store.program import load


@on(ChallengeStepLeft)
def nudge(session, event: ChallengeStepLeft, now) -> None:
    view = load(session)
    challenge = next(c for c in view.challenges if c.id == event.challenge_id)
    queue_flow(session, event.member_id, "challenge_progress", now,
               dedupe_key=f"challenge_progress:{challenge.id}:{event.member_id}",
               extra={"challenge": rules.template_variable(challenge, event.progress, view.zone)},
               data={"challenge_id": challenge.id}, view=view)


@skip_reason_of("challenge_progress")
def finished_reason(session, message, member, now) -> str | None:
    """Why not to send: the challenge was completed or has ended meanwhile; else None."""
    challenge = next((c for c in load(session).challenges if c.id == message.data.get("challenge_id")), None)
    if challenge is None or not rules.is_open(challenge, now):
        return "the challenge has ended"
    completed = progress_store.rows_of(session, member.id).get(challenge.id, (0, None))[1]
    return "the challenge was completed" if completed else None
