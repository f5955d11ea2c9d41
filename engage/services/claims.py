"""Claiming due messages for sending: many dispatchers share the queue without sending twice.

PostgreSQL: `FOR UPDATE SKIP LOCKED` lets each dispatcher take rows nobody else holds.
SQLite: every transaction is BEGIN IMMEDIATE (engage.db), so claims are serialised anyway.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from engage import flows
from engage.db import Database, UTCDateTime, on_postgres
from engage.flows.compose import render_due
from engage.messaging import can_receive, slot_still_holds
from engage.models import Member, Message
from engage.outbox.enqueue import member_zone, plan_member_sms, quiet_window
from engage.outbox.ports import OutboundMessage
from engage.store import transaction
from engage.store.contacts import contact_state, member_pairs, suppressions
from engage.store.program import ProgramView, load
from engage.vocabulary import Channel, MessageStatus


@dataclass(frozen=True)
class Claimed:
    message: OutboundMessage
    attempts: int
    member_id: int | None


# pg_locks shows a two-key advisory lock as (classid, objid) with objsubid 2; the first key keeps
# claimants apart from the bigint keys of engage.leadership.
CLAIMANT_LOCKS = 0x656E67  # "eng"


class Claimant:
    """One dispatcher thread's identity while it holds rows `sending`.

    PostgreSQL: a session-level advisory lock (CLAIMANT_LOCKS, id) on a connection of its own,
    held for the claimant's life. A killed process's connections close and the server drops its
    locks, so any other dispatcher sees at once that the claimant is gone (take_back_orphans).
    SQLite: one process, so the id alone; the process takes back every unhanded row at start.
    """

    def __init__(self, database: Database):
        self.connection: Connection | None = None
        if not database.is_postgres:
            self.id = secrets.randbelow(2**31 - 1) + 1
            return
        self.connection = database.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        while True:  # an id no live claimant holds
            self.id = secrets.randbelow(2**31 - 1) + 1
            if self.connection.scalar(text("SELECT pg_try_advisory_lock(:ns, :id)"),
                                      {"ns": CLAIMANT_LOCKS, "id": self.id}):
                return

    def close(self) -> None:
        """Give up the identity (its unhanded rows must have been released first)."""
        if self.connection is None:
            return
        try:
            self.connection.scalar(text("SELECT pg_advisory_unlock(:ns, :id)"), {"ns": CLAIMANT_LOCKS, "id": self.id})
        except SQLAlchemyError:
            pass  # a dead connection has released it already
        finally:
            self.connection.close()
            self.connection = None


def _due(session: Session, limit: int, now: datetime) -> list[tuple[Message, Member | None]]:
    """Lock up to `limit` due messages nobody else holds, with their members, in one round trip."""
    query = (select(Message, Member).outerjoin(Member, Member.id == Message.member_id)
             .where(Message.status == MessageStatus.QUEUED, Message.send_after <= now)
             .order_by(Message.priority, Message.send_after, Message.id)
             .limit(limit).with_for_update(skip_locked=True, of=Message))
    return [(message, member) for message, member in session.execute(query)]


def _why_not(session, message: Message, member: Member | None, suppressed, now) -> tuple[str, str] | None:
    """('suppressed'|'skipped', reason) when the message must not go out now."""
    if member is None or member.erased_at is not None:
        return MessageStatus.SKIPPED, "member erased"
    if not message.data.get("force"):
        ok, reason = can_receive(message.channel, contact_state(member, suppressed))
        if not ok:
            return MessageStatus.SUPPRESSED, reason or "cannot receive"
    if message.flow and not message.is_test:
        reason = flows.skip_reason(session, message, member, now)
        if reason:
            return MessageStatus.SKIPPED, reason
    return None


def _choose_again(session: Session, message: Message, member: Member, refusal: tuple[str, str],
                  now: datetime) -> bool:
    """A flow message whose channel stopped being receivable while it waited (an SMS queued
    before the member's STOP) is rendered again, now, on the first of its flow's channels the
    member can still receive (the claim then takes it like any due message), or suppressed if none.
    Once only."""
    status, reason = refusal
    data = message.data or {}
    if (status != MessageStatus.SUPPRESSED or not message.flow or message.is_test or data.get("chosen_again")
            or "extra" not in data or not set(data.get("channels") or ()) - {message.channel}):
        return False
    message.reason = f"{message.channel}: {reason}; another channel chosen"
    message.data = {**data, "chosen_again": True}
    render_due(session, member, message, now)
    return True


def _planned(message: Message) -> bool:
    """A flow SMS whose send time was planned around quiet hours and the caps."""
    return (message.channel == Channel.SMS and bool(message.flow) and not message.exempt
            and not message.is_test)


def _slot_lost(session: Session, message: Message, member: Member, now: datetime, view: ProgramView) -> bool:
    """True if a planned SMS must not go now: its member's waiting SMS are planned again from now.

    A late dispatcher (down overnight, behind a backlog) would otherwise send at night, or send
    the messages planned for several days on one. The message stays queued for its new time.
    """
    if message.send_after > now:  # moved later by another message's re-plan in this batch
        return True
    if slot_still_holds(message.send_after, now, member_zone(member, view), quiet_window(view)):
        return False
    plan_member_sms(session, member, now, view)
    return message.send_after > now


def outbound(message: Message, to: str | None, unsubscribe_token: str | None, public_url: str,
             attempt: int) -> OutboundMessage:
    """The row as a channel sees it, for try number `attempt`."""
    return OutboundMessage(
        id=message.id, channel=message.channel, to=to or "", body=message.body, subject=message.subject,
        html=message.html, attempt=attempt,
        status_callback_url=(f"{public_url}/webhooks/twilio/status?message_id={message.id}"
                             if message.channel == Channel.SMS else None),
        unsubscribe_url=(f"{public_url}/unsubscribe/{unsubscribe_token}"
                         if message.channel == Channel.EMAIL and unsubscribe_token else None),
    )


def claim(session: Session, limit: int, now: datetime, public_url: str) -> list[Claimed]:
    """Mark up to `limit` due messages `sending`, handed, and return them; drop those that lost
    their point. Without a claimant every row claimed counts as at the provider (handed_at): for
    one message about to be sent (Dispatcher.send_one)."""
    with transaction(session):
        return take_due(session, limit, now, public_url)


def take_due(session: Session, limit: int, now: datetime, public_url: str,
             claimant: int | None = None) -> list[Claimed]:
    """`claim` inside the caller's transaction. With a `claimant` the rows are `sending` but not
    handed: nothing was sent yet, and `hand` marks each one just before its call."""
    claimed: list[Claimed] = []
    # Rows that lost their point are settled on the way: keep looking until one is taken.
    while len(claimed) < limit and (due := _due(session, limit - len(claimed), now)):
        claimed += _take(session, due, now, public_url, claimant)
    return claimed


def hand(session: Session, claimed: Claimed, claimant: int, now: datetime) -> bool:
    """Inside the caller's transaction, whose commit must reach the disk before the call: mark the
    row handed to its provider (the attempt starts now). False when the claimant lost the row
    (taken back as orphaned, then claimed by another): it must not be sent."""
    table = Message.__table__
    result = session.execute(update(table).where(
        table.c.id == claimed.message.id, table.c.status == MessageStatus.SENDING,
        table.c.claimant == claimant, table.c.attempts == claimed.attempts, table.c.handed_at.is_(None))
        .values(handed_at=now))
    return result.rowcount == 1


def _unhanded():
    table = Message.__table__
    return update(table).where(table.c.status == MessageStatus.SENDING, table.c.handed_at.is_(None),
                               table.c.claimant.is_not(None))


def _back_to_queue(statement, now: datetime):
    # The claim's attempt never happened: its count is given back.
    table = Message.__table__
    return statement.values(status=MessageStatus.QUEUED, claimant=None, claimed_at=None, updated_at=now,
                            attempts=table.c.attempts - 1)


def release(session: Session, claimant: int, now: datetime) -> int:
    """Put the claimant's unhanded rows back in the queue (a stopping dispatcher)."""
    with transaction(session):
        statement = _unhanded().where(Message.__table__.c.claimant == claimant)
        return session.execute(_back_to_queue(statement, now)).rowcount or 0


def take_back_unhanded(session: Session, now: datetime, claimed_before: datetime | None = None) -> int:
    """Requeue every unhanded row (claimed before `claimed_before`, if given), in the caller's
    transaction. SQLite at a dispatcher's start: no other process can hold rows, so every one
    belongs to a claimant that is gone. Either database, for rows claimed longer ago than any
    claimant keeps them (send_results.abandon_stale)."""
    statement = _unhanded()
    if claimed_before is not None:
        statement = statement.where(Message.__table__.c.claimed_at < claimed_before)
    return session.execute(_back_to_queue(statement, now)).rowcount or 0


# Orphans: unhanded rows whose claimant holds no lock, i.e. its process (or connection) is gone.
# The EXISTS first looks for any unhanded row at all (the status index), so the common case, none,
# costs one index probe and never reads pg_locks.
_ORPHANS_PG = text(
    "UPDATE messages SET status = 'queued', claimant = NULL, claimed_at = NULL, updated_at = :now, "
    "attempts = attempts - 1 "
    "WHERE status = 'sending' AND handed_at IS NULL AND claimant IS NOT NULL AND claimant <> :me "
    "AND claimant NOT IN (SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' "
    "AND classid::bigint = :ns AND objsubid = 2 AND granted)"
).bindparams(bindparam("now", type_=UTCDateTime()))
_ANY_UNHANDED_PG = text(
    "SELECT EXISTS (SELECT 1 FROM messages WHERE status = 'sending' AND handed_at IS NULL "
    "AND claimant <> :me)")


def take_back_orphans(session: Session, claimant: int, now: datetime) -> int:
    """PostgreSQL, inside the claim's transaction: requeue the unhanded rows of dead claimants."""
    if not session.execute(_ANY_UNHANDED_PG, {"me": claimant}).scalar():
        return 0
    return session.execute(_ORPHANS_PG, {"now": now, "me": claimant, "ns": CLAIMANT_LOCKS}).rowcount or 0


def _take(session: Session, due: list[tuple[Message, Member | None]], now: datetime,
          public_url: str, claimant: int | None) -> list[Claimed]:
    """Mark the locked rows `sending` unless they lost their point; return those taken."""
    messages = [message for message, _ in due]
    members = {member.id: member for _, member in due if member is not None}
    suppressed = suppressions(session, [p for m in members.values() for p in member_pairs(m)])
    claimed: list[Claimed] = []
    taken: list[tuple[Message, str | None]] = []
    view: ProgramView | None = None
    for message in sorted(messages, key=lambda m: (m.priority, m.send_after, m.id)):
        member = members.get(message.member_id)
        if taken and message.flow and not message.is_test:
            _mark_sending(session, taken, now, claimant)  # its checks may query and re-plan: write what we took
            taken = []
        refusal = _why_not(session, message, member, suppressed, now)
        if refusal and _choose_again(session, message, member, refusal, now):
            continue
        if refusal:
            message.updated_at = now
            message.status, message.reason = refusal
            continue
        if _planned(message):
            view = view or load(session)
            if _slot_lost(session, message, member, now, view):
                continue
        to = member.phone if message.channel == Channel.SMS else member.email
        attempt = message.attempts + 1
        taken.append((message, to))
        claimed.append(Claimed(outbound(message, to, member.unsubscribe_token, public_url, attempt),
                               attempt, member.id))
    _mark_sending(session, taken, now, claimant)
    session.flush()  # the refusals, before the next look for due rows
    return claimed


# One statement for the whole batch (an executemany costs a round trip's worth of work per row).
_SENDING_PG = text(
    "UPDATE messages SET status = 'sending', claimed_at = :now, updated_at = :now, attempts = v.attempts, "
    "claimant = :claimant, handed_at = :handed, "
    "to_address = v.to_address FROM unnest(CAST(:ids AS bigint[]), CAST(:attempts AS integer[]), "
    "CAST(:addresses AS varchar[])) AS v (id, attempts, to_address) WHERE messages.id = v.id"
).bindparams(bindparam("now", type_=UTCDateTime()), bindparam("handed", type_=UTCDateTime()))


def _mark_sending(session: Session, taken: list[tuple[Message, str | None]], now: datetime,
                  claimant: int | None) -> None:
    """Mark claimed rows `sending` (attempts + 1, the address used) in one statement instead of an
    ORM flush of one UPDATE per row; the loaded objects get the same values as committed state."""
    if not taken:
        return
    ids = [m.id for m, _ in taken]
    attempts = [m.attempts + 1 for m, _ in taken]
    addresses = [to for _, to in taken]
    handed = now if claimant is None else None
    if on_postgres(session):
        session.execute(_SENDING_PG, {"now": now, "ids": ids, "attempts": attempts, "addresses": addresses,
                                      "claimant": claimant, "handed": handed})
    else:
        table = Message.__table__
        session.execute(update(table).where(table.c.id == bindparam("b_id"))
                        .values(status=MessageStatus.SENDING, claimed_at=now, updated_at=now,
                                claimant=claimant, handed_at=handed, attempts=bindparam("b_attempts"), to_address=bindparam("b_to")),
                        [{"b_id": i, "b_attempts": a, "b_to": to} for i, a, to in zip(ids, attempts, addresses)])
    for message, to in taken:
        for key, value in (("status", MessageStatus.SENDING), ("claimed_at", now), ("updated_at", now),
                           ("attempts", message.attempts + 1), ("to_address", to), ("claimant", claimant),
                           ("handed_at", handed)):
            set_committed_value(message, key, value)
