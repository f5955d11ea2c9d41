"""Marketer-editable content: flow settings, template versions; and job runs."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engage.db import Base, UTCDateTime
from engage.vocabulary import Channel


class FlowSetting(Base):
    __tablename__ = "flow_settings"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    channels: Mapped[list] = mapped_column(JSON)
    delay_seconds: Mapped[int] = mapped_column(default=0)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TemplateVersion(Base):
    """Every saved version of a flow template; the newest one is live."""

    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("flow", "channel", "locale", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    flow: Mapped[str] = mapped_column(String(40))
    channel: Mapped[Channel] = mapped_column(String(5))
    locale: Mapped[str] = mapped_column(String(10))
    version: Mapped[int]
    parts: Mapped[dict] = mapped_column(JSON)
    restored_from: Mapped[int | None]
    created_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JobRun(Base):
    """A job done for a date; the unique key makes a rerun for the same date a no-op."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("name", "as_of"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    as_of: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    summary: Mapped[dict] = mapped_column(JSON, default=dict)


class SenderBudget(Base):
    """A token bucket per sender shared by every dispatcher process (PostgreSQL deployments)."""

    __tablename__ = "sender_budgets"

    sender: Mapped[str] = mapped_column(String(40), primary_key=True)
    tokens: Mapped[float]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
