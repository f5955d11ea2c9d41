"""Queueing one flow message for one member: settings, live template, context, outbox row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from engage.flows.context import build_context
from engage.flows.settings import flow_config
from engage.flows.templates import live_template
from engage.models import Member, Message
from engage.outbox.content import Content
from engage.outbox.enqueue import queue_message
from engage.services.program import ProgramView, load
from engage.templating import render_message


def public_url(session: Session) -> str:
    return session.info.get("public_url", "http://127.0.0.1:5000")


def renderer(session: Session, member: Member, view: ProgramView, flow: str, now: datetime, extra: dict):
    """A function rendering this flow's live template for a channel, in the member's language."""
    context = build_context(session, member, view, now, public_url(session), **extra)

    def render(channel: str) -> Content:
        parts, locale = live_template(session, flow, channel, member.locale, view.program.default_locale)
        rendered = render_message(channel, parts, context, member.locale or locale)
        return Content(body=rendered.body, subject=rendered.subject, html=rendered.html, locale=locale)

    return render


def queue_flow(session: Session, member: Member, flow: str, now: datetime, *, dedupe_key: str,
               extra: dict | None = None, base: datetime | None = None,
               data: dict | None = None, view: ProgramView | None = None) -> Message | None:
    """Write this flow's message unless the flow is off or already fired for `dedupe_key`.

    It goes out the flow's delay after `base` (default now), and never before now.
    """
    config = flow_config(session, flow)
    if not config.enabled:
        return None
    view = view or load(session)
    start = max(now, (base or now) + config.delay)
    render = renderer(session, member, view, flow, now, extra or {})
    return queue_message(session, member, flow=flow, channels=config.channels, render=render, now=now,
                         not_before=start, dedupe_key=dedupe_key, data=data, view=view)
