"""The ledger (append-only), lots for expiry and FIFO, events, redemptions, idempotency."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from engage.db import Base, UTCDateTime
from engage.vocabulary import LedgerKind

# SQLite only auto-increments INTEGER PRIMARY KEY, so big ids are plain integers there.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class LedgerEntry(Base):
    """One change of points. Never updated or deleted; the balance is their sum."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        # `source` names what caused the entry; one entry per cause makes once-only rules
        # (signup, social follow, feedback per request, reply per message) hold under races.
        UniqueConstraint("member_id", "source"),
        # INCLUDE points: balance and qualifying totals come from the index alone (migration 0004)
        Index("ix_ledger_entries_member_kind_occurred", "member_id", "kind", "occurred_at",
              postgresql_include=["points"]),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    points: Mapped[int]
    kind: Mapped[LedgerKind] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Lot(Base):
    """What is left of one credit; consumed oldest first, expired by the daily sweep."""

    __tablename__ = "lots"
    __table_args__ = (
        Index("ix_lots_member_open", "member_id", "expires_at", postgresql_where=text("remaining > 0"),
              sqlite_where=text("remaining > 0")),
        Index("ix_lots_open_expiry", "expires_at", postgresql_where=text("remaining > 0"),
              sqlite_where=text("remaining > 0")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    ledger_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    points: Mapped[int]
    remaining: Mapped[int]
    earned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Event(Base):
    """A purchase or action reported by the shop."""

    __tablename__ = "events"
    # A member's purchases after a message (experiments' "purchase within N days").
    __table_args__ = (Index("ix_events_member_type_occurred", "member_id", "type", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    type: Mapped[str] = mapped_column(String(30))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    points_awarded: Mapped[int]


class Redemption(Base):
    __tablename__ = "redemptions"
    # A member's redemptions after a message (experiments' "redemption within N days").
    __table_args__ = (Index("ix_redemptions_member_created", "member_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id"))
    kind: Mapped[str] = mapped_column(String(20))
    points: Mapped[int]
    value: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    coupon_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdempotencyRecord(Base):
    """The answer given for an Idempotency-Key, replayed for the same request."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Whose request it was, so erasure can drop the member's keys (a shop may build them from
    # personal data). No foreign key: the record only answers replays.
    member_id: Mapped[int | None] = mapped_column(index=True)
    scope: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
