"""The message outbox/inbox, provider webhook dedupe, and feedback."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from engage.db import Base, UTCDateTime
from engage.models.ledger import BigId
from engage.vocabulary import Channel, Direction, MessageStatus

OUT_FLOWS = "direction = 'out' AND flow IS NOT NULL AND is_test = false"
REPLIES = "direction = 'in' AND in_reply_to_id IS NOT NULL AND simulated = false"
PENDING = "direction = 'out' AND status IN ('scheduled', 'queued')"


class Message(Base):
    """One SMS or email, in or out. Outbound rows are the outbox the dispatcher drains."""

    __tablename__ = "messages"
    __table_args__ = (
        # The dispatcher's claim order, over queued rows only.
        Index("ix_messages_due", "priority", "send_after", "id", postgresql_where=text("status = 'queued'"),
              sqlite_where=text("status = 'queued'")),
        Index("ix_messages_member", "member_id", "id"),
        Index("ix_messages_status_flow", "status", "flow"),
        # A member's flow messages, newest first: what a reply answers, the open feedback request.
        # Read by every inbound message; only flow messages are in it, so answers cost it nothing.
        Index("ix_messages_member_flow_sent", "member_id", "sent_at", "id",
              postgresql_where=text("direction = 'out' AND flow IS NOT NULL"),
              sqlite_where=text("direction = 'out' AND flow IS NOT NULL")),
        # The console (migration 0012): the flows' last-30-days counts and the replies to them,
        # read from the index alone; a member's waiting messages without reading their history.
        Index("ix_messages_flow_counts", "created_at", "flow", "status",
              postgresql_where=text(OUT_FLOWS), sqlite_where=text(OUT_FLOWS)),
        Index("ix_messages_replies", "created_at", "in_reply_to_id",
              postgresql_where=text(REPLIES), sqlite_where=text(REPLIES)),
        Index("ix_messages_member_pending", "member_id", "send_after", "id",
              postgresql_where=text(PENDING), sqlite_where=text(PENDING)),
        # An experiment's messages by variant (its results page), and the replies to a message.
        Index("ix_messages_experiment", "experiment_id", "variant",
              postgresql_where=text("experiment_id IS NOT NULL"), sqlite_where=text("experiment_id IS NOT NULL")),
        Index("ix_messages_in_reply_to", "in_reply_to_id",
              postgresql_where=text("in_reply_to_id IS NOT NULL"), sqlite_where=text("in_reply_to_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    direction: Mapped[Direction] = mapped_column(String(3))
    flow: Mapped[str | None] = mapped_column(String(40))
    channel: Mapped[Channel] = mapped_column(String(5))
    status: Mapped[MessageStatus] = mapped_column(String(12))
    to_address: Mapped[str | None] = mapped_column(String(254))
    from_address: Mapped[str | None] = mapped_column(String(254))
    locale: Mapped[str | None] = mapped_column(String(10))
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str | None] = mapped_column(Text)
    segments: Mapped[int | None]
    encoding: Mapped[str | None] = mapped_column(String(6))
    priority: Mapped[int] = mapped_column(default=9)
    # Answers to the member's own text and marketer test sends skip quiet hours and caps.
    exempt: Mapped[bool] = mapped_column(default=False)
    is_test: Mapped[bool] = mapped_column(default=False)
    # Sent or received by the console's phone simulator: never dispatched, left out of every count.
    simulated: Mapped[bool] = mapped_column(default=False, server_default=false())
    # One row per flow occurrence: the unique key is what makes "fires once" hold under races.
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    send_after: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The dispatcher thread holding the row `sending` (engage.services.claims.Claimant), and when
    # it handed the row to a provider: a row `sending` with no handed_at was never sent.
    claimant: Mapped[int | None] = mapped_column()
    handed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_id: Mapped[str | None] = mapped_column(String(80), index=True)
    error_code: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(String(300))
    in_reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    action: Mapped[str | None] = mapped_column(String(40))  # inbound: what the reply did
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    # The experiment whose variant ('A' or 'B') this flow message carries; kept after it stops.
    experiment_id: Mapped[int | None] = mapped_column(ForeignKey("experiments.id"))
    variant: Mapped[str | None] = mapped_column(String(1))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookEvent(Base):
    """Provider event ids already handled (Twilio MessageSid, SendGrid sg_event_id)."""

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(120))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Feedback(Base):
    """A rating or words about a purchase; one per feedback request."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    request_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), unique=True)
    inbound_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    rating: Mapped[int | None]
    text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
