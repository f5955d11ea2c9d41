"""The database side of an inbound message, in as few round trips as each database allows.

An inbound SMS is the second-hottest path after a purchase (a campaign's replies arrive in a
burst), so its reads and writes are gathered into three steps:

1. `claim`: record the provider's event id (a retried webhook finds it and changes nothing) and
   lock the members with the sender's number or address.
2. `store`: store the inbound message and read, in one statement and after the lock, every fact
   the rules need: the open feedback request, the flow message a reply answers, whether that
   message was already rewarded, today's reply credits, suppressions and the member's totals.
3. `finish`: write the SMS answer (if any) and what the message did.

On PostgreSQL each step is one statement (`engage.db.fast_paths`), run as a `db.HotStatement`;
elsewhere (SQLite) each is two or three plain statements, reading the same facts with the same
SQL. The differential tests run both forms on PostgreSQL and compare what they answer and store.
The rules stay in Python (engage.messaging.replies, engage.loyalty.replies).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from engage.db import HotStatement, UTCDateTime, fast_paths, sql_strings
from engage.loyalty.earning import once_only_source
from engage.loyalty.lots import OpenLot
from engage.loyalty.replies import REPLY_SOURCE_PREFIX, reply_source
from engage.messaging import ContactState
from engage.messaging.personal_data import address_key
from engage.models import Member, Message
from engage.services.delivery import first_time
from engage.services.feedback import NEWEST_REQUEST_SQL
from engage.store.contacts import CONTACT_COLUMNS, CONTACT_ROW, Contact, contact_state
from engage.vocabulary import WENT_OUT, MessageStatus


@dataclass(frozen=True)
class Claim:
    first: bool  # False: the provider sent this event before (a retry)
    contacts: list[Contact]  # the live members with the sender's number or address, by id


@dataclass(frozen=True)
class Facts:
    """What the rules need to know, read after the member's lock (so nothing of theirs is missed)."""

    message_id: int  # the stored inbound message
    feedback_request_id: int | None  # the newest answerable feedback request, if not yet answered
    replied_to: int | None  # the newest flow message sent on this channel within the reply window
    reply_rewarded: bool  # `replied_to` already earned reply or feedback points
    replies_today: int  # reply credits since the member's local midnight
    balance: int
    qualifying: int | None  # earned since the start of the tier qualifying window; read for `want_lots`
    state: ContactState
    open_lots: list[OpenLot] | None = None  # read with the facts when asked for (PostgreSQL)


@dataclass(frozen=True)
class Window:
    """The instants the facts are read against (all computed by the rules, in Python)."""

    feedback_since: datetime
    reply_since: datetime
    day_start: datetime
    qualifying_since: datetime


# The ledger sources of reply and feedback points for a message, less its id (engage.loyalty).
_REPLY_PREFIX = reply_source(0).removesuffix("0")
_FEEDBACK_PREFIX = once_only_source("feedback", 0).removesuffix("0")

# Shared by both databases (SQLite and PostgreSQL both take this SQL). The newest answerable
# feedback request counts only while unanswered: an answered one does not reopen an older one.
_FACTS_CTES = f"""
    request AS (
        SELECT CASE WHEN EXISTS (SELECT 1 FROM feedback AS f WHERE f.request_message_id = newest.id)
                    THEN NULL ELSE newest.id END AS id
        FROM ({NEWEST_REQUEST_SQL}) AS newest
    ), replied AS (
        SELECT o.id FROM messages AS o
        WHERE o.member_id = :member_id AND o.direction = 'out' AND o.channel = :channel
          AND o.flow IS NOT NULL AND o.is_test = false AND o.status IN ({sql_strings(WENT_OUT)})
          AND o.sent_at >= :reply_since
        ORDER BY o.sent_at DESC, o.id DESC LIMIT 1
    ), totals AS (
        -- the balance from the member's row (kept by the ledger trigger, migration 0005); the
        -- qualifying points only for an answer that shows them (a balance)
        SELECT points_balance AS balance,
               CASE WHEN CAST(:want_lots AS BOOLEAN) THEN (
                   SELECT coalesce(sum(points), 0) FROM ledger_entries
                   WHERE member_id = :member_id AND kind = 'earn' AND occurred_at >= :qualifying_since)
               END AS qualifying
        FROM members WHERE id = :member_id
    )"""
_FACTS_COLUMNS = f"""
    (SELECT id FROM request) AS feedback_request_id,
    (SELECT id FROM replied) AS replied_to,
    EXISTS (SELECT 1 FROM ledger_entries AS l, replied
            WHERE l.member_id = :member_id
              AND l.source IN ('{_REPLY_PREFIX}' || replied.id, '{_FEEDBACK_PREFIX}' || replied.id))
        AS reply_rewarded,
    (SELECT count(*) FROM ledger_entries
     WHERE member_id = :member_id AND source LIKE '{REPLY_SOURCE_PREFIX}%' AND created_at >= :day_start)
        AS replies_today,
    totals.balance, totals.qualifying,
    (SELECT reason FROM suppressions WHERE channel = 'sms' AND address_hash = :phone_key) AS sms_suppression,
    (SELECT reason FROM suppressions WHERE channel = 'email' AND address_hash = :email_key) AS email_suppression"""

# --- PostgreSQL: one statement a step ---------------------------------------------------------

_PG_CLAIM = {by: HotStatement(text(f"""
    WITH claimed AS (
        INSERT INTO webhook_events (provider, event_id, received_at)
        SELECT :provider, CAST(:event_id AS VARCHAR), :now WHERE CAST(:event_id AS VARCHAR) IS NOT NULL
        ON CONFLICT (provider, event_id) DO NOTHING
        RETURNING id
    ), fresh AS (
        SELECT CAST(:event_id AS VARCHAR) IS NULL OR EXISTS (SELECT 1 FROM claimed) AS is_first
    ), locked AS (
        -- a retry locks nothing: it only replays the answer
        SELECT {", ".join(CONTACT_COLUMNS)} FROM members
        WHERE {condition} = CAST(:address AS VARCHAR) AND erased_at IS NULL AND (SELECT is_first FROM fresh)
        ORDER BY id
        FOR UPDATE
    )
    SELECT locked.*, fresh.is_first FROM fresh LEFT JOIN locked ON true ORDER BY locked.id
""")) for by, condition in (("phone", "phone"), ("email", "lower(email)"))}

_PG_STORE = HotStatement(text(f"""
    WITH inbound AS (
        INSERT INTO messages (member_id, direction, channel, status, from_address, to_address, subject, body,
                              provider_id, priority, exempt, is_test, simulated, send_after, sent_at, attempts,
                              data, created_at, updated_at)
        VALUES (:member_id, 'in', :channel, '{MessageStatus.RECEIVED}', :from_address, :to_address, :subject, :body,
                :provider_id, 9, false, false, :simulated, :now, :now, 0, CAST(:data AS JSON), :now, :now)
        RETURNING id
    ), {_FACTS_CTES}
    SELECT inbound.id AS message_id, {_FACTS_COLUMNS},
           CASE WHEN CAST(:want_lots AS BOOLEAN) THEN (
               SELECT coalesce(json_agg(json_build_array(id, remaining, earned_at, expires_at)), '[]')
               FROM lots WHERE member_id = :member_id AND remaining > 0) END AS open_lots
    FROM inbound, totals
"""))

_PG_FINISH = HotStatement(text("""
    WITH answer AS (
        INSERT INTO messages (member_id, direction, channel, status, to_address, from_address, locale, body,
                              segments, encoding, priority, exempt, is_test, simulated, send_after, sent_at,
                              attempts, in_reply_to_id, data, created_at, updated_at)
        SELECT :member_id, 'out', 'sms', 'sent', :answer_to, :answer_from, :locale, CAST(:answer AS TEXT),
               :segments, :encoding, 0, true, false, :simulated, :now, :now, 0, :message_id,
               CAST(:answer_data AS JSON),
               :now, :now
        WHERE CAST(:answer AS TEXT) IS NOT NULL
    )
    UPDATE messages SET action = :action, in_reply_to_id = :in_reply_to_id, data = CAST(:data AS JSON)
    WHERE id = :message_id
"""))

# --- elsewhere (SQLite): the same steps in plain statements -----------------------------------

_CONTACTS = {by: select(*CONTACT_ROW).where(condition == bindparam("address"), Member.erased_at.is_(None))
             .order_by(Member.id).with_for_update()
             for by, condition in (("phone", Member.phone), ("email", func.lower(Member.email)))}

_FACTS = text(f"WITH {_FACTS_CTES} SELECT {_FACTS_COLUMNS} FROM totals").bindparams(
    *(bindparam(name, type_=UTCDateTime()) for name in Window.__dataclass_fields__))


def claim(session: Session, provider: str, event_id: str | None, by: str, address: str | None,
          now: datetime) -> Claim:
    """Record the provider event; lock the members with this phone number or (lower-case) address."""
    event_id = event_id[:120] if event_id else None
    if fast_paths(session):
        rows = _PG_CLAIM[by].run(session, {"provider": provider, "event_id": event_id, "now": now,
                                           "address": address})
        return Claim(rows[0].is_first, [Contact.of(row) for row in rows if row.id is not None])
    if not first_time(session, provider, event_id, now):
        return Claim(False, [])
    if not address:
        return Claim(True, [])
    rows = session.connection().execute(_CONTACTS[by], {"address": address})
    return Claim(True, [Contact.of(row) for row in rows])


def store(session: Session, contact: Contact, channel: str, window: Window, *, from_address: str | None,
          to_address: str | None, subject: str | None, body: str, provider_id: str | None, data: dict,
          want_lots: bool, now: datetime, simulated: bool = False) -> Facts:
    """Store the inbound message on the member's thread and read the facts about the member.

    `want_lots`: the answer will show the member's points in full (a balance); the qualifying
    points, and on PostgreSQL the open lots, come with the facts. `simulated`: typed in the
    console's phone simulator (the message is marked so, and left out of every count).
    """
    message = {"member_id": contact.id, "channel": channel, "from_address": from_address,
               "to_address": to_address, "subject": subject, "body": body, "provider_id": provider_id,
               "now": now, "simulated": simulated}
    phone, email = contact.phone or "", (contact.email or "").lower()
    params = {"member_id": contact.id, "channel": channel, "phone_key": address_key("sms", phone),
              "email_key": address_key("email", email), "feedback_since": window.feedback_since,
              "reply_since": window.reply_since, "day_start": window.day_start,
              "qualifying_since": window.qualifying_since, "want_lots": want_lots}
    if fast_paths(session):
        [row] = _PG_STORE.run(session, {**message, **params, "data": json.dumps(data)})
        message_id, open_lots = row.message_id, _lots(row.open_lots)
    else:
        message_id = session.connection().execute(insert(Message).values(
            member_id=contact.id, direction="in", flow=None, channel=channel, status=MessageStatus.RECEIVED,
            from_address=from_address, to_address=to_address, subject=subject, body=body,
            provider_id=provider_id, send_after=now, sent_at=now, attempts=0, data=data, simulated=simulated,
            created_at=now, updated_at=now)).inserted_primary_key[0]
        row = session.connection().execute(_FACTS, params).one()
        open_lots = None
    suppressed = {key: reason for key, reason in ((("sms", phone), row.sms_suppression),
                                                  (("email", email), row.email_suppression)) if reason}
    return Facts(message_id=message_id, feedback_request_id=row.feedback_request_id, replied_to=row.replied_to,
                 reply_rewarded=bool(row.reply_rewarded), replies_today=int(row.replies_today),
                 balance=int(row.balance), qualifying=None if row.qualifying is None else int(row.qualifying),
                 state=contact_state(contact, suppressed), open_lots=open_lots)


def _lots(rows: list | None) -> list[OpenLot] | None:
    """Open lots from json_agg: timestamps arrive as ISO 8601 text."""
    if rows is None:
        return None
    return [OpenLot(lot_id, remaining, datetime.fromisoformat(earned), datetime.fromisoformat(expires))
            for lot_id, remaining, earned, expires in rows]


@dataclass(frozen=True)
class SmsAnswer:
    """The TwiML answer, stored as sent so the member's thread shows it (never dispatched)."""

    text: str
    to_address: str | None
    from_address: str | None
    locale: str | None
    segments: int
    encoding: str
    simulated: bool = False  # an answer in the console's phone simulator


ANSWER_DATA = {"via": "twiml"}  # stored on every TwiML answer row
_ANSWER_DATA_JSON = json.dumps(ANSWER_DATA)


def finish(session: Session, contact: Contact, message_id: int, *, action: str, in_reply_to_id: int | None,
           data: dict, answer: SmsAnswer | None, now: datetime) -> None:
    """Write the SMS answer (if any) and what the inbound message did."""
    if fast_paths(session):
        _PG_FINISH.run(session, {
            "member_id": contact.id, "message_id": message_id, "now": now, "action": action,
            "in_reply_to_id": in_reply_to_id, "data": json.dumps(data),
            "answer": answer.text if answer else None, "answer_to": answer and answer.to_address,
            "answer_from": answer and answer.from_address, "locale": answer and answer.locale,
            "segments": answer and answer.segments, "encoding": answer and answer.encoding,
            "answer_data": _ANSWER_DATA_JSON, "simulated": bool(answer and answer.simulated)})
        return
    connection = session.connection()
    if answer is not None:
        connection.execute(insert(Message).values(
            member_id=contact.id, direction="out", flow=None, channel="sms", status="sent",
            to_address=answer.to_address, from_address=answer.from_address, locale=answer.locale,
            body=answer.text, segments=answer.segments, encoding=answer.encoding, priority=0, exempt=True,
            send_after=now, sent_at=now, attempts=0, in_reply_to_id=message_id, data=ANSWER_DATA,
            simulated=answer.simulated, created_at=now, updated_at=now))
    connection.execute(update(Message).where(Message.id == message_id).values(
        action=action, in_reply_to_id=in_reply_to_id, data=data))
