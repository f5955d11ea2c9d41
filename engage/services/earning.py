"""Earning points: purchases and actions reported by the shop, and the shared award step."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy import insert
from sqlalchemy.orm import Session

from engage import flows
from engage.db import fast_paths
from engage.errors import Unprocessable
from engage.events import PointsEarned, PurchaseRecorded
from engage.loyalty import earning
from engage.loyalty.idempotency import fingerprint
from engage.loyalty.items import Item, item_from
from engage.models import Event
from engage.services import challenges, feedback, purchase_extras, purchases
from engage.services.awards import award
from engage.store import idempotency, insights, ledger, members, transaction
from engage.store import offers as offer_store
from engage.store.program import ProgramView, load

# Clocks drift; a POS a few minutes ahead must not be refused.
FUTURE_TOLERANCE = timedelta(minutes=5)


def _check_amount(view: ProgramView, amount: Decimal | None, currency: str | None) -> tuple[Decimal, str]:
    program = view.program
    if amount is None:
        raise Unprocessable("a purchase needs an amount", {"amount": ["Required for purchases."]})
    if amount < 0:
        raise Unprocessable("amount must not be negative", {"amount": ["Must not be negative."]})
    if amount > view.rules.max_purchase_amount:
        raise Unprocessable(f"amount is above the program's limit of {view.rules.max_purchase_amount}",
                            {"amount": ["Too large."]})
    currency = (currency or program.currency).upper()
    if currency != program.currency:
        raise Unprocessable(f"this program earns points in {program.currency}, not {currency}",
                            {"currency": [f"Must be {program.currency}."]})
    return amount.quantize(Decimal("0.01"), rounding=ROUND_FLOOR), currency


def _check_time(view: ProgramView, occurred_at: datetime | None, now: datetime) -> datetime:
    occurred_at = occurred_at or now
    if occurred_at.tzinfo is None:  # ISO 8601 without an offset: the shop's wall clock
        occurred_at = occurred_at.replace(tzinfo=view.zone)
    if occurred_at > now + FUTURE_TOLERANCE:
        raise Unprocessable("occurred_at is in the future", {"occurred_at": ["Must not be in the future."]})
    if occurred_at <= now - timedelta(days=view.rules.lot_lifetime_days):
        raise Unprocessable("occurred_at is so long ago that its points would already have expired",
                            {"occurred_at": ["Too old to earn points."]})
    return min(occurred_at, now)


def _check_items(data: dict) -> list[Item]:
    if "items" in data and data["type"] != "purchase":
        raise Unprocessable("only purchases carry items", {"items": ["Only for purchases."]})
    return [item_from(item) for item in data.get("items") or ()]


def _points_for(session, view, member, event_type: str, amount, occurred_at,
                items: list[Item]) -> tuple[int, str, str | None]:
    """(points, reason, source) — source None means "this event's own id" (known after insert)."""
    if event_type == "purchase":
        points = earning.purchase_points(amount, view.tier(member.tier_id).multiplier, view.rules, items)
        return points, f"purchase {view.program.currency} {amount}", None
    reason = event_type.replace("_", " ")
    request_id = feedback.open_request(session, member.id, occurred_at) if event_type == "feedback" else None
    if event_type == "feedback" and request_id is None:
        return 0, reason, None
    source = earning.once_only_source(event_type, request_id)
    if source is None:
        return earning.action_points(event_type, view.rules), reason, None
    if ledger.has_source(session, member.id, source):
        return 0, reason, source
    return earning.action_points(event_type, view.rules), reason, source


def record_event(session: Session, member_id: int, data: dict, key: str | None, now: datetime) -> dict:
    """Record a purchase or action and award its points; replay-safe with an Idempotency-Key."""
    request_body = {name: str(value) for name, value in data.items()}
    items = _check_items(data)
    if data["type"] == "purchase" and fast_paths(session):
        answer = _record_purchase(session, member_id, data, items, request_body, key, now)
        if answer is not None:
            return answer
    with transaction(session):
        replay = idempotency.claim(session, "events", key, member_id, request_body, now)
        if replay is not None:
            return replay
        member = members.lock(session, member_id)
        view = load(session)
        amount = currency = None
        if data["type"] == "purchase":
            amount, currency = _check_amount(view, data.get("amount"), data.get("currency"))
        occurred_at = _check_time(view, data.get("occurred_at"), now)
        points, reason, source = _points_for(session, view, member, data["type"], amount, occurred_at, items)
        event_id = session.execute(insert(Event).values(
            member_id=member.id, type=data["type"], amount=amount, currency=currency,
            occurred_at=occurred_at, created_at=now, points_awarded=max(0, points)).returning(Event.id)).scalar_one()
        insights.mark_late(session, occurred_at, now, view.zone)
        result = award(session, view, member, points, reason=reason, source=source or f"event:{event_id}",
                       occurred_at=occurred_at, now=now)
        extras: list = []
        if data["type"] == "purchase":
            offer_store.add_items(session, event_id, member.id, items, occurred_at)
            extras = purchase_extras.after_purchase(session, view, member.id, event_id, amount, items,
                                                    occurred_at, now)
            extras.append(PurchaseRecorded(member.id, event_id, amount, currency, occurred_at))
        if data["type"] in ("review", "feedback"):
            extras = challenges.after_activity(session, view, member.id, data["type"], occurred_at, now)
        flows.react(session, result.events + extras, now)
        balance = result.balance
        if balance is None or _bonus(extras) is not None:  # a challenge bonus came after the award
            balance = ledger.balance(session, member.id)
        note = (f"no points: {reason} already rewarded or not eligible"
                if result.points == 0 and data["type"] != "purchase" else None)
        answer = event_answer(event_id, result.points, balance, view.tier(member.tier_id).name, note)
        idempotency.store(session, "events", key, answer, 201)
        return answer


def _bonus(events: list) -> PointsEarned | None:
    """The last challenge bonus among these events (its balance and tier are the member's now)."""
    return next((e for e in reversed(events) if isinstance(e, PointsEarned) and e.source.startswith("challenge:")),
                None)


def event_answer(event_id: int, points_awarded: int, points: int, tier: str, note: str | None = None) -> dict:
    """The answer to a recorded event, stored for its Idempotency-Key: the one place it is built."""
    answer = {"id": event_id, "points_awarded": points_awarded, "points": points, "tier": tier}
    if note is not None:
        answer["message"] = note
    return answer


def _record_purchase(session: Session, member_id: int, data: dict, items: list[Item], request_body: dict,
                     key: str | None, now: datetime) -> dict | None:
    """`record_event` for a well-formed purchase on PostgreSQL, in one statement (services.purchases).

    None when that path declines (see there) or the purchase is invalid: nothing is written, and
    the plain steps answer it, so an unknown member, a replay and a bad amount get the same
    answers in the same order on both databases.
    """
    try:
        with transaction(session):
            view = load(session)
            try:
                amount, currency = _check_amount(view, data.get("amount"), data.get("currency"))
                occurred_at = _check_time(view, data.get("occurred_at"), now)
            except Unprocessable:
                raise _Declined from None
            recorded = purchases.record(session, view, member_id, amount=amount, currency=currency,
                                        occurred_at=occurred_at, items=items, key=key,
                                        fingerprint=fingerprint("events", member_id, request_body), now=now)
            if recorded is None:
                raise _Declined
            insights.mark_late(session, occurred_at, now, view.zone)
            done, events = recorded
            extras = purchase_extras.after_purchase(session, view, member_id, done.event_id, amount, items,
                                                    occurred_at, now)
            flows.react(session, events + extras, now)
            bonus = _bonus(extras)
            answer = event_answer(done.event_id, done.points_awarded, bonus.balance_after if bonus else done.points,
                                  view.tier(bonus.tier_id).name if bonus else done.tier)
            if done.lifted or bonus:  # the statement stored the answer before the lift or the bonus
                idempotency.store(session, "events", key, answer, 201)
            return answer
    except _Declined:
        return None  # rolled back, nothing written


class _Declined(Exception):
    """The one-statement purchase leaves this request to the plain steps."""
