"""The SQL that computes one local day's figures from the source tables (members, ledger, events,
messages, feedback) for the daily insight rollups. Each statement reads one day's rows through an
index on its date column; none scans a table."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from engage.db import UTCDateTime
from engage.vocabulary import MessageStatus as S

AFTER_DAYS = 7  # replies aside, what follows a message or precedes a purchase counts for 7 days


def _plus_days(column: str, days: int, dialect: str) -> str:
    """SQL for `column` shifted by whole days (SQLite keeps UTC datetimes as ISO text)."""
    if dialect == "sqlite":
        return f"strftime('%Y-%m-%d %H:%M:%f', {column}, '{days:+d} days')"
    return f"({column} + INTERVAL '{days} days')"


def _day(sql: str, *names: str):
    return text(sql).bindparams(*(bindparam(name, type_=UTCDateTime()) for name in names))


MEMBERS = _day("""
SELECT
  (SELECT COUNT(*) FROM members WHERE created_at >= :start AND created_at < :end),
  (SELECT COUNT(*) FROM members WHERE created_at >= :start AND created_at < :end AND referred_by_id IS NOT NULL),
  (SELECT COUNT(*) FROM members WHERE erased_at >= :start AND erased_at < :end)
""", "start", "end")

POINTS = _day("""
SELECT kind, COALESCE(SUM(points), 0), COUNT(*) FROM ledger_entries
WHERE occurred_at >= :start AND occurred_at < :end GROUP BY kind
""", "start", "end")

# Per member who purchased on the day: purchases that day, purchases before it (0, 1 or "2 or
# more" is all the rules ask), purchases earlier in the same month, enrolment and referral.
BUYERS = _day("""
SELECT e.member_id, COUNT(*) AS today,
  (SELECT COUNT(*) FROM (SELECT 1 FROM events p WHERE p.member_id = e.member_id AND p.type = 'purchase'
                         AND p.occurred_at < :start LIMIT 2) AS b) AS before,
  (SELECT COUNT(*) FROM (SELECT 1 FROM events p WHERE p.member_id = e.member_id AND p.type = 'purchase'
                         AND p.occurred_at >= :month AND p.occurred_at < :start LIMIT 1) AS m) AS this_month,
  m.created_at, m.referred_by_id IS NOT NULL AS referred
FROM events e JOIN members m ON m.id = e.member_id
WHERE e.type = 'purchase' AND e.occurred_at >= :start AND e.occurred_at < :end
GROUP BY e.member_id, m.created_at, m.referred_by_id
""", "start", "end", "month").columns(created_at=UTCDateTime())

ACTIVE = _day("""
SELECT COUNT(DISTINCT member_id) FROM events
WHERE type = 'purchase' AND occurred_at >= :since AND occurred_at < :end
""", "since", "end")

FEEDBACK = _day("""
SELECT COUNT(*), COUNT(rating), COALESCE(SUM(rating), 0) FROM feedback
WHERE created_at >= :start AND created_at < :end
""", "start", "end")

TIERS = text("""
SELECT t.name, COUNT(m.id) FROM tiers t LEFT JOIN members m ON m.tier_id = t.id AND m.erased_at IS NULL
GROUP BY t.name
""")

REACHED = f"('{S.SENT}', '{S.DELIVERED}')"  # a flow reached the member: the provider took it
WENT_OUT = f"('{S.SENDING}', '{S.SENT}', '{S.DELIVERED}', '{S.UNKNOWN}')"
FLOW_MESSAGE = "m.direction = 'out' AND m.flow IS NOT NULL AND m.is_test = false AND m.simulated = false"


def _revenue(dialect: str):
    return _day(f"""
SELECT '' AS flow, currency, COUNT(*), COALESCE(SUM(amount), 0) FROM events
WHERE type = 'purchase' AND occurred_at >= :start AND occurred_at < :end GROUP BY currency
UNION ALL
SELECT reached.flow, e.currency, COUNT(*), COALESCE(SUM(e.amount), 0)
FROM events e JOIN (
    SELECT DISTINCT p.id AS event_id, m.flow FROM events p
    JOIN messages m ON m.member_id = p.member_id AND {FLOW_MESSAGE} AND m.status IN {REACHED}
         AND m.sent_at < p.occurred_at AND m.sent_at >= {_plus_days('p.occurred_at', -AFTER_DAYS, dialect)}
    WHERE p.type = 'purchase' AND p.occurred_at >= :start AND p.occurred_at < :end) AS reached
  ON reached.event_id = e.id
GROUP BY reached.flow, e.currency
""", "start", "end")


# A STOP answers a message too, but it is counted as an opt-out, not as a reply.
def _flows(dialect: str):
    within = _plus_days("m.sent_at", AFTER_DAYS, dialect)

    def count(status: str) -> str:
        return f"SUM(CASE WHEN m.status IN {status} THEN 1 ELSE 0 END)"
    return _day(f"""
SELECT m.flow, m.channel, COUNT(*),
  {count(f"('{S.SCHEDULED}', '{S.QUEUED}')")}, {count(WENT_OUT)}, {count(f"('{S.DELIVERED}')")},
  {count(f"('{S.FAILED}')")}, {count(f"('{S.SUPPRESSED}')")}, {count(f"('{S.SKIPPED}')")},
  SUM(CASE WHEN EXISTS (SELECT 1 FROM messages r WHERE r.in_reply_to_id = m.id AND r.direction = 'in'
                        AND r.simulated = false AND COALESCE(r.action, '') <> 'opt_out') THEN 1 ELSE 0 END),
  SUM(CASE WHEN m.sent_at IS NOT NULL AND EXISTS (
        SELECT 1 FROM consent_events c WHERE c.member_id = m.member_id AND c.channel = m.channel
        AND c.change = 'opt_out' AND c.at >= m.sent_at AND c.at < {within}) THEN 1 ELSE 0 END),
  SUM(CASE WHEN m.sent_at IS NOT NULL AND EXISTS (
        SELECT 1 FROM redemptions r WHERE r.member_id = m.member_id
        AND r.created_at >= m.sent_at AND r.created_at < {within}) THEN 1 ELSE 0 END)
FROM messages m
WHERE {FLOW_MESSAGE} AND m.created_at >= :start AND m.created_at < :end
GROUP BY m.flow, m.channel
""", "start", "end")


FLOW_COLUMNS = ("queued", "waiting", "sent", "delivered", "failed", "suppressed", "skipped", "replied",
                "opted_out", "redeemed_after")


def members(session: Session, start: datetime, end: datetime) -> tuple[int, int, int]:
    """(enrolled, enrolled with a referral code, erased) in [start, end)."""
    return tuple(session.execute(MEMBERS, {"start": start, "end": end}).one())


def points(session: Session, start: datetime, end: datetime) -> dict[str, tuple[int, int]]:
    """{ledger kind: (sum of points, entries)} for entries dated in [start, end)."""
    return {kind: (int(total), count) for kind, total, count in
            session.execute(POINTS, {"start": start, "end": end})}


def buyers(session: Session, start: datetime, end: datetime, month: datetime) -> list[tuple]:
    """(member id, purchases that day, earlier purchases capped at 2, earlier purchases that month
    capped at 1, enrolled at, referred) for each member who purchased in [start, end)."""
    return [tuple(row) for row in session.execute(BUYERS, {"start": start, "end": end, "month": month})]


def active(session: Session, since: datetime, end: datetime) -> int:
    return session.execute(ACTIVE, {"since": since, "end": end}).scalar_one()


def feedback(session: Session, start: datetime, end: datetime) -> tuple[int, int, int]:
    """(feedback given, ratings among them, sum of the ratings) in [start, end)."""
    return tuple(session.execute(FEEDBACK, {"start": start, "end": end}).one())


def tiers(session: Session) -> dict[str, int]:
    """Members (not erased) per tier now, every tier named."""
    return dict(session.execute(TIERS).all())


def revenue(session: Session, start: datetime, end: datetime) -> list[tuple[str, str, int, Decimal]]:
    """(flow or "" for all members, currency, purchases, amount) for purchases in [start, end)."""
    dialect = session.get_bind().dialect.name
    return [(flow, currency, count, Decimal(amount)) for flow, currency, count, amount in
            session.execute(_revenue(dialect), {"start": start, "end": end})]


def flows(session: Session, start: datetime, end: datetime) -> list[tuple]:
    """(flow, channel, *FLOW_COLUMNS) for flow messages written in [start, end)."""
    dialect = session.get_bind().dialect.name
    return [tuple(row) for row in session.execute(_flows(dialect), {"start": start, "end": end})]


def first_activity(session: Session) -> datetime | None:
    """The earliest enrolment or dated event: the first day there is anything to count."""
    return session.execute(text("""
SELECT MIN(earliest) AS earliest FROM (SELECT MIN(created_at) AS earliest FROM members
                        UNION ALL SELECT MIN(occurred_at) FROM events
                        UNION ALL SELECT MIN(occurred_at) FROM ledger_entries) AS firsts
""").columns(earliest=UTCDateTime())).scalar_one()


