"""The scale data the PostgreSQL benches share (sweep, console, insights): members with their earn
ledger entries, lots and purchases, and a year of messages, generated in SQL with generate_series
(no row crosses the wire), built once into a template database and cloned for every run.

Use:
    spec = Spec(members=1_000_000, messages=10_000_000, as_of=datetime(...))
    url = built(spec)                 # the template database, (re)built only when its spec changed
    run_url = clone(spec.database, "engage_bench_console_run")    # a file copy to measure on
    ...
    drop("engage_bench_console_run")
Or `generate(url, spec)` into a database fresh_database() just migrated (the sweep bench).

What is generated (all of it a pure function of the Spec and `seed`):
  members       N (`members`), ids 1..N, created over 362 days ending 438 days before `as_of`,
                in id order. Names from lists of ~100 first and ~100 last names (a prefix search
                finds a realistic share, not everyone); email first.last.ID@example.com, every
                10th written as typed ("Ana.Pop.10@Example.com", for case-insensitive search);
                phones +316 + 8 digits for 4 members in 5 (NL mobile, E.164); external_id
                'bench-ID'; referral code 'BS' + ID; locale nl/en/de/ro (50/30/15/5 %).
                2% have email consent (a consent_events row each); nobody has SMS consent (so
                the sweep job's warnings are emails, as the sweep bench has always measured).
                Tier from lifetime points (Silver >= 500, Gold >= 1500); points_balance and
                points_earned set to the ledger's sums (the trigger is off while loading).
  ledger/lots   `lots_per_member` (3) earn entries per member, earned uniformly over
                `spread_days` (438) before `as_of`, each with its lot (365-day lifetime, 24 h
                days); points skewed (few big spenders); a lot's remaining is 0 for 10%, half
                for 15%, else all (spending is not in the ledger: the sweep bench's choice).
  events        with `events` (default True) one purchase per earn entry, same id (amount in
                EUR = points).
  messages      exactly `messages` (M) rows, ids 1..M (dense) over the 365 days before `as_of`,
                ids growing with time. Every 8th id is a reply slot: it picks one of the 7 ids
                just before it; when that one is an outbound SMS the slot is an inbound SMS reply
                to it (its member, in_reply_to_id that message: 0.6 x 1/8 = 7.5% of the rows),
                else the slot is filled with one more outbound message drawn like the others (so
                no id is left empty and M rows are made, as the count check after loading
                asserts). Outbound: 90% flow messages
                (welcome 15, redemption_reminder 20, expiry_warning 30, tier_congratulations 5,
                feedback_request 20 of 90) with a dedupe key, 10% answers to texts (no flow,
                exempt); 60% SMS, 40% email (subject, no HTML). Statuses of outbound: delivered
                70%, sent 12%, failed 4% (error code), suppressed 8% (reason), skipped 3%,
                delivered 3%; in the last day before `as_of` half are still queued. 0.1% are
                marketer tests. Member of a message: 1 + floor(N * r^2), so low ids have long
                histories (member 1 ~ M / sqrt(N) messages: 10k at 1M/10M), most have a few.
                (Until generator version 2 the slots of email targets stayed empty: 9.5M rows
                for M = 10M.)
  extras        with `extras` (the console and insights benches' shared data) the rows the
                insight figures read: 1 member in 20 (id > 100) referred by a member before it,
                a redemption (-100 points, 2 days after the entry, before `as_of`) for 1 earn
                entry in 25 (ledger triggers on, so balances follow), a feedback row for every
                rating reply, an SMS opt-out consent event for every STOP reply.
  audit         `audit` (default 0) audit entries (points adjustments by bench@example.com)
                spread over the year.
Then VACUUM (FREEZE, ANALYZE) and a CHECKPOINT.

`scale(members, messages, as_of)` is the spec the console and insights benches share (one template,
`engage_bench_scale_<members>_<messages>`, ~7.8 GB at 1M/10M): build it once for both.

A template is reused while its spec (the database's COMMENT, with GENERATOR_VERSION) is the same
and the migrations it was built or last upgraded with (recorded there too, in order) are a prefix
of this code's chain: then only the new ones run on it. Otherwise (e.g. a revision rechained at a
merge, so that the template's stamp would skip migrations) it is rebuilt. `counts(url)` gives
the members, lots and messages a database holds, which the benches print.

Roughly, on the 2-core shared bench machine: 1M members with their entries, lots and purchases
~3 min, 10M messages ~6.5 min more, the extras ~3 min, then VACUUM (13 min in all, ~7.8 GB).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

import sqlalchemy as sa

from bench import BenchError
from bench.harness import PG_SERVER, fresh_database, log

# Bumped whenever the generated rows change, so an old template database is rebuilt.
GENERATOR_VERSION = 2  # 2: messages ids dense (M rows exactly), `extras`


@dataclass(frozen=True)
class Spec:
    """What to generate; see the module's docstring. `database` names the template database."""

    members: int
    messages: int = 0
    as_of: datetime = field(default_factory=lambda: datetime(2026, 6, 1, tzinfo=timezone.utc))
    lots_per_member: int = 3
    spread_days: int = 438  # with the 365-day lot lifetime, 73/438 = 1/6 of the lots are past expiry
    lifetime_days: int = 365
    events: bool = True
    audit: int = 0
    extras: bool = False
    seed: float = 0.42
    database: str = "engage_bench_data"

    def label(self) -> str:
        """What the template database was built from (its COMMENT): rebuilt when this differs."""
        values = {**asdict(self), "as_of": self.as_of.isoformat(), "version": GENERATOR_VERSION}
        values.pop("database")
        return json.dumps(values, sort_keys=True)


def url_of(name: str) -> str:
    return PG_SERVER.rsplit("/", 1)[0] + f"/{name}"


def dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def raw(url: str, autocommit: bool = True):
    import psycopg

    return psycopg.connect(dsn(url), autocommit=autocommit)


# --- the SQL -------------------------------------------------------------------------------

FIRST_NAMES = (
    "Ana Andrei Anna Bas Bram Carmen Chloe Daan David Dirk Elena Emma Eva Femke Finn Florin Gabriel Hanna "
    "Hugo Ioana Isa Jan Jesse Johanna Jonas Julia Katrin Lars Laura Lea Lena Leon Liam Lisa Lotte Luca "
    "Lucas Lukas Maja Marco Maria Marius Mark Max Mia Mihai Milan Mila Noah Noor Olga Oscar Paul Petra "
    "Radu Roos Ruben Sam Sanne Sara Sem Simona Sophie Stefan Sven Teun Thomas Tim Tom Vera Victor "
    "Willem Yara Zoe Adriana Bogdan Cristina Dennis Elias Felix Greta Ilse Ivo Jasper Karin Klaus Linda "
    "Mats Nina Otto Pieter Rosa Tudor Ursula Vlad Wout").split()
LAST_NAMES = (
    "de Jong|Jansen|de Vries|van den Berg|van Dijk|Bakker|Janssen|Visser|Smit|Meijer|de Boer|Mulder|"
    "de Groot|Bos|Vos|Peters|Hendriks|van Leeuwen|Dekker|Brouwer|de Wit|Dijkstra|Smits|de Graaf|"
    "van der Meer|van der Linden|Kok|Jacobs|de Haan|Vermeulen|Müller|Schmidt|Schneider|Fischer|Weber|"
    "Meyer|Wagner|Becker|Schulz|Hoffmann|Schäfer|Koch|Bauer|Richter|Klein|Wolf|Schröder|Neumann|"
    "Schwarz|Zimmermann|Popescu|Ionescu|Popa|Pop|Radu|Dumitru|Stoica|Stan|Gheorghe|Matei|Ciobanu|"
    "Rusu|Munteanu|Constantin|Marin|Tudor|Florea|Barbu|Nistor|Lazăr|Smith|Jones|Williams|Brown|Taylor|"
    "Davies|Evans|Wilson|Thomas|Johnson|Roberts|Walker|Wright|Robinson|Thompson|White|Hughes|Edwards|"
    "Green|Hall|Wood|Harris|Clarke|Jackson|Turner|Hill|Moore|Cooper|King|Lee").split("|")


def _array(words) -> str:
    return "ARRAY[" + ",".join("'" + w.replace("'", "''") + "'" for w in words) + "]"


MEMBERS_SQL = """
CREATE TEMP TABLE bench_gen AS
SELECT m, k, (m - 1) * {per} + k AS id,
       10 + floor(power(random(), 8) * 1200)::int AS points,  -- few big spenders
       random() AS spend,
       %(as_of)s::timestamptz - (random() * {spread} * 86400) * interval '1 second' AS earned_at
FROM generate_series(1, {members}) AS m, generate_series(1, {per}) AS k;

CREATE TEMP TABLE bench_people AS
SELECT m, ({first})[1 + floor(random() * {n_first})::int] AS first_name,
       ({last})[1 + floor(random() * {n_last})::int] AS last_name, random() AS r
FROM generate_series(1, {members}) AS m;

INSERT INTO members (id, external_id, first_name, last_name, email, phone, locale, timezone, sms_consent,
                     email_consent, sms_opted_out, email_opted_out, tier_id, referral_code,
                     unsubscribe_token, created_at, points_balance, points_earned)
SELECT s.m, 'bench-' || s.m, p.first_name, p.last_name,
       CASE WHEN mod(s.m, 10) = 0
            THEN p.first_name || '.' || replace(p.last_name, ' ', '') || '.' || s.m || '@Example.com'
            ELSE lower(p.first_name || '.' || replace(p.last_name, ' ', '') || '.' || s.m || '@example.com') END,
       CASE WHEN mod(s.m, 5) <> 0 THEN '+316' || lpad(s.m::text, 8, '0') END,
       CASE WHEN p.r < 0.5 THEN 'nl' WHEN p.r < 0.8 THEN 'en' WHEN p.r < 0.95 THEN 'de' ELSE 'ro' END,
       NULL, FALSE, mod(s.m, 50) = 0, FALSE, FALSE,
       CASE WHEN total >= 1500 THEN 3 WHEN total >= 500 THEN 2 ELSE 1 END,
       'BS' || s.m, md5(s.m::text) || s.m,
       %(as_of)s::timestamptz - interval '800 days' + (s.m::float8 / {members}) * interval '362 days',
       total, total
FROM (SELECT m, sum(points) AS total FROM bench_gen GROUP BY m) AS s JOIN bench_people AS p ON p.m = s.m
ORDER BY s.m;

INSERT INTO consent_events (member_id, channel, change, source, at)
SELECT id, 'email', 'consent_given', 'signup', created_at FROM members WHERE email_consent ORDER BY id;

INSERT INTO ledger_entries (id, member_id, points, kind, reason, source, occurred_at, expires_at, created_at)
SELECT id, m, points, 'earn', 'purchase', 'event:' || id, earned_at,
       earned_at + interval '{lifetime_hours} hours', earned_at
FROM bench_gen ORDER BY id;

INSERT INTO lots (id, member_id, ledger_entry_id, points, remaining, earned_at, expires_at)
SELECT id, m, id, points,
       CASE WHEN spend < 0.10 THEN 0 WHEN spend < 0.25 THEN points / 2 ELSE points END,
       earned_at, earned_at + interval '{lifetime_hours} hours'
FROM bench_gen ORDER BY id;

SELECT setval(pg_get_serial_sequence('members', 'id'), {members});
SELECT setval(pg_get_serial_sequence('ledger_entries', 'id'), {members} * {per});
SELECT setval(pg_get_serial_sequence('lots', 'id'), {members} * {per});
"""

EVENTS_SQL = """
INSERT INTO events (id, member_id, type, amount, currency, occurred_at, created_at, points_awarded)
SELECT id, m, 'purchase', points, 'EUR', earned_at, earned_at, points FROM bench_gen ORDER BY id;
SELECT setval(pg_get_serial_sequence('events', 'id'), {members} * {per});
"""

# Outbound rows at the ids of {ids}: every id not a multiple of 8 (OUTBOUND_IDS), then the reply
# slots left empty because their target was an email (FILL_IDS); `at` grows with the id over the year.
OUTBOUND_SQL = """
INSERT INTO messages (id, member_id, direction, flow, channel, status, to_address, from_address, locale,
                      subject, body, segments, encoding, priority, exempt, is_test, simulated, dedupe_key,
                      send_after, attempts, sent_at, delivered_at, provider_id, error_code, error, reason,
                      data, created_at, updated_at)
SELECT i, member, 'out', flow, channel, status,
       CASE WHEN channel = 'sms' THEN '+316' || lpad(member::text, 8, '0')
            ELSE 'member' || member || '@example.com' END,
       CASE WHEN channel = 'sms' THEN '+3197010000000' ELSE 'hello@example.com' END,
       'nl',
       CASE WHEN channel = 'email' THEN 'News about your points' END,
       CASE flow WHEN 'welcome' THEN 'Welkom bij Engage! Je hebt 50 punten gekregen. Stop? Antwoord STOP'
                 WHEN 'redemption_reminder' THEN 'Je hebt genoeg punten voor een beloning. Antwoord REDEEM.'
                 WHEN 'expiry_warning' THEN 'Let op: 120 punten vervallen over 14 dagen.'
                 WHEN 'tier_congratulations' THEN 'Gefeliciteerd, je bent nu Silver!'
                 WHEN 'feedback_request' THEN 'Hoe was je aankoop? Antwoord met een cijfer van 1 tot 5.'
                 ELSE 'Je hebt 340 punten.' END,
       CASE WHEN channel = 'sms' THEN 1 END, CASE WHEN channel = 'sms' THEN 'GSM-7' END,
       CASE WHEN flow IS NULL THEN 1 ELSE 5 END, flow IS NULL, r4 < 0.001, FALSE,
       CASE WHEN flow IS NOT NULL THEN flow || ':' || member || ':' || i END,
       at, CASE WHEN status IN ('queued', 'suppressed', 'skipped') THEN 0 ELSE 1 END,
       CASE WHEN status IN ('sent', 'delivered', 'failed') THEN at + interval '2 seconds' END,
       CASE WHEN status = 'delivered' THEN at + interval '9 seconds' END,
       CASE WHEN status IN ('sent', 'delivered', 'failed') THEN 'BENCH' || i END,
       CASE WHEN status = 'failed' THEN '30003' END,
       CASE WHEN status = 'failed' THEN 'Unreachable destination handset' END,
       CASE WHEN status = 'suppressed' THEN 'no consent on any channel'
            WHEN status = 'skipped' THEN 'no longer applies' END,
       '{{}}'::json, at, at
FROM (
    SELECT i, member, at, r4,
           CASE WHEN r1 < 0.15 THEN 'welcome' WHEN r1 < 0.35 THEN 'redemption_reminder'
                WHEN r1 < 0.65 THEN 'expiry_warning' WHEN r1 < 0.70 THEN 'tier_congratulations'
                WHEN r1 < 0.90 THEN 'feedback_request' END AS flow,
           CASE WHEN r2 < 0.6 THEN 'sms' ELSE 'email' END AS channel,
           CASE WHEN at > %(as_of)s::timestamptz - interval '1 day' AND r3 < 0.5 THEN 'queued'
                WHEN r3 < 0.70 THEN 'delivered' WHEN r3 < 0.82 THEN 'sent' WHEN r3 < 0.86 THEN 'failed'
                WHEN r3 < 0.94 THEN 'suppressed' WHEN r3 < 0.97 THEN 'skipped' ELSE 'delivered' END AS status
    FROM (SELECT i, 1 + floor({members} * power(random(), 2))::int AS member,
                 random() AS r1, random() AS r2, random() AS r3, random() AS r4,
                 %(as_of)s::timestamptz - ({messages} - i) * interval '1 second' * (31536000.0 / {messages}) AS at
          FROM {ids}) AS g
) AS o
ORDER BY i
"""

OUTBOUND_IDS = "generate_series(1, {messages}) AS i WHERE mod(i, 8) <> 0"
FILL_IDS = ("generate_series(8, {messages}, 8) AS i "
            "WHERE NOT EXISTS (SELECT 1 FROM messages AS taken WHERE taken.id = i)")

INBOUND_SQL = """
INSERT INTO messages (id, member_id, direction, flow, channel, status, to_address, from_address, body,
                      priority, exempt, is_test, simulated, send_after, attempts, in_reply_to_id, action,
                      data, created_at, updated_at)
SELECT r.i, t.member_id, 'in', NULL, 'sms', 'received', '+3197010000000', t.to_address, r.body, 9, FALSE,
       FALSE, FALSE, t.created_at + interval '3 minutes', 0, t.id, r.action, '{{}}'::json,
       t.created_at + interval '3 minutes', t.created_at + interval '3 minutes'
FROM (SELECT i, i - 1 - floor(random() * 7)::int AS target, x,
             CASE WHEN x < 0.3 THEN 'POINTS' WHEN x < 0.45 THEN 'REDEEM' WHEN x < 0.5 THEN 'STOP'
                  WHEN x < 0.8 THEN '5' ELSE 'Thanks!' END AS body,
             CASE WHEN x < 0.3 THEN 'points' WHEN x < 0.45 THEN 'redeem' WHEN x < 0.5 THEN 'stop'
                  WHEN x < 0.8 THEN 'rating' ELSE 'free_text' END AS action
      FROM (SELECT i, random() AS x FROM generate_series(8, {messages}, 8) AS i) AS s) AS r
JOIN messages AS t ON t.id = r.target AND t.channel = 'sms'
ORDER BY r.i
"""

# The rows the insight figures read that the rest leaves out (`extras`); triggers on.
EXTRAS_SQL = """
UPDATE members SET referred_by_id = id - 1 - mod(id, 97) WHERE mod(id, 20) = 0 AND id > 100;
INSERT INTO ledger_entries (member_id, points, kind, reason, source, occurred_at, created_at)
SELECT member_id, -100, 'redeem', 'EUR 10 off', 'bench-redeem:' || id, occurred_at + interval '2 days',
       occurred_at + interval '2 days'
FROM ledger_entries WHERE kind = 'earn' AND mod(id, 25) = 0 AND occurred_at + interval '2 days' < %(as_of)s
ORDER BY id;
INSERT INTO feedback (member_id, request_message_id, inbound_message_id, rating, created_at)
SELECT member_id, in_reply_to_id, id, 1 + mod(id, 5), created_at FROM messages
WHERE direction = 'in' AND action = 'rating' AND in_reply_to_id IS NOT NULL ORDER BY id;
INSERT INTO consent_events (member_id, channel, change, source, at)
SELECT member_id, 'sms', 'opt_out', 'sms:STOP', created_at FROM messages
WHERE direction = 'in' AND action = 'stop' ORDER BY id
"""

AUDIT_SQL = """
INSERT INTO audit_entries (id, created_at, user_id, actor, action, object_type, object_id, before, after)
SELECT i, %(as_of)s::timestamptz - ({audit} - i) * interval '1 second' * (31536000.0 / {audit}), NULL,
       'bench@example.com', 'member.adjust', 'member', (1 + floor(random() * {members})::int)::text,
       NULL, json_build_object('points', 25, 'reason', 'goodwill for a late delivery')
FROM generate_series(1, {audit}) AS i ORDER BY i;
SELECT setval(pg_get_serial_sequence('audit_entries', 'id'), {audit});
"""


def _statements(sql: str):
    return [s.strip() for s in sql.split(";") if s.strip()]


def _run(connection, sql: str, params: dict) -> None:
    for statement in _statements(sql):
        connection.execute(statement, params if "%(" in statement else None)


def _without_indexes(connection, table: str):
    """Drop `table`'s secondary indexes and unique constraints (loading 10M rows into them costs
    several times building them after); return the statements that make them again."""
    constraints = connection.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'u'", (table,)).fetchall()
    indexes = connection.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)", (table, table)).fetchall()
    for name, _ in constraints:
        connection.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        connection.execute(f'DROP INDEX "{name}"')
    return ([f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for name, definition in constraints]
            + [definition for _, definition in indexes])


def generate(url: str, spec: Spec) -> None:
    """Fill the freshly migrated database at `url` with `spec`'s rows; then VACUUM ANALYZE."""
    n_first, n_last = len(FIRST_NAMES), len(LAST_NAMES)
    fmt = {"per": spec.lots_per_member, "spread": spec.spread_days, "members": spec.members,
           "lifetime_hours": spec.lifetime_days * 24,  # lots expire after 365 days of 24 h
           "first": _array(FIRST_NAMES), "last": _array(LAST_NAMES), "n_first": n_first, "n_last": n_last,
           "messages": spec.messages, "audit": spec.audit}
    params = {"as_of": spec.as_of}
    began = time.monotonic()
    with raw(url, autocommit=False) as connection:
        connection.execute("SET session_replication_role = replica")  # rows are consistent by construction
        connection.execute("SET maintenance_work_mem = '512MB'")
        connection.execute("SET work_mem = '256MB'")
        connection.execute(f"SELECT setseed({spec.seed})")
        _run(connection, MEMBERS_SQL.format(**fmt), params)
        if spec.events:
            _run(connection, EVENTS_SQL.format(**fmt), params)
        connection.execute("DROP TABLE bench_gen")
        connection.execute("DROP TABLE bench_people")
        connection.commit()
        log(f"dataset: {spec.members} members, {spec.members * spec.lots_per_member} entries + lots"
            f"{' + events' if spec.events else ''} in {time.monotonic() - began:.1f} s")
        if spec.messages:
            step = time.monotonic()
            remake = _without_indexes(connection, "messages")
            connection.execute(OUTBOUND_SQL.format(**fmt, ids=OUTBOUND_IDS.format(**fmt)), params)
            connection.execute(INBOUND_SQL.format(**fmt), params)
            connection.execute(OUTBOUND_SQL.format(**fmt, ids=FILL_IDS.format(**fmt)), params)
            connection.execute("SELECT setval(pg_get_serial_sequence('messages', 'id'), %s)", (spec.messages,))
            for statement in remake:
                connection.execute(statement)
            connection.commit()
            count = connection.execute("SELECT count(*) FROM messages").fetchone()[0]
            log(f"dataset: {count} messages in {time.monotonic() - step:.1f} s")
            if count != spec.messages:
                raise BenchError(f"dataset: {count} messages generated, {spec.messages} asked for")
        if spec.extras:
            step = time.monotonic()
            connection.execute("SET session_replication_role = origin")  # balances follow redemptions
            _run(connection, EXTRAS_SQL, params)
            connection.execute("SET session_replication_role = replica")
            connection.commit()
            log(f"dataset: referrals, redemptions, feedback, opt-outs in {time.monotonic() - step:.1f} s")
        if spec.audit:
            _run(connection, AUDIT_SQL.format(**fmt), params)
            connection.commit()
    with raw(url) as connection:
        connection.execute("VACUUM (FREEZE, ANALYZE)")
        connection.execute("CHECKPOINT")
    log(f"dataset: generated in {time.monotonic() - began:.1f} s")


# --- template and clones ---------------------------------------------------------------------

def admin(sql: str, params: dict | None = None):
    engine = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(sql), params or {}).fetchall() if sql.lstrip().upper().startswith(
                "SELECT") else connection.execute(sa.text(sql), params or {})
    finally:
        engine.dispose()


def scale(members: int, messages: int, as_of: datetime) -> Spec:
    """The data the console and insights benches share: one template for both at a size."""
    return Spec(members=members, messages=messages, as_of=as_of, audit=max(1000, members // 10), extras=True,
                database=f"engage_bench_scale_{members}_{messages}")


def chain() -> list[str]:
    """This code's migrations, base first."""
    from alembic.script import ScriptDirectory

    from engage import migrate

    script = ScriptDirectory.from_config(migrate.alembic_config())
    return [revision.revision for revision in reversed(list(script.walk_revisions("base", "heads")))]


def _comment(spec: Spec, migrations: list[str]) -> str:
    return json.dumps({"spec": spec.label(), "migrations": migrations})


def _reusable(spec: Spec) -> list[str] | None:
    """The migrations still to run on `spec.database` to reuse it, or None: rebuild it."""
    rows = admin("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :name",
                 {"name": spec.database})
    if not rows or os.environ.get("BENCH_DATASET_REBUILD") == "1":
        return None
    try:
        recorded = json.loads(rows[0][0] or "")
    except ValueError:
        return None
    if not isinstance(recorded, dict) or recorded.get("spec") != spec.label():
        return None
    done, wanted = recorded.get("migrations") or [], chain()
    if wanted[:len(done)] != done:  # a revision rechained or of another branch: its stamp would skip some
        log(f"dataset: {spec.database} was migrated {' '.join(done[-4:])}, this code's chain ends "
            f"{' '.join(wanted[-4:])}; rebuilding")
        return None
    return wanted[len(done):]


def built(spec: Spec) -> str:
    """The URL of `spec.database`, a template holding `spec`'s rows: reused when it was built from
    the same spec and its migrations are a prefix of this code's (the COMMENT records both; the
    new ones then run on its rows, then ANALYZE), else rebuilt. BENCH_DATASET_REBUILD=1 forces a rebuild."""
    from engage import migrate
    from engage.db import make_engine

    missing = _reusable(spec)
    url = url_of(spec.database)
    if missing is not None:
        if missing:
            log(f"dataset: upgrading {spec.database}: {' '.join(missing)}")
            engine = make_engine(url, poolclass=sa.pool.NullPool)
            try:
                migrate.upgrade(engine)
            finally:
                engine.dispose()
            with raw(url) as connection:
                connection.execute("VACUUM ANALYZE")
            admin(f"COMMENT ON DATABASE \"{spec.database}\" IS '{_comment(spec, chain())}'")
        log(f"dataset: reusing {spec.database}")
        return url
    url = fresh_database(spec.database)
    generate(url, spec)
    admin(f"COMMENT ON DATABASE \"{spec.database}\" IS '{_comment(spec, chain())}'")
    return url


def counts(url: str) -> dict[str, int]:
    """The rows that make a dataset's size, counted (not estimated)."""
    with raw(url) as connection:
        return {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("members", "lots", "messages")}


def clone(source: str, name: str) -> str:
    """A file copy of `source` (same rows, statistics and physical layout), flushed and
    checkpointed so that what is measured on it starts from the same state each time."""
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{name}" TEMPLATE "{source}" STRATEGY FILE_COPY')
    url = url_of(name)
    os.sync()
    checkpoint(url)
    return url


def drop(name: str) -> None:
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def checkpoint(url: str) -> None:
    with raw(url) as connection:
        connection.execute("CHECKPOINT")
