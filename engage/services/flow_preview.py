"""Trying a flow on a real member: preview its live template (or a draft) with the member's own
data, and send one test message through the outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engage.flows import offer as offer_flow
from engage.flows.compose import public_url, renderer
from engage.flows.context import build_context
from engage.flows.templates import live_template
from engage.messaging.segments import count_segments
from engage.models import Event, Member, Message, Offer
from engage.outbox.content import Content
from engage.outbox.enqueue import queue_message
from engage.services.flow_admin import check_flow, template_errors, template_warnings
from engage.store import members, transaction
from engage.store.program import ProgramView, flow_config, load
from engage.templating import (
    TemplateError,
    TemplateRenderError,
    render_message,
    sample_context,
    validate_template,
)
from engage.templating.defaults import normalize_locale
from engage.vocabulary import Channel


def flow_extra(session: Session, member: Member, view: ProgramView, flow: str) -> dict:
    """Context the flow itself would add: feedback_request names the member's latest purchase.

    offer names the member's latest offer, or the sample one when they have none. The rest is
    already the member's own state (current tier, next expiry, cheapest reward).
    """
    if flow == "offer":
        latest = session.scalar(select(Offer).where(Offer.member_id == member.id).order_by(Offer.id.desc()).limit(1))
        if latest is not None:
            return {"offer": offer_flow.offer_variable(view, latest)}
        locale = member.locale or view.program.default_locale
        return {"offer": sample_context(locale, "offer")["offer"]}
    if flow != "feedback_request":
        return {}
    purchase = session.scalar(select(Event).where(Event.member_id == member.id, Event.type == "purchase")
                              .order_by(Event.occurred_at.desc(), Event.id.desc()).limit(1))
    if purchase is None:
        return {}
    return {"purchase": {"amount": purchase.amount, "currency": purchase.currency,
                         "date": purchase.occurred_at.astimezone(view.zone).date()}}


def _render_error(error: TemplateRenderError):
    return template_errors([TemplateError(error.field, error.message, error.line)])


def preview(session: Session, flow: str, request: dict, now: datetime) -> dict:
    """Render the live template, or the draft parts given, for one member with their real data
    (or, without a member_id, for the sample member)."""
    check_flow(flow)
    channel = request["channel"]
    with transaction(session):
        # No member: the sample one (the same as validation renders against), in the locale asked.
        member = members.get(session, request["member_id"]) if request.get("member_id") else None
        view = load(session)
        wanted = normalize_locale(request.get("locale")) or (member.locale if member else "")
        parts, used = live_template(session, flow, channel, wanted, view.program.default_locale)
        draft = {part: request[part] for part in ("body", "subject", "html", "text") if part in request}
        if draft:
            parts, used = {**parts, **draft}, normalize_locale(request.get("locale")) or used
            errors = validate_template(channel, parts, None, locale=used)
            if errors:
                raise template_errors(errors)
        if member is None:
            context = sample_context(wanted or used, flow, today=now.astimezone(view.zone).date())
        else:
            context = build_context(session, member, view, now, public_url(session),
                                    **flow_extra(session, member, view, flow))
        try:
            rendered = render_message(channel, parts, context, wanted or used)
        except TemplateRenderError as error:
            raise _render_error(error) from None
    return _preview_json(flow, channel, used, rendered, template_warnings(flow, channel, used, parts))


def _preview_json(flow: str, channel: str, locale: str, rendered, warnings: list[dict]) -> dict:
    body = {"flow": flow, "channel": channel, "locale": locale, "body": rendered.body,
            "segments": None, "encoding": None, "warnings": warnings}
    if channel == Channel.SMS:
        count = count_segments(rendered.body)
        body.update(segments=count.segments, encoding=count.encoding)
    else:
        body.update(subject=rendered.subject, html=rendered.html)  # body is the plain-text part
    return body


def recent_members(session: Session, limit: int = 10) -> list[Member]:
    """The newest members, to offer as whom a preview or a test is for."""
    with transaction(session):
        return list(session.scalars(select(Member).where(Member.erased_at.is_(None))
                                    .order_by(Member.id.desc()).limit(limit)))


def send_test(session: Session, flow: str, member_id: int, channel: str | None, now: datetime,
              requested_by: str | None) -> Message:
    """Queue one real message of this flow to a member, now: never capped or held for quiet hours,
    but consent, opt-outs and suppressions apply (then it is stored `suppressed` with the reason)."""
    check_flow(flow)
    with transaction(session):
        member = members.get(session, member_id)
        view = load(session)
        channels = [channel] if channel else list(flow_config(session, flow).channels)
        render = renderer(session, member, view, flow, now, flow_extra(session, member, view, flow),
                          experiments=False)

        def render_checked(chosen: str) -> Content:
            try:
                return render(chosen)
            except TemplateRenderError as error:
                raise _render_error(error) from None

        return queue_message(session, member, flow=flow, channels=channels, render=render_checked, now=now,
                             exempt=True, is_test=True, data={"requested_by": requested_by}, view=view)

