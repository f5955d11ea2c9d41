"""Paid memberships and the program's gifts to causes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engage.db import Base, UTCDateTime
from engage.models.ledger import BigId


class Membership(Base):
    """A paid tier bought for a period, identified by the shop's payment reference."""

    __tablename__ = "memberships"
    __table_args__ = (Index("ix_memberships_member", "member_id", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    tier_id: Mapped[int] = mapped_column(ForeignKey("tiers.id"))
    # The shop's payment reference: one membership per payment, so a retried POST buys nothing twice.
    payment_reference: Mapped[str] = mapped_column(String(120), unique=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(12))  # active | cancelled | refunded
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by the daily sweep that saw the period over (and audited the fall back to the earned tier).
    lapsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CauseGift(Base):
    """Money given to a cause: the program's share of one purchase, or a member's donation reward.

    Insert-only (no running-total row that every purchase would update and wait on); totals are
    sums by cause."""

    __tablename__ = "cause_gifts"
    __table_args__ = (Index("ix_cause_gifts_cause", "cause"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    cause: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(12))  # purchase | donation
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"), unique=True)
    redemption_id: Mapped[int | None] = mapped_column(ForeignKey("redemptions.id"), unique=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    points: Mapped[int]
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Challenge(Base):
    """A time-boxed goal with a bonus on completion (engage.loyalty.challenges)."""

    __tablename__ = "challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    goal: Mapped[int]
    bonus: Mapped[int]
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    join: Mapped[str] = mapped_column(String(10))
    keyword: Mapped[str | None] = mapped_column(String(20), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChallengeMember(Base):
    """A member in a challenge: their progress, and when they completed it (once: one row per
    challenge and member, completed by a conditional update; the bonus's ledger source is unique)."""

    __tablename__ = "challenge_members"
    __table_args__ = (UniqueConstraint("challenge_id", "member_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    progress: Mapped[int]
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
