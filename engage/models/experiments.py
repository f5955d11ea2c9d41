"""A/B experiments on a flow's template for one channel and locale."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from engage.db import Base, UTCDateTime
from engage.vocabulary import Channel


class Experiment(Base):
    """Variant B of a flow template (A is the live template), the share of members that get B,
    and the outcome the variants are compared on. Messages carry its id and their variant."""

    __tablename__ = "experiments"
    __table_args__ = (
        # At most one running experiment per template: a member's message must have one variant.
        Index("ux_experiments_running", "flow", "channel", "locale", unique=True,
              postgresql_where=text("status = 'running'"), sqlite_where=text("status = 'running'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    flow: Mapped[str] = mapped_column(String(40))
    channel: Mapped[Channel] = mapped_column(String(5))
    locale: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(120))
    parts: Mapped[dict] = mapped_column(JSON)  # variant B: sms {body}; email {subject, html, text}
    split_percent: Mapped[int]  # the share of members that get B
    outcome: Mapped[str] = mapped_column(String(12))  # reply | redemption | purchase
    window_days: Mapped[int]
    status: Mapped[str] = mapped_column(String(10))  # running | stopped | promoted
    promoted_version: Mapped[int | None]  # the template version B was saved as
    created_by: Mapped[str | None] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
