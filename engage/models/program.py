"""The program itself: settings, tiers, rewards catalog, API keys."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engage.db import Base, UTCDateTime
from engage.models.ledger import BigId


class Program(Base):
    """A single row (id 1): name, locale, time zone and the editable rule settings."""

    __tablename__ = "program"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    currency: Mapped[str] = mapped_column(String(3))
    default_locale: Mapped[str] = mapped_column(String(10))
    timezone: Mapped[str] = mapped_column(String(64))
    help_text: Mapped[str] = mapped_column(Text)
    charity_name: Mapped[str] = mapped_column(String(120))
    settings: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Tier(Base):
    __tablename__ = "tiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    threshold: Mapped[int] = mapped_column(unique=True)
    multiplier: Mapped[Decimal] = mapped_column(Numeric(6, 3))
    benefits: Mapped[list] = mapped_column(JSON)


class Reward(Base):
    __tablename__ = "rewards"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    cost: Mapped[int]
    min_tier_id: Mapped[int | None] = mapped_column(ForeignKey("tiers.id"))
    value: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    active: Mapped[bool] = mapped_column(default=True)
    description: Mapped[str | None] = mapped_column(String(500))
    # {locale: {"name": …, "description": …}} in other locales than the program's default, whose
    # text is `name` and `description` (engage.loyalty.rewards.reward_text picks one).
    texts: Mapped[dict] = mapped_column(JSON, default=dict)
    # A partner reward hands out codes from its pool (reward_codes) instead of Engage's own; admins
    # hear when fewer than `low_codes_threshold` are left.
    partner: Mapped[str | None] = mapped_column(String(120))
    low_codes_threshold: Mapped[int | None]
    # The calendar: members of `early_access_tier_ids` may redeem from `early_access_from`, everyone
    # else from `starts_at`; nobody after `ends_at`. None: no such limit.
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    early_access_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    early_access_tier_ids: Mapped[list | None] = mapped_column(JSON)
    # Units left (None: unlimited), decremented in the redemption's transaction.
    stock: Mapped[int | None]
    # The product category it applies to (a purchase line item's category), or None for any.
    category: Mapped[str | None] = mapped_column(String(60))

    min_tier: Mapped[Tier | None] = relationship(lazy="joined")


class RewardCode(Base):
    """One code of a partner's pool; handed out once, to the redemption that claimed it."""

    __tablename__ = "reward_codes"
    __table_args__ = (
        # The claim's order, over codes still free only.
        Index("ix_reward_codes_free", "reward_id", "id", postgresql_where=text("redemption_id IS NULL"),
              sqlite_where=text("redemption_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id"))
    # Unique across pools: the code is the redemption's coupon code, unique too.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    redemption_id: Mapped[int | None] = mapped_column(ForeignKey("redemptions.id"), unique=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiKey(Base):
    """Only the SHA-256 of a key is stored; the key itself is shown once at creation."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Written at most once a minute per key and process (services.keys.KeyCache): to the minute.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
