"""`engage seed-demo`: a handful of members with a believable history, through the real services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from engage.db import Database
from engage.models import Member, Message
from engage.services import earning, members, redemption, users
from engage.vocabulary import PENDING

DEMO = [
    # external_id, first, last, email, phone, locale, timezone, [(days ago, amount)], redeem reward
    ("demo-ana", "Ana", "Popescu", "ana@example.com", "+40721000001", "ro", "Europe/Bucharest",
     [(200, "120.00"), (90, "340.50"), (20, "89.90")], 1),
    ("demo-daan", "Daan", "de Vries", "daan@example.com", "+31612000002", "nl", "Europe/Amsterdam",
     [(300, "45.00"), (150, "1250.00"), (10, "310.00")], 3),
    ("demo-lena", "Lena", "Schmidt", "lena@example.com", "+4915112000003", "de", "Europe/Berlin",
     [(40, "25.90")], None),
    ("demo-sam", "Sam", "Taylor", "sam@example.com", "+447911123456", "en", "Europe/London",
     [(360, "60.00"), (5, "19.99")], None),
    ("demo-noor", "Noor", None, "noor@example.com", None, "en", None, [], None),
]


# The console's demo sign-in (printed by `engage seed-demo` and `make run`): a demo, not a secret.
DEMO_USER = ("demo@example.com", "engage-demo")


def demo_user(database: Database, now: datetime) -> bool:
    """The demo admin for the console, once; True when it was created now."""
    email, password = DEMO_USER
    with database.session() as session:
        return users.ensure(session, email, "admin", password, now)


def _live_until(database: Database, until: datetime, deliver: Callable[[datetime], object] | None) -> None:
    """Run the outbox at each moment a message fell due up to `until` (each run moves it on:
    sent, skipped, suppressed, or planned later around quiet hours and caps)."""
    if deliver is None:
        return
    last = None
    for _ in range(1_000):  # bounded: a message that would not move must not hang the seed
        with database.session() as session:
            due = session.scalar(select(Message.send_after).where(
                Message.status.in_(PENDING), Message.send_after <= until)
                .order_by(Message.send_after).limit(1))
        if due is None or due == last:
            return
        deliver(due)
        last = due


def demo(database: Database, now: datetime, deliver: Callable[[datetime], object] | None = None) -> int:
    """Enrol the demo members once; returns how many were added.

    `deliver(at)` runs the outbox as of `at` (the `outbox` job). Before each step of a member's
    history it is run at every moment a message fell due, as a running Engage would have: the
    welcome, congratulations and feedback requests of months ago went out months ago, within
    quiet hours and caps, instead of all at the server's first start.
    """
    added = 0
    for external_id, first, last, email, phone, locale, zone, purchases, reward in DEMO:
        with database.session() as session:
            if session.scalar(select(Member.id).where(Member.external_id == external_id)):
                continue
            start = now - timedelta(days=max([days for days, _ in purchases] + [1]) + 1)
            member = members.enrol(session, {
                "external_id": external_id, "first_name": first, "last_name": last, "email": email,
                "phone": phone, "locale": locale, "timezone": zone,
                "consent": {"sms": phone is not None, "email": True}}, start)
            for days, amount in purchases:
                when = now - timedelta(days=days)
                _live_until(database, when, deliver)
                earning.record_event(session, member.id, {"type": "purchase", "amount": Decimal(amount),
                                                          "currency": "EUR", "occurred_at": when}, None, when)
            if reward:
                _live_until(database, now - timedelta(days=1), deliver)
                redemption.redeem(session, member.id, reward, None, now - timedelta(days=1))
            added += 1
    return added
