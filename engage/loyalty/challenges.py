"""Challenges: a time-boxed goal ("3 purchases in March") with a bonus on completion.

Progress is a count of the member's qualifying activities whose own time falls in the window,
recounted at each activity: an event reported late still counts, one reported twice (the same
Idempotency-Key) is one event, and completion is decided from the count, never from increments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

KINDS = ("purchase", "review", "feedback", "referral")
AUTO, KEYWORD = "auto", "keyword"


@dataclass(frozen=True)
class ChallengeRule:
    id: int
    name: str
    kind: str  # what counts: purchase, review (review events), feedback (ratings), referral
    goal: int
    bonus: int
    starts_at: datetime
    ends_at: datetime  # exclusive
    join: str = AUTO  # auto: every member is in; keyword: members who texted `keyword`
    keyword: str | None = None


@dataclass(frozen=True)
class Progress:
    done: int
    remaining: int
    complete: bool


def counts_at(challenge: ChallengeRule, occurred_at: datetime) -> bool:
    """Does an activity at `occurred_at` count toward the challenge (its window, end exclusive)?"""
    return challenge.starts_at <= occurred_at < challenge.ends_at


def is_open(challenge: ChallengeRule, now: datetime) -> bool:
    return counts_at(challenge, now)


def progress(challenge: ChallengeRule, count: int) -> Progress:
    done = min(max(count, 0), challenge.goal)
    return Progress(done, challenge.goal - done, done >= challenge.goal)


def nudge_due(challenge: ChallengeRule, count: int, now: datetime) -> bool:
    """One step left while the challenge is still open: the `challenge_progress` nudge."""
    return progress(challenge, count).remaining == 1 and is_open(challenge, now)


def counting(challenges: list[ChallengeRule], kind: str, occurred_at: datetime) -> list[ChallengeRule]:
    """The challenges an activity of `kind` at `occurred_at` counts toward."""
    return [c for c in challenges if c.kind == kind and counts_at(c, occurred_at)]


def joined_by(challenges: list[ChallengeRule], text: str, now: datetime) -> ChallengeRule | None:
    """The open keyword challenge a member's text (the keyword alone, any case) joins, if any."""
    word = text.strip().upper()
    return next((c for c in challenges if c.join == KEYWORD and c.keyword == word and is_open(c, now)), None)


def closest(challenges: list[ChallengeRule], counts: dict[int, int], now: datetime) -> tuple[ChallengeRule, Progress] | None:
    """The open, unfinished challenge the member is closest to completing (the template's `challenge`).

    `counts` holds the member's challenges (joined ones, or auto ones with activity) by id."""
    open_ = [(c, progress(c, counts.get(c.id, 0))) for c in challenges
             if is_open(c, now) and (c.join == AUTO or c.id in counts)]
    unfinished = [(c, p) for c, p in open_ if not p.complete]
    return min(unfinished, key=lambda item: (item[1].remaining, item[0].ends_at, item[0].id), default=None)


def template_variable(challenge: ChallengeRule, count: int, zone: tzinfo) -> dict:
    """The `challenge` template variable: "1 more purchase to earn 200 bonus points"."""
    step = progress(challenge, count)
    return {"name": challenge.name, "kind": challenge.kind, "goal": challenge.goal, "progress": step.done,
            "remaining": step.remaining, "bonus": challenge.bonus,
            "ends_on": challenge.ends_at.astimezone(zone).date()}
