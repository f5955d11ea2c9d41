"""Helpers for outbox tests: an app wired to the fake provider, queueing messages directly."""

from __future__ import annotations

from sqlalchemy import select

from engage.config import Config
from engage.models import Member, Message
from engage.outbox.content import Content
from engage.outbox.enqueue import queue_message
from engage.store import transaction

TWILIO_FROM = "+15005550006"


def provider_config(database_url: str, fake, **overrides) -> Config:
    values = dict(
        database_url=database_url, public_url="https://engage.example.com", testing=True,
        twilio_account_sid=fake.twilio_account_sid, twilio_auth_token=fake.twilio_auth_token,
        twilio_from_number=TWILIO_FROM, twilio_api_base_url=fake.url,
        sendgrid_api_key=fake.sendgrid_api_key, sendgrid_from_email="rewards@shop.example",
        sendgrid_api_host=fake.url, provider_timeout_seconds=0.5, retry_base_seconds=60, max_attempts=3,
        send_rate_per_second=1000, sendgrid_webhook_public_key=None,
    )
    values.update(overrides)
    return Config(**values)


def queue(db, member_id: int, now, *, flow="welcome", channels=("sms", "email"), body="Hello {}", **kwargs):
    """Queue one message for a member the way a flow would; returns its id (or None if deduped)."""
    with db.session() as session, transaction(session):
        member = session.get(Member, member_id)
        content = lambda channel: Content(body=body.format(channel), subject="Hi" if channel == "email" else None,
                                          html="<p>Hi</p>" if channel == "email" else None, locale="en")
        message = queue_message(session, member, flow=flow, channels=list(channels), render=content, now=now,
                                **kwargs)
        return message.id if message else None


def message(db, message_id: int) -> Message:
    with db.session() as session:
        return session.get(Message, message_id)


def messages(db, **filters) -> list[Message]:
    with db.session() as session:
        query = select(Message).order_by(Message.id)
        for field, value in filters.items():
            query = query.where(getattr(Message, field) == value)
        return list(session.scalars(query))


def disable_flows(app) -> None:
    """Switch every lifecycle flow off, so outbox tests see only the messages they queue."""
    from sqlalchemy import update

    from engage.models import FlowSetting
    from engage.store.program import changed

    with app.extensions["engage.db"].session() as session:
        with transaction(session):
            session.execute(update(FlowSetting).values(enabled=False))
        changed(session)
