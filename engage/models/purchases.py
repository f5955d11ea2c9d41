"""What members bought (a purchase's line items) and the personalised offers made of it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from engage.db import Base, UTCDateTime
from engage.models.ledger import BigId


class PurchaseItem(Base):
    """One line of a purchase event: what the offer rules count and the member's export lists."""

    __tablename__ = "purchase_items"
    __table_args__ = (
        # The offer rules read a member's recent items after each purchase with items.
        Index("ix_purchase_items_member_occurred", "member_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    category: Mapped[str | None] = mapped_column(String(64))
    quantity: Mapped[int]
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Offer(Base):
    """A reward made to one member for fewer points, until `ends_at`; redeemed at most once."""

    __tablename__ = "offers"
    __table_args__ = (Index("ix_offers_member_rule", "member_id", "rule_key", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    rule_key: Mapped[str] = mapped_column(String(40))
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id"))
    product: Mapped[str] = mapped_column(String(120))
    cost: Mapped[int]
    keyword: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set once, by the redemption that used it (unique: one redemption per offer).
    redemption_id: Mapped[int | None] = mapped_column(ForeignKey("redemptions.id"), unique=True)
