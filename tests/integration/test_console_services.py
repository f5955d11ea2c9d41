"""The services under the console: users (argon2, case-insensitive emails), the flows' counts,
the audit log, and the `engage users` commands."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from engage.errors import Conflict, Unprocessable
from engage.models import Message, User
from engage.services import flow_stats, users


def test_users_are_stored_with_an_argon2_hash_and_a_case_insensitive_email(db, clock):
    staff = users.create(db.session(), " Ana@Example.COM", "marketer", "a long password", clock())
    assert staff.email == "ana@example.com"
    with db.session() as session:
        stored = session.scalar(select(User.password_hash))
    assert stored.startswith("$argon2id$") and "a long password" not in stored
    with pytest.raises(Conflict):
        users.create(db.session(), "ANA@example.com", "viewer", "another password", clock())
    assert users.sign_in(db.session(), "ana@EXAMPLE.com", "a long password", clock()) == staff
    assert users.sign_in(db.session(), "ana@example.com", "a long passwor", clock()) is None


def test_bad_users_are_refused_by_field(db, clock):
    with pytest.raises(Unprocessable) as refused:
        users.create(db.session(), "not-an-email", "root", "short", clock())
    assert set(refused.value.errors) == {"email", "role", "password"}


def message(flow, status, created_at, direction="out", **fields):
    return Message(direction=direction, flow=flow, channel="sms", status=status, body="", send_after=created_at,
                   created_at=created_at, updated_at=created_at, **fields)


def test_flow_counts_are_of_the_last_30_days_without_test_sends(db, clock):
    now = clock()
    with db.session() as session, session.begin():
        welcome = message("welcome", "delivered", now - timedelta(days=1))
        session.add_all([welcome, message("welcome", "sent", now), message("welcome", "queued", now),
                         message("welcome", "scheduled", now), message("welcome", "failed", now),
                         message("welcome", "delivered", now - timedelta(days=31)),  # too old
                         message("welcome", "delivered", now, is_test=True),  # a marketer's test
                         message("expiry_warning", "suppressed", now), message(None, "sent", now)])
        session.flush()
        session.add_all([message(None, "received", now, direction="in", in_reply_to_id=welcome.id),
                         message(None, "received", now - timedelta(days=40), direction="in",
                                 in_reply_to_id=welcome.id)])
    counts = flow_stats.last_30_days(db.session(), now)
    assert counts["welcome"] == {"queued": 2, "sent": 1, "delivered": 1, "failed": 1, "suppressed": 0,
                                 "replied": 1}
    assert counts["expiry_warning"]["suppressed"] == 1
    assert set(counts) == {"welcome", "redemption_reminder", "expiry_warning", "tier_congratulations",
                           "feedback_request", "membership_renewal", "challenge_progress", "offer"}


def run(args, tmp_path, stdin=""):
    return subprocess.run([sys.executable, "-m", "engage.cli", *args], capture_output=True, text=True,
                          input=stdin, cwd=tmp_path, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "ENGAGE_DATABASE_URL": f"sqlite:///{tmp_path}/u.sqlite"})


def test_users_create_reads_the_password_from_stdin_and_list_shows_them(tmp_path):
    assert run(["db", "upgrade"], tmp_path).returncode == 0
    made = run(["users", "create", "--email", "Mia@Example.com", "--role", "admin"], tmp_path,
               "a long password\n")
    assert made.returncode == 0, made.stderr
    assert made.stdout == "user mia@example.com created (admin)\n"
    again = run(["users", "create", "--email", "mia@example.COM", "--role", "viewer"], tmp_path, "another one!\n")
    assert again.returncode == 1 and "already exists" in again.stderr
    short = run(["users", "create", "--email", "leo@example.com", "--role", "viewer"], tmp_path, "short\n")
    assert short.returncode == 1 and "at least 10 characters" in short.stderr
    listed = run(["users", "list"], tmp_path)
    assert listed.stdout.startswith("mia@example.com") and "admin" in listed.stdout
    assert "last sign-in never" in listed.stdout and "leo@" not in listed.stdout
    assert "a long password" not in made.stdout + made.stderr + listed.stdout
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o077 == 0  # generated, private
    import sqlite3
    with sqlite3.connect(tmp_path / "u.sqlite") as connection:
        assert connection.execute("SELECT actor, action, object_type, after FROM audit_entries").fetchall() == [
            ("engage users create", "user.create", "user", '{"email": "mia@example.com", "role": "admin"}')]


def test_https_without_a_secret_key_fails_at_start_up_naming_it(tmp_path):
    result = subprocess.run([sys.executable, "-m", "engage.cli", "users", "list"], capture_output=True, text=True,
                            cwd=tmp_path, timeout=60, env={"PATH": "/usr/bin:/bin",
                                                            "ENGAGE_PUBLIC_URL": "https://engage.example.com"})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "engage: configuration error: ENGAGE_SECRET_KEY is required when ENGAGE_PUBLIC_URL is https "
        "(a long random string, e.g. from `python -c 'import secrets; print(secrets.token_hex(32))'`)"]


def test_a_busy_month_is_estimated_from_samples_on_postgresql(db, clock):
    # A steady month: a delivered welcome every 10 minutes (every 5th answered a minute later) and
    # a failed expiry warning every 30 minutes.
    now = clock()
    rows, replies = [], []
    for n in range(30 * 24 * 6):
        at = now - timedelta(minutes=10 * n + 5)
        rows.append(dict(id=n + 1, direction="out", flow="welcome", channel="sms", status="delivered", body="",
                         send_after=at, created_at=at, updated_at=at))
        if n % 5 == 0:
            replies.append(dict(id=100_000 + n, direction="in", flow=None, channel="sms", status="received",
                                body="5", in_reply_to_id=n + 1, send_after=at + timedelta(minutes=1),
                                created_at=at + timedelta(minutes=1), updated_at=at + timedelta(minutes=1)))
        if n % 3 == 0:
            rows.append(dict(id=200_000 + n, direction="out", flow="expiry_warning", channel="email",
                             status="failed", body="", send_after=at, created_at=at, updated_at=at))
    with db.session() as session, session.begin():
        session.execute(insert(Message), rows)
        session.execute(insert(Message), replies)
    exact = flow_stats.last_30_days(db.session(), now)
    assert not exact.estimated
    assert (exact["welcome"]["delivered"], exact["welcome"]["replied"], exact["expiry_warning"]["failed"]) == (
        4320, 864, 1440)
    sampled = flow_stats.last_30_days(db.session(), now, exact_up_to=0)
    if db.engine.dialect.name == "sqlite":  # counted exactly whatever the size
        assert not sampled.estimated and sampled == exact
        return
    assert sampled.estimated
    for flow, column in (("welcome", "delivered"), ("welcome", "replied"), ("expiry_warning", "failed")):
        assert abs(sampled[flow][column] - exact[flow][column]) <= 0.15 * exact[flow][column], (flow, column)
    assert sampled["welcome"]["failed"] == 0
