"""Reading the program's rules (tiers, rewards, settings, flow settings) as plain values for the
pure rules, cached per process."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engage.defaults import FLOWS
from engage.errors import NotFound
from engage.experiments import RunningExperiment
from engage.loyalty.reward_limits import Calendar, units_left
from engage.loyalty.rewards import RewardRule
from engage.loyalty.settings import EarningRules, merged_settings
from engage.loyalty.tiers import TierRule
from engage.messaging.flow_params import FlowParams, from_stored
from engage.models import FlowSetting, Program, Reward, Tier
from engage.store import reward_codes
from engage.store.experiments import running


@dataclass(frozen=True)
class ProgramInfo:
    """The program row's values, safe to share between sessions and threads."""

    name: str
    currency: str
    default_locale: str
    timezone: str
    help_text: str
    charity_name: str


@dataclass(frozen=True)
class FlowConfig:
    """A flow's marketer settings: on/off, channel preference, delay, parameters."""

    key: str
    enabled: bool
    channels: tuple[str, ...]
    delay: timedelta
    params: FlowParams


@dataclass(frozen=True)
class ProgramView:
    program: ProgramInfo
    settings: dict
    rules: EarningRules
    tiers: list[TierRule]
    rewards: list[RewardRule]
    benefits: dict[int, list[str]]
    flows: dict[str, FlowConfig] = field(default_factory=dict)
    # The running experiments by (flow, channel, locale): composing a message reads them.
    experiments: dict[tuple[str, str, str], RunningExperiment] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.program.timezone)

    def tier(self, tier_id: int) -> TierRule:
        return next(t for t in self.tiers if t.id == tier_id)

    def reward(self, reward_id: int) -> RewardRule:
        return next(r for r in self.rewards if r.id == reward_id)


def get_program(session: Session) -> Program:
    program = session.get(Program, 1)
    if program is None:
        raise NotFound("the program is not set up; run `engage db upgrade`")
    return program


def tier_rules(session: Session) -> tuple[list[TierRule], dict[int, list[str]]]:
    rows = list(session.scalars(select(Tier).order_by(Tier.threshold)))
    return ([TierRule(t.id, t.name, t.threshold, Decimal(t.multiplier)) for t in rows],
            {t.id: list(t.benefits or []) for t in rows})


def calendar_of(reward: Reward) -> Calendar:
    return Calendar(reward.starts_at, reward.ends_at, reward.early_access_from,
                    frozenset(reward.early_access_tier_ids or ()))


def reward_rule(reward: Reward, codes_left: int | None) -> RewardRule:
    """The reward as the rules see it; `codes_left` counts its partner pool (None: not a partner's)."""
    return RewardRule(reward.id, reward.name, reward.kind, reward.cost,
                      reward.min_tier.threshold if reward.min_tier else None,
                      reward.min_tier.name if reward.min_tier else None, reward.active, reward.description,
                      dict(reward.texts or {}), calendar_of(reward),
                      units_left(reward.stock, codes_left), reward.category, reward.partner)


def reward_rules(session: Session) -> list[RewardRule]:
    rows = list(session.scalars(select(Reward).order_by(Reward.cost, Reward.id)))
    free = reward_codes.free_counts(session) if any(r.partner for r in rows) else {}
    return [reward_rule(r, free.get(r.id, 0) if r.partner else None) for r in rows]


class ProgramCache:
    """The program's rules, cached per process (they are read on every request).

    Edits made through this process clear it at once; other processes see them within `ttl`.
    When the value is only stale (not cleared), one thread reloads it while the others go on
    with the stale value: a reload is several queries, and every worker thread would otherwise
    make it at the same moment.
    """

    def __init__(self, ttl_seconds: float = 2.0):
        self.ttl = ttl_seconds
        self.lock = threading.Lock()
        self.value: ProgramView | None = None
        self.loaded_at = 0.0
        self.loading = False
        self.generation = 0  # bumped by clear(): a load begun before an edit is not kept

    def get(self, loader) -> ProgramView:
        with self.lock:
            if self.value is not None and (self.loading or time.monotonic() - self.loaded_at < self.ttl):
                return self.value
            self.loading, generation = True, self.generation
        value = None
        try:
            value = loader()
            return value
        finally:
            with self.lock:
                self.loading = False
                if value is not None and generation == self.generation:
                    self.value, self.loaded_at = value, time.monotonic()

    def clear(self) -> None:
        with self.lock:
            self.value = None
            self.generation += 1


def _read(session: Session) -> ProgramView:
    program = get_program(session)
    settings = merged_settings(program.settings)
    tiers, benefits = tier_rules(session)
    info = ProgramInfo(program.name, program.currency, program.default_locale, program.timezone,
                       program.help_text, program.charity_name)
    return ProgramView(info, settings, EarningRules.from_settings(settings), tiers,
                       reward_rules(session), benefits, all_flow_configs(session), running(session))


def load(session: Session) -> ProgramView:
    """The program with its rules (from the per-process cache when the session has one)."""
    cache = session.info.get("program_cache")
    return cache.get(lambda: _read(session)) if cache is not None else _read(session)


def changed(session: Session) -> None:
    """Call after editing program, tiers, rewards, flow settings or experiments: this process
    must not serve old rules."""
    cache = session.info.get("program_cache")
    if cache is not None:
        cache.clear()


def flow_config(session: Session, key: str) -> FlowConfig:
    """The stored settings, or the defaults for a flow nobody has configured (read now)."""
    return _flow_config(key, session.get(FlowSetting, key))


def all_flow_configs(session: Session) -> dict[str, FlowConfig]:
    rows = {row.key: row for row in session.scalars(select(FlowSetting))}
    return {key: _flow_config(key, rows.get(key)) for key in FLOWS}


def live_flow_config(session: Session, key: str) -> FlowConfig:
    """The settings flows act on: from the per-process program cache (cleared on edits)."""
    return load(session).flows.get(key) or flow_config(session, key)


def _flow_config(key: str, row: FlowSetting | None) -> FlowConfig:
    params = from_stored(key, row.params if row is not None else None)
    if row is None:
        default = FLOWS[key]
        return FlowConfig(key, True, tuple(default["channels"]), timedelta(seconds=default["delay_seconds"]),
                          params)
    return FlowConfig(key, row.enabled, tuple(row.channels), timedelta(seconds=row.delay_seconds), params)
