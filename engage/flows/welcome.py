"""welcome: on enrolment; names the signup bonus and what it buys."""

from __future__ import annotations

from engage.events import MemberEnrolled
from engage.flows.compose import queue_flow
from engage.flows.registry import on
from engage.models import Member


@on(MemberEnrolled)
def welcome(session, event: MemberEnrolled, now) -> None:
    member = session.get(Member, event.member_id)
    queue_flow(session, member, "welcome", now, dedupe_key=f"welcome:{member.id}")
