"""Rendered message content, as flows and replies hand it to the outbox."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Content:
    body: str
    subject: str | None = None
    html: str | None = None
    locale: str | None = None
    # The experiment whose variant ('A' or 'B') was rendered, for the message to record.
    experiment_id: int | None = None
    variant: str | None = None
