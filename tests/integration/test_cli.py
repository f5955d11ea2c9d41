"""The `engage` command line as an operator runs it: a real process, a real database file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.databases import check_member_totals


def run(args, tmp_path, **env):
    environment = {**os.environ, "ENGAGE_DATABASE_URL": f"sqlite:///{tmp_path}/cli.sqlite", **env}
    return subprocess.run([sys.executable, "-m", "engage.cli", *args], capture_output=True, text=True,
                          env=environment, cwd=tmp_path, timeout=120)


@pytest.fixture
def migrated(tmp_path):
    result = run(["db", "upgrade"], tmp_path)
    assert result.returncode == 0, result.stderr
    yield tmp_path
    check_member_totals(f"sqlite:///{tmp_path}/cli.sqlite")


def test_keys_create_prints_only_the_key(migrated):
    result = run(["keys", "create", "--role", "admin", "--name", "ops"], migrated)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1 and result.stdout.startswith("egk_")
    bad = run(["keys", "create", "--role", "root", "--name", "x"], migrated)
    assert bad.returncode != 0


def test_seed_demo_is_idempotent(migrated):
    first = run(["seed-demo"], migrated).stderr
    assert "members added" in first
    assert "console admin demo@example.com with password engage-demo (created)" in first
    second = run(["seed-demo"], migrated).stderr
    assert "already seeded" in second and "(already there)" in second


def test_seed_demo_lives_its_history_within_the_messaging_rules(migrated):
    """The demo's months of history went out when they fell due, not all at the server's first
    start; and as sent, they keep quiet hours, the daily cap and the feedback request spacing."""
    import sqlite3
    from collections import Counter
    from datetime import datetime, timedelta, timezone
    from zoneinfo import ZoneInfo

    result = run(["seed-demo"], migrated)
    assert result.returncode == 0 and result.stdout == ""  # the past was not printed, nor sent anywhere
    with sqlite3.connect(migrated / "cli.sqlite") as connection:
        rows = connection.execute(
            "SELECT m.flow, m.channel, m.status, m.send_after, m.sent_at, mem.id, mem.timezone"
            " FROM messages m JOIN members mem ON mem.id = m.member_id WHERE m.direction = 'out'").fetchall()
    utc = timezone.utc
    now = datetime.now(utc)
    waiting = [row for row in rows if row[2] in ("queued", "scheduled")]
    assert waiting  # Noor's welcome email, never delivered: she has no history to live through
    assert all(datetime.fromisoformat(row[3]).replace(tzinfo=utc) > now - timedelta(days=3) for row in waiting)
    sent = [(flow, member, datetime.fromisoformat(at).replace(tzinfo=utc).astimezone(ZoneInfo(zone)))
            for flow, channel, status, _, at, member, zone in rows if status == "sent" and channel == "sms"]
    assert len(sent) >= 10
    assert all(8 <= local.hour < 21 for _, _, local in sent)
    assert max(Counter((member, local.date()) for _, member, local in sent).values()) <= 2
    requests: dict[int, list[datetime]] = {}
    for flow, member, local in sent:
        if flow == "feedback_request":
            requests.setdefault(member, []).append(local)
    assert max(len(times) for times in requests.values()) >= 2  # Ana and Daan: one per purchase
    for times in requests.values():
        times.sort()
        assert all(later - earlier >= timedelta(days=30) for earlier, later in zip(times, times[1:]))


@pytest.mark.parametrize("name,value", [("ENGAGE_TIMEZONE", "Mars/Base"), ("ENGAGE_PUBLIC_URL", "not a url"),
                                        ("ENGAGE_MAX_ATTEMPTS", "many"), ("ENGAGE_DATABASE_URL", "mysql://x")])
def test_bad_setting_is_one_line_naming_it(tmp_path, name, value):
    result = run(["db", "upgrade"], tmp_path, **{name: value})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [["seed-demo"], ["keys", "create", "--role", "admin", "--name", "x"],
                                  ["jobs", "run", "sweep"], ["worker"], ["serve", "--port", "0"]])
def test_a_database_not_yet_upgraded_is_one_line_saying_so(tmp_path, args):
    result = run(args, tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "is at revision none" in line and "run `engage db upgrade` first" in line


def test_a_database_that_cannot_be_reached_is_one_line(tmp_path):
    result = run(["db", "upgrade"], tmp_path, ENGAGE_DATABASE_URL="postgresql://postgres@127.0.0.1:1/nowhere")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("engage: database error: ") and "127.0.0.1" in line


def test_help_lists_commands(tmp_path):
    result = run(["--help"], tmp_path)
    for command in ("db", "keys", "seed-demo", "serve"):
        assert command in result.stdout


def test_engage_timezone_sets_the_new_programs_zone(tmp_path):
    assert run(["db", "upgrade"], tmp_path, ENGAGE_TIMEZONE="America/New_York").returncode == 0
    key = run(["keys", "create", "--role", "admin", "--name", "tz"], tmp_path).stdout.strip()
    from engage import create_app
    from engage.config import Config

    app = create_app(Config(database_url=f"sqlite:///{tmp_path}/cli.sqlite"))
    program = app.test_client().get("/api/v1/program", headers={"Authorization": f"Bearer {key}"}).get_json()
    app.extensions["engage.db"].dispose()
    assert program["timezone"] == "America/New_York"


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="reads Linux's socket table")
def test_gunicorn_with_the_shipped_config_gives_each_worker_its_own_socket(migrated):
    # One socket per worker (SO_REUSEPORT) is what spreads kept-alive connections over the
    # workers; with one shared socket, one worker took nearly all of them (gunicorn.conf.py).
    # The bench harness starts gunicorn as production does: from the project root, with that file.
    import urllib.request

    from bench.harness import ServerSettings, gunicorn, listening_sockets

    env = {"ENGAGE_DATABASE_URL": f"sqlite:///{migrated}/cli.sqlite"}
    with gunicorn("wsgi:app", env, name="config-test", probe="/api/openapi.json",
                  settings=ServerSettings(workers=2)) as port:
        assert listening_sockets(port) == 2
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/openapi.json", timeout=30) as response:
            assert response.status == 200


def test_rewards_import_codes(migrated):
    import sqlite3

    with sqlite3.connect(migrated / "cli.sqlite") as connection:
        connection.execute("UPDATE rewards SET partner = 'Kinepolis', low_codes_threshold = 3 WHERE id = 2")
    good = migrated / "codes.csv"
    good.write_text("code,expires\nKP-1,2027-01-01\nKP-2,2027-01-01\nKP-1,2027-01-01\n")
    first = run(["rewards", "import-codes", "Free shipping", str(good)], migrated)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "codes import: 2 imported, 0 already in the pool, 1 repeated in the file",
        "Free shipping (Kinepolis): 2 codes left (low), 0 handed out, 2 imported"]
    assert "line 4: repeats line 2" in first.stderr
    again = run(["rewards", "import-codes", "2", str(good)], migrated)
    assert again.stdout.startswith("codes import: 0 imported, 2 already in the pool")
    bad = migrated / "bad.csv"
    bad.write_text("code\nKP-3\nwith space\n")
    refused = run(["rewards", "import-codes", "2", str(bad)], migrated)
    assert refused.returncode == 1 and "line 3: only printable ASCII without spaces" in refused.stderr
    assert "nothing imported" in refused.stderr
    unknown = run(["rewards", "import-codes", "Platinum lounge", str(good)], migrated)
    assert unknown.returncode == 1 and "no reward with id or name 'Platinum lounge'" in unknown.stderr
    plain = run(["rewards", "import-codes", "1", str(good)], migrated)
    assert plain.returncode == 1 and "not a partner reward" in plain.stderr
    counts = run(["rewards", "codes", "Free shipping"], migrated)
    assert counts.stdout.strip() == "Free shipping (Kinepolis): 2 codes left (low), 0 handed out, 2 imported"
    assert "rewards" in run(["--help"], migrated).stdout
