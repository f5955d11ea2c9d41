"""Marketers' flow administration: settings (on/off, channels, delay, parameters) and templates
per channel and locale, with every saved version kept and restorable; likewise the email layout
all flows share (its versions are stored as flow LAYOUT's)."""

from __future__ import annotations

from datetime import datetime

from babel import Locale, UnknownLocaleError
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engage.defaults import FLOWS
from engage.errors import Conflict, NotFound, Unprocessable
from engage.messaging import flow_params
from engage.messaging.opt_out_wording import missing_opt_out_message, sms_warnings
from engage.models import FlowSetting, Program, TemplateVersion
from engage.services import audit
from engage.store import transaction
from engage.store.program import FlowConfig, changed, flow_config, load
from engage.templating import (
    FLOW_KEYS,
    LAYOUT,
    TemplateError,
    default_template,
    validate_layout,
    validate_template,
)
from engage.templating.defaults import LAYOUT_FILES, normalize_locale
from engage.vocabulary import Channel

MAX_DELAY_SECONDS = 90 * 86400
MAX_LOCALE_CHARS = 10
# The first text after opt-in must say how to opt out again: it cannot be saved without it.
OPT_OUT_REQUIRED = frozenset({("welcome", Channel.SMS)})


def check_flow(flow: str) -> str:
    if flow not in FLOW_KEYS:
        raise NotFound(f"no flow {flow!r}; flows are {', '.join(FLOW_KEYS)}")
    return flow


def check_channel(channel: str) -> str:
    if channel not in tuple(Channel):
        raise NotFound(f"no channel {channel!r}; channels are sms and email")
    return channel


def check_locale(locale: str) -> str:
    """The canonical tag ('nl-be' → 'nl_BE') of any locale Babel knows, else 404."""
    tag = normalize_locale(locale)
    try:
        Locale.parse(tag)
    except (UnknownLocaleError, ValueError, TypeError):
        tag = ""
    if not tag or len(tag) > MAX_LOCALE_CHARS:  # members' locales are no longer either
        raise NotFound(f"{locale!r} is not a known locale (e.g. en, nl, de, ro, fr)")
    return tag


def flow_json(config: FlowConfig) -> dict:
    return {"key": config.key, "enabled": config.enabled, "channels": list(config.channels),
            "delay": int(config.delay.total_seconds()), "params": flow_params.as_json(config.params)}


def list_flows(session: Session) -> list[dict]:
    """The lifecycle flows with their settings."""
    with transaction(session):
        return [flow_json(flow_config(session, key)) for key in FLOW_KEYS]


def get_flow(session: Session, flow: str) -> dict:
    """One flow's settings."""
    with transaction(session):
        return flow_json(flow_config(session, check_flow(flow)))


def update_flow(session: Session, flow: str, changes: dict, now: datetime, actor: audit.Actor | None = None) -> dict:
    """Switch a flow on or off, change its channels, delay or parameters (merged). With `actor`,
    an actual change is recorded in the audit log in the same transaction (both or neither)."""
    check_flow(flow)
    errors = flow_params.problems(flow, changes.get("params") or {})
    if errors:
        raise Unprocessable(f"invalid parameters for {flow}: " + "; ".join(
            f"{name}: {problems[0]}" for name, problems in errors.items()), {"params": errors})
    with transaction(session):
        row = _flow_row(session, flow, now)
        before = flow_json(flow_config(session, flow))
        if "enabled" in changes:
            row.enabled = changes["enabled"]
        if "channels" in changes:
            row.channels = list(changes["channels"])
        if "delay" in changes:
            row.delay_seconds = changes["delay"]
        if changes.get("params"):
            row.params = {**(row.params or {}), **changes["params"]}
        row.updated_at = now
        session.flush()
        answer = flow_json(flow_config(session, flow))
        if actor is not None and answer != before:
            audit.add(session, actor, "flow.update", "flow", flow, before, answer, now)
    changed(session)
    return answer


def _flow_row(session: Session, flow: str, now: datetime) -> FlowSetting:
    """The flow's settings row, locked for this transaction (created from the defaults if missing)."""
    row = session.scalar(select(FlowSetting).where(FlowSetting.key == flow).with_for_update()
                         .execution_options(populate_existing=True))
    if row is None:
        default = FLOWS[flow]
        row = FlowSetting(key=flow, enabled=True, channels=list(default["channels"]),
                          delay_seconds=default["delay_seconds"], params={}, updated_at=now)
        session.add(row)
    return row


# Templates ---------------------------------------------------------------------------------------

def _versions(flow: str, channel: str, locale: str) -> Select:
    return select(TemplateVersion).where(TemplateVersion.flow == flow, TemplateVersion.channel == channel,
                                         TemplateVersion.locale == locale)


def _address(flow: str, channel: str, locale: str) -> tuple[str, str, str]:
    if flow == LAYOUT:
        if channel not in LAYOUT_FILES:
            raise NotFound(f"no layout for channel {channel!r}; only email has one")
        return flow, channel, check_locale(locale)
    return check_flow(flow), check_channel(channel), check_locale(locale)


def version_json(row: TemplateVersion) -> dict:
    return {"flow": row.flow, "channel": row.channel, "locale": row.locale, "version": row.version,
            "created_at": row.created_at, "created_by": row.created_by, "restored_from": row.restored_from,
            "parts": dict(row.parts)}


def _shipped(session: Session, flow: str, channel: str, locale: str) -> dict:
    """Version 0: the default that ships for this locale (or the program's fallback language)."""
    parts = default_template(flow, channel, locale, program_locale=load(session).program.default_locale)
    return {"flow": flow, "channel": channel, "locale": locale, "version": 0, "created_at": None,
            "created_by": None, "restored_from": None, "parts": parts}


def get_template(session: Session, flow: str, channel: str, locale: str) -> dict:
    """The newest saved version of a template, or the shipped default as version 0."""
    flow, channel, locale = _address(flow, channel, locale)
    with transaction(session):
        return _with_warnings(live_version(session, flow, channel, locale))


def live_version(session: Session, flow: str, channel: str, locale: str) -> dict:
    """The newest saved version, or the shipped default as version 0 (in the caller's transaction)."""
    row = session.scalar(_versions(flow, channel, locale).order_by(TemplateVersion.version.desc()).limit(1))
    return version_json(row) if row else _shipped(session, flow, channel, locale)


def template_warnings(flow: str, channel: str, locale: str, parts: dict) -> list[dict]:
    """What a marketer should fix in a flow's template but may save: an SMS without opt-out
    wording in its language (the layout and email get none)."""
    if flow == LAYOUT or channel != Channel.SMS:
        return []
    return [{"code": w.code, "message": w.message} for w in sms_warnings(parts.get("body"), locale)]


def _with_warnings(version: dict) -> dict:
    warnings = template_warnings(version["flow"], version["channel"], version["locale"], version["parts"])
    return {**version, "warnings": warnings}


def customised(session: Session, flow: str) -> set[tuple[str, str]]:
    """The (channel, locale) pairs of a flow with a saved version (the others use the shipped default)."""
    check_flow(flow)
    with transaction(session):
        return {(channel, locale) for channel, locale in session.execute(
            select(TemplateVersion.channel, TemplateVersion.locale).where(TemplateVersion.flow == flow).distinct())}


def get_version(session: Session, flow: str, channel: str, locale: str, version: int) -> dict:
    """One saved version of a template (0: the shipped default); 404 if there is no such version."""
    flow, channel, locale = _address(flow, channel, locale)
    with transaction(session):
        return _version(session, flow, channel, locale, version)


def _version(session: Session, flow: str, channel: str, locale: str, version: int) -> dict:
    if version == 0:
        return _shipped(session, flow, channel, locale)
    row = session.scalar(_versions(flow, channel, locale).where(TemplateVersion.version == version))
    if row is None:
        raise NotFound(f"{flow} {channel} template in {locale} has no version {version}")
    return version_json(row)


def template_versions(flow: str, channel: str, locale: str) -> Select:
    """The query of a template's saved versions (the caller pages through it, newest first)."""
    return _versions(*_address(flow, channel, locale))


def _error_text(error: TemplateError) -> str:
    return f"line {error.line}: {error.message}" if error.line else error.message


def template_errors(errors: list[TemplateError]) -> Unprocessable:
    by_field: dict[str, list[str]] = {}
    for error in errors:
        by_field.setdefault(error.field, []).append(_error_text(error))
    summary = "; ".join(f"{field}: {problems[0]}" for field, problems in by_field.items())
    return Unprocessable(f"the template has errors: {summary}", by_field)


def save_template(session: Session, flow: str, channel: str, locale: str, parts: dict, author: str | None,
                  now: datetime) -> dict:
    """Validate and save a new version (n+1), which becomes the live template at once."""
    flow, channel, locale = _address(flow, channel, locale)
    with transaction(session):
        check_template(session, flow, channel, locale, parts)
        return _with_warnings(add_version(session, flow, channel, locale, dict(parts), author, now, None))


def check_template(session: Session, flow: str, channel: str, locale: str, parts: dict) -> None:
    """422 with every error by part, as saving would answer (an experiment's variant B too)."""
    if flow == LAYOUT:
        errors = validate_layout(channel, parts, locale)
    else:
        limit = int(load(session).settings["max_sms_segments"])
        errors = validate_template(channel, parts, limit, locale=locale)
        body_ok = not any(error.field == "body" for error in errors)
        if (flow, channel) in OPT_OUT_REQUIRED and body_ok and template_warnings(flow, channel, locale, parts):
            errors = [*errors, TemplateError("body", missing_opt_out_message(locale))]
    if errors:
        raise template_errors(errors)


def restore_version(session: Session, flow: str, channel: str, locale: str, version: int, author: str | None,
                    now: datetime) -> dict:
    """Save version n's parts again as the newest version (0: the shipped default); 422 if they
    no longer validate."""
    flow, channel, locale = _address(flow, channel, locale)
    with transaction(session):
        parts = dict(_version(session, flow, channel, locale, version)["parts"])
        check_template(session, flow, channel, locale, parts)  # rules may have changed (segment limit)
        return _with_warnings(add_version(session, flow, channel, locale, parts, author, now, version))


def add_version(session: Session, flow: str, channel: str, locale: str, parts: dict, author: str | None,
                now: datetime, restored_from: int | None) -> dict:
    """Add version n+1 inside the caller's transaction (checked already)."""
    # Locking the flow's settings row serialises concurrent saves of its templates (PostgreSQL);
    # the layout belongs to no flow, so its saves lock the program's row.
    if flow == LAYOUT:
        session.scalar(select(Program.id).with_for_update())
    else:
        session.scalar(select(FlowSetting.key).where(FlowSetting.key == flow).with_for_update())
    newest = session.scalar(select(func.max(TemplateVersion.version)).where(
        TemplateVersion.flow == flow, TemplateVersion.channel == channel, TemplateVersion.locale == locale))
    row = TemplateVersion(flow=flow, channel=channel, locale=locale, version=(newest or 0) + 1, parts=parts,
                          restored_from=restored_from, created_by=author, created_at=now)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise Conflict("someone saved this template at the same moment; reload it and save again") from None
    return version_json(row)
