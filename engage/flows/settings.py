"""A flow's marketer settings: on/off, channel preference, delay, parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engage.defaults import FLOWS
from engage.models import FlowSetting


@dataclass(frozen=True)
class FlowConfig:
    key: str
    enabled: bool
    channels: tuple[str, ...]
    delay: timedelta
    params: dict = field(default_factory=dict)


def flow_config(session: Session, key: str) -> FlowConfig:
    """The stored settings, or the defaults for a flow nobody has configured (read now)."""
    return _config(key, session.get(FlowSetting, key))


def all_flow_configs(session: Session) -> dict[str, FlowConfig]:
    rows = {row.key: row for row in session.scalars(select(FlowSetting))}
    return {key: _config(key, rows.get(key)) for key in FLOWS}


def live_flow_config(session: Session, key: str) -> FlowConfig:
    """The settings flows act on: from the per-process program cache (cleared on edits)."""
    from engage.services.program import load

    return load(session).flows.get(key) or flow_config(session, key)


def _config(key: str, row: FlowSetting | None) -> FlowConfig:
    default = FLOWS[key]
    if row is None:
        return FlowConfig(key, True, tuple(default["channels"]), timedelta(seconds=default["delay_seconds"]),
                          dict(default["params"]))
    params = {**default["params"], **(row.params or {})}
    return FlowConfig(key, row.enabled, tuple(row.channels), timedelta(seconds=row.delay_seconds), params)
