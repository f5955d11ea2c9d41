"""Queueing one flow message for one member: settings, live template, context, outbox row."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from engage.experiments import assign
from engage.flows.context import build_context
from engage.flows.templates import live_template
from engage.models import Member, Message
from engage.outbox.content import Content
from engage.outbox.enqueue import prepare_scheduled, queue_message, schedule_message
from engage.store.contacts import Contact, read_contact
from engage.store.program import FlowConfig, ProgramView, live_flow_config, load
from engage.templating import render_message


def public_url(session: Session) -> str:
    return session.info.get("public_url", "http://127.0.0.1:5000")


def renderer(session: Session, member: Member | Contact, view: ProgramView, flow: str, now: datetime,
             extra: dict, *, experiments: bool = True):
    """A function rendering this flow's live template for a channel, in the member's language.

    While an experiment runs on that template, the member's variant (engage.experiments.assign)
    decides between the live template (A) and the experiment's (B); `experiments=False` always
    renders A (a marketer's test send of the template they are editing).
    The context (balance, lots …) is read at the first call: a member who can receive no channel
    gets a `suppressed` row without it."""
    built: dict = {}

    def render(channel: str) -> Content:
        if not built:
            built["context"] = build_context(session, member, view, now, public_url(session), **extra)
        context = built["context"]
        parts, locale = live_template(session, flow, channel, member.locale, view.program.default_locale)
        experiment = view.experiments.get((flow, channel, locale)) if experiments else None
        variant = assign(member.id, experiment.id, experiment.split_percent) if experiment else None
        if variant == "B":
            parts = {**parts, **experiment.parts}  # an email keeps the live layout around B's HTML
        rendered = render_message(channel, parts, context, member.locale or locale)
        return Content(body=rendered.body, subject=rendered.subject, html=rendered.html, locale=locale,
                       experiment_id=experiment.id if experiment else None, variant=variant)

    return render


def encode(value):
    """Template variables as JSON, for a message rendered later (Decimal and date survive)."""
    if isinstance(value, dict):
        return {key: encode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    return value


def decode(value):
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "$decimal" in value:
        return Decimal(value["$decimal"])
    if "$date" in value:
        return date.fromisoformat(value["$date"])
    return {key: decode(item) for key, item in value.items()}


def queue_flow(session: Session, member: Member | Contact | int, flow: str, now: datetime, *, dedupe_key: str,
               extra: dict | None = None, base: datetime | None = None, data: dict | None = None,
               view: ProgramView | None = None, config: FlowConfig | None = None) -> Message | None:
    """Write this flow's message unless the flow is off or already fired for `dedupe_key`.

    It goes out the flow's delay after `base` (default now), and never before now. A message
    due later is only scheduled here and rendered when due. `member` may be just the id: then
    only its contact row is read, and only when the message is rendered now.
    """
    config = config or live_flow_config(session, flow)
    if not config.enabled:
        return None
    start = max(now, (base or now) + config.delay)
    if start > now:
        member_id = member if isinstance(member, int) else member.id
        return schedule_message(session, member_id, flow=flow, channels=config.channels, send_after=start,
                                now=now, dedupe_key=dedupe_key,
                                data={**(data or {}), "extra": encode(extra or {})})
    if isinstance(member, int):
        member = read_contact(session, member)
    view = view or load(session)
    render = renderer(session, member, view, flow, now, extra or {})
    # What rendering needs is kept, so the dispatcher can choose another channel and render again
    # if this one stops being receivable (a STOP) before the message goes out.
    return queue_message(session, member, flow=flow, channels=config.channels, render=render, now=now,
                         dedupe_key=dedupe_key, view=view,
                         data={**(data or {}), "extra": encode(extra or {}), "channels": list(config.channels)})


def render_due(session: Session, member: Member, message: Message, now: datetime) -> None:
    """Render and place a scheduled flow message whose time has come."""
    view = load(session)
    render = renderer(session, member, view, message.flow, now, decode(message.data.get("extra", {})))
    prepare_scheduled(session, member, message, render, now, view)
