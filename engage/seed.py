"""`engage seed-demo`: a handful of members with a believable history, through the real services."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from engage.db import Database
from engage.models import Member
from engage.services import earning, members, redemption

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


def demo(database: Database, now: datetime) -> int:
    """Enrol the demo members once; returns how many were added."""
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
                earning.record_event(session, member.id, {"type": "purchase", "amount": Decimal(amount),
                                                          "currency": "EUR", "occurred_at": when}, None, when)
            if reward:
                redemption.redeem(session, member.id, reward, None, now - timedelta(days=1))
            added += 1
    return added
