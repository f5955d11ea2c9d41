"""Which variant a member gets: a stable hash of the experiment and the member, so the same member
always gets the same variant of an experiment (on every message, in every process, after a
restart), and different experiments split the members independently."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

VARIANTS = ("A", "B")


@dataclass(frozen=True)
class RunningExperiment:
    """What composing a message needs of a running experiment: its id, the share of members that
    get B, and B's template parts."""

    id: int
    split_percent: int
    parts: dict = field(default_factory=dict)


def bucket(member_id: int, experiment_id: int) -> float:
    """A number in [0, 1) fixed by the pair: the first 8 bytes of sha256("experiment:member")."""
    digest = hashlib.sha256(f"{experiment_id}:{member_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(member_id: int, experiment_id: int, split_percent: int) -> str:
    """'B' for about `split_percent` % of members, 'A' for the others."""
    return "B" if bucket(member_id, experiment_id) < split_percent / 100 else "A"
