"""Partner code pools and reward stock: counts, imports, and the claims redemptions make."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from engage.models import Reward, RewardCode


@dataclass(frozen=True)
class PoolCounts:
    total: int
    free: int

    @property
    def handed_out(self) -> int:
        return self.total - self.free


def free_counts(session: Session) -> dict[int, int]:
    """Codes not handed out yet, per partner reward (from the partial index over free codes)."""
    return dict(session.execute(select(RewardCode.reward_id, func.count())
                                .where(RewardCode.redemption_id.is_(None)).group_by(RewardCode.reward_id)).all())


def pool_counts(session: Session, reward_id: int) -> PoolCounts:
    total, free = session.execute(
        select(func.count(), func.count().filter(RewardCode.redemption_id.is_(None)))
        .where(RewardCode.reward_id == reward_id)).one()
    return PoolCounts(total, free)


def free_left(session: Session, reward_id: int) -> int:
    return session.scalar(select(func.count()).where(RewardCode.reward_id == reward_id,
                                                     RewardCode.redemption_id.is_(None)))


def owners(session: Session, codes: Iterable[str]) -> dict[str, int]:
    """The reward each of these codes already belongs to, for those already imported."""
    codes, found = list(codes), {}
    for start in range(0, len(codes), 500):  # bounded IN lists
        found.update(session.execute(select(RewardCode.code, RewardCode.reward_id)
                                     .where(RewardCode.code.in_(codes[start:start + 500]))).all())
    return found


def add(session: Session, reward_id: int, codes: list[str], now: datetime) -> None:
    if codes:
        session.execute(insert(RewardCode), [{"reward_id": reward_id, "code": code, "imported_at": now}
                                             for code in codes])


def take_code(session: Session, reward_id: int) -> RewardCode | None:
    """The oldest free code of the pool, locked for this transaction. On PostgreSQL concurrent
    redemptions skip the codes others hold (SKIP LOCKED) instead of queueing behind them, so each
    gets a different one; SQLite runs one writing transaction at a time."""
    return session.scalar(select(RewardCode).where(RewardCode.reward_id == reward_id,
                                                   RewardCode.redemption_id.is_(None))
                          .order_by(RewardCode.id).limit(1).with_for_update(skip_locked=True))


def hand_out(code: RewardCode, redemption_id: int, now: datetime) -> None:
    code.redemption_id, code.claimed_at = redemption_id, now


def take_stock(session: Session, reward_id: int) -> int | None:
    """One unit off the reward's stock in one statement (the row lock orders concurrent ones);
    the units left, or None when none was left to take."""
    return session.scalar(update(Reward).where(Reward.id == reward_id, Reward.stock > 0)
                          .values(stock=Reward.stock - 1).returning(Reward.stock))


def codes_after(session: Session, reward_id: int, code_id: int) -> int:
    """Codes of the pool after this one in claim order, handed out or not: what is left once it is
    handed out when codes go in order, and one code's fixed rank however claims interleave."""
    return session.scalar(select(func.count()).where(RewardCode.reward_id == reward_id, RewardCode.id > code_id))
