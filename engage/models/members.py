"""Members, their consent history and suppressed addresses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column

import engage.models.program  # noqa: F401  (tiers table for the foreign key)
from engage.db import Base, UTCDateTime
from engage.vocabulary import Channel


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Nullable so an erased member keeps its row (and ledger) without personal data.
    external_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    timezone: Mapped[str | None] = mapped_column(String(64))
    sms_consent: Mapped[bool] = mapped_column(default=False)
    email_consent: Mapped[bool] = mapped_column(default=False)
    # Opt-outs come from the member (STOP, unsubscribe link); only the member lifts them.
    sms_opted_out: Mapped[bool] = mapped_column(default=False)
    email_opted_out: Mapped[bool] = mapped_column(default=False)
    tier_id: Mapped[int] = mapped_column(ForeignKey("tiers.id"))
    referral_code: Mapped[str] = mapped_column(String(16), unique=True)
    referred_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    unsubscribe_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The sums of the member's ledger entries and of its `earn` entries, added to by a trigger on
    # every ledger insert (migration 0005), so never written here. Read them with SQL
    # (ledger.stored_totals, the purchase statement): an ORM object loaded earlier may be stale.
    points_balance: Mapped[int] = mapped_column(server_default=text("0"))
    points_earned: Mapped[int] = mapped_column(server_default=text("0"))


# The console's member search at a million members (migration 0012). Names are found by a prefix
# of the lower-cased first name (with one of the last name: "ana pop") or of the last name; emails
# whatever their case. text_pattern_ops lets `LIKE 'abc%'` use the index under any collation.
# PostgreSQL's only: SQLite has no such operator class, its SQLAlchemy cannot reflect expression
# indexes (a whole-schema reflection would warn), and its small tables are searched well enough
# without.
Index("ix_members_name_prefix", func.lower(Member.first_name).label("first"),
      func.lower(Member.last_name).label("last"),
      postgresql_ops={"first": "text_pattern_ops", "last": "text_pattern_ops"}).ddl_if(dialect="postgresql")
Index("ix_members_last_name_prefix", func.lower(Member.last_name).label("last"),
      postgresql_ops={"last": "text_pattern_ops"}).ddl_if(dialect="postgresql")
Index("ix_members_email_lower", func.lower(Member.email)).ddl_if(dialect="postgresql")
# The console's members list of one tier, newest first, a page at a time.
Index("ix_members_tier", Member.tier_id, Member.id)


class ConsentEvent(Base):
    """Every consent or opt-out change, with when and where it came from."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    channel: Mapped[Channel] = mapped_column(String(5))
    change: Mapped[str] = mapped_column(String(20))  # consent_given, consent_withdrawn, opt_out, opt_in
    source: Mapped[str] = mapped_column(String(60))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Suppression(Base):
    """An address or number that must never be sent to (bounce, spam report, invalid, 21610).

    Keyed by a hash of the address (engage.messaging.personal_data.address_key), never the address
    itself, so the list keeps refusing an erased member's number without holding it."""

    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("channel", "address_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(String(5))
    address_hash: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
