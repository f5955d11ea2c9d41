"""A partner reward's code pool as admins keep it: its counts (never the codes in bulk) and
imports (`engage rewards import-codes`, POST /rewards/{id}/codes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engage.errors import Conflict, NotFound, Unprocessable
from engage.loyalty import reward_limits
from engage.loyalty.partner_codes import CodeList
from engage.models import Reward
from engage.store import reward_codes, transaction
from engage.store.program import changed

SHOWN_PROBLEMS = 20  # lines named in one error; the count says how many more


def find_reward(session: Session, key: str) -> int:
    """A reward's id from its id or its exact name (what an admin types at the command line)."""
    with transaction(session):
        found = session.scalar(select(Reward.id).where(Reward.name == key))
        if found is None and key.isdigit():
            found = session.scalar(select(Reward.id).where(Reward.id == int(key)))
        if found is None:
            raise NotFound(f"no reward with id or name {key!r}")
        return found


def _partner_reward(session: Session, reward_id: int, lock: bool = False) -> Reward:
    query = select(Reward).where(Reward.id == reward_id)
    reward = session.scalar(query.with_for_update(of=Reward) if lock else query)
    if reward is None:
        raise NotFound(f"reward {reward_id} not found")
    if not reward.partner:  # the pool does not exist until the reward has a partner
        raise NotFound(f"{reward.name} has no code pool: it is not a partner reward (set its partner first)")
    return reward


def _counts(session: Session, reward: Reward) -> dict:
    counts = reward_codes.pool_counts(session, reward.id)
    return {"reward_id": reward.id, "reward": reward.name, "partner": reward.partner, "total": counts.total,
            "available": counts.free, "handed_out": counts.handed_out,
            "low_codes_threshold": reward.low_codes_threshold,
            "low": reward_limits.pool_low(counts.free, reward.low_codes_threshold)}


def pool(session: Session, reward_id: int) -> dict:
    """How many codes the partner reward's pool holds, has handed out and has left."""
    with transaction(session):
        return _counts(session, _partner_reward(session, reward_id))


def _refuse(lines: list[tuple[int, str]], what: str) -> None:
    shown = [f"line {line}: {why}" if line else why for line, why in lines[:SHOWN_PROBLEMS]]
    if len(lines) > SHOWN_PROBLEMS:
        shown.append(f"… and {len(lines) - SHOWN_PROBLEMS} more")
    raise Unprocessable(f"{len(lines)} {what}; nothing imported", {"codes": shown})


def import_codes(session: Session, reward_id: int, found: CodeList, now: datetime) -> dict:
    """Add a partner's codes to the reward's pool, all or none. Codes already in this pool are
    counted, not added again, so importing the same file twice changes nothing; a code of another
    reward's pool, or a row that is no code, refuses the whole import (422)."""
    if found.problems:
        _refuse(found.problems, "rows are not codes" if len(found.problems) > 1 else "row is not a code")
    try:
        with transaction(session):
            reward = _partner_reward(session, reward_id, lock=True)  # one import of a pool at a time
            owners = reward_codes.owners(session, [code for _, code in found.codes])
            foreign = [(line, "the code is in another reward's pool") for line, code in found.codes
                       if owners.get(code, reward.id) != reward.id]
            if foreign:
                _refuse(foreign, "codes belong to other rewards")
            new = [code for _, code in found.codes if code not in owners]
            reward_codes.add(session, reward.id, new, now)
            answer = {**_counts(session, reward), "imported": len(new),
                      "already_in_pool": len(found.codes) - len(new), "repeated": len(found.repeated)}
    except IntegrityError:  # another pool's import took one of these codes meanwhile
        raise Conflict("some codes were imported elsewhere at the same time; import again") from None
    changed(session)
    return answer
