"""The live template of a flow: the newest saved version, else the shipped default."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engage.models import TemplateVersion
from engage.templating import LAYOUT, default_template, locale_chain, resolve_locale
from engage.templating.defaults import LAYOUT_FILES


def saved_version(session: Session, flow: str, channel: str, locale: str) -> TemplateVersion | None:
    return session.scalar(select(TemplateVersion).where(
        TemplateVersion.flow == flow, TemplateVersion.channel == channel, TemplateVersion.locale == locale,
    ).order_by(TemplateVersion.version.desc()).limit(1))


def live_template(session: Session, flow: str, channel: str, locale: str | None,
                  program_locale: str) -> tuple[dict, str]:
    """(parts, locale used) for the closest locale that has any template: the marketer's newest
    version of it, else the shipped default of it. (An edited English template must not
    replace the shipped Dutch one for a Dutch member.) An email's parts also carry, as LAYOUT,
    the live layout its HTML goes into, found the same way."""
    parts, used = _closest(session, flow, channel, locale, program_locale)
    if flow != LAYOUT and channel in LAYOUT_FILES:
        parts[LAYOUT] = _closest(session, LAYOUT, channel, locale, program_locale)[0]["html"]
    return parts, used


def _closest(session: Session, flow: str, channel: str, locale: str | None,
             program_locale: str) -> tuple[dict, str]:
    for tag in locale_chain(locale, program_locale):
        version = saved_version(session, flow, channel, tag)
        if version is not None:
            return dict(version.parts), tag
        if resolve_locale(tag) == tag:  # a shipped default exists for exactly this locale
            return default_template(flow, channel, tag), tag
    return default_template(flow, channel, locale, program_locale=program_locale), resolve_locale(
        locale, program_locale)
