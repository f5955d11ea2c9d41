"""Jobs, imports, the worker and the server as an operator runs them: real processes, a real file."""

from __future__ import annotations

import os
import pty
import re
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing

import pytest
import requests

from tests.integration.test_cli import run
from tests.support.databases import check_member_totals

HEADER = "external_id,first_name,last_name,email,phone,locale,timezone,sms_consent,email_consent\n"


@pytest.fixture(scope="module")
def seeded_template(tmp_path_factory):
    directory = tmp_path_factory.mktemp("seeded")
    for args in (["db", "upgrade"], ["seed-demo"]):
        result = run(args, directory)
        assert result.returncode == 0, result.stderr
    return directory / "cli.sqlite"


@pytest.fixture
def seeded(seeded_template, tmp_path):
    with closing(sqlite3.connect(seeded_template)) as source, \
            closing(sqlite3.connect(tmp_path / "cli.sqlite")) as copy:
        source.backup(copy)
    yield tmp_path
    check_member_totals(f"sqlite:///{tmp_path}/cli.sqlite")


def snapshot(directory) -> tuple:
    with closing(sqlite3.connect(directory / "cli.sqlite")) as connection:
        return tuple(connection.execute(query).fetchall() for query in (
            "SELECT count(*), sum(points) FROM ledger_entries",
            "SELECT count(*), sum(remaining) FROM lots",
            "SELECT count(*), group_concat(flow) FROM messages",
            "SELECT group_concat(tier_id) FROM (SELECT tier_id FROM members ORDER BY id)",
        ))


def test_sweep_for_a_date_changes_nothing_the_second_time(seeded):
    before = snapshot(seeded)
    first = run(["jobs", "run", "sweep", "--as-of", "2027-01-01"], seeded)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("sweep as of 2027-01-01: members_with_expired_points=")
    after = snapshot(seeded)
    assert after != before  # the demo has points that expire by then
    again = run(["jobs", "run", "sweep", "--as-of", "2027-01-01"], seeded)
    assert again.returncode == 0 and "already done" in again.stdout
    forced = run(["jobs", "run", "sweep", "--as-of", "2027-01-01", "--force"], seeded)
    assert forced.returncode == 0 and "members_with_expired_points=0" in forced.stdout
    assert snapshot(seeded) == after
    assert "[" not in forced.stderr  # no progress bar when stderr is not a terminal


@pytest.mark.parametrize("as_of", ["garbage", "2027-13-01", "2027-02-30T"])
def test_bad_as_of_is_a_clear_error(seeded, as_of):
    result = run(["jobs", "run", "sweep", "--as-of", as_of], seeded)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "--as-of" in result.stderr and "not a date" in result.stderr


def test_unknown_job_is_a_clear_error(seeded):
    result = run(["jobs", "run", "backup"], seeded)
    assert result.returncode != 0 and "Traceback" not in result.stderr and "sweep" in result.stderr


def test_jobs_list_shows_the_schedule(seeded):
    result = run(["jobs", "list"], seeded, ENGAGE_SWEEP_TIME="01:30")
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert set(lines) == {"sweep", "flows", "outbox", "insights"}
    assert "daily 01:30 Europe/Amsterdam" in lines["sweep"] and "every 10s" in lines["flows"]


def test_members_import_reports_each_row(seeded):
    (seeded / "members.csv").write_text(
        HEADER
        + "shop-1,Ann,Smit,ann@example.com,+31612345678,nl,Europe/Amsterdam,yes,1\n"
        + "shop-2,Bob,,,,,,no,true\n"
        + "shop-1,Ann again,,,,,,,\n"               # line 4: duplicate in the file
        + "shop-3,Cy,,not-an-email,,,,false,false\n"  # line 5
        + "shop-4,Di,,,,,,maybe,no\n"              # line 6
        + "shop-5,,,,,,,,\n"                       # line 7
        + "shop-6,Ed,,,12,,,,\n")                  # line 8
    result = run(["members", "import", "members.csv"], seeded)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stdout.strip() == "members import: 2 imported, 1 skipped, 4 failed"
    problems = result.stderr.splitlines()
    assert problems[0].startswith("line 4: skipped:") and "shop-1" in problems[0]
    for number, field in ((5, "email"), (6, "sms_consent"), (7, "first_name"), (8, "phone")):
        assert any(p.startswith(f"line {number}: failed: {field}") for p in problems), (number, problems)
    with closing(sqlite3.connect(seeded / "cli.sqlite")) as connection:
        assert connection.execute("SELECT sms_consent, email_consent FROM members WHERE external_id = 'shop-1'"
                                  ).fetchone() == (1, 1)
    again = run(["members", "import", "members.csv"], seeded)
    assert again.stdout.strip() == "members import: 0 imported, 3 skipped, 4 failed"


def test_members_import_of_a_good_file_succeeds_and_a_wrong_header_is_one_line(seeded):
    (seeded / "good.csv").write_text(HEADER + "a-1,Ann,,,,,,,\n")
    assert run(["members", "import", "good.csv"], seeded).returncode == 0
    (seeded / "wrong.csv").write_text("id,name\n1,Ann\n")
    wrong = run(["members", "import", "wrong.csv"], seeded)
    assert wrong.returncode == 1 and len(wrong.stderr.strip().splitlines()) == 1
    assert "unknown columns" in wrong.stderr


def test_members_import_draws_a_progress_bar_on_a_terminal(seeded):
    (seeded / "members.csv").write_text(HEADER + "".join(f"t-{n},Member {n},,,,,,,\n" for n in range(5)))
    main, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "engage.cli", "members", "import", "members.csv"], cwd=seeded,
        env={**os.environ, "ENGAGE_DATABASE_URL": f"sqlite:///{seeded}/cli.sqlite"},
        stdout=subprocess.PIPE, stderr=terminal, text=True)
    os.close(terminal)
    stdout, _ = process.communicate(timeout=60)
    drawn = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:
            break
        if not chunk:
            break
        drawn += chunk
    os.close(main)
    assert process.returncode == 0 and stdout.strip() == "members import: 5 imported, 0 skipped, 0 failed"
    assert b"importing members" in drawn and b"5/5" in drawn


def start(args, directory, log, **env):
    environment = {**os.environ, "ENGAGE_DATABASE_URL": f"sqlite:///{directory}/cli.sqlite", **env}
    return subprocess.Popen([sys.executable, "-m", "engage.cli", *args], cwd=directory, env=environment,
                            stdout=subprocess.DEVNULL, stderr=log)


def wait_for(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def stop_within(process: subprocess.Popen, seconds: float) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(seconds)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()  # reaped here, not by a later test's garbage collection


def test_worker_runs_jobs_logs_them_and_stops_on_sigterm(seeded):
    log_path = seeded / "worker.log"
    with log_path.open("w") as log:
        worker = start(["worker"], seeded, log, ENGAGE_FLOWS_INTERVAL_SECONDS="1")
    text = lambda: log_path.read_text()  # noqa: E731
    try:
        assert wait_for(lambda: "flows as of " in text()), text()
    finally:
        code = stop_within(worker, 30)  # a job under way finishes first; a loaded CI machine is slow
    assert code == 0, text()
    assert "fires the schedules" in text() and "worker stopped" in text() and "Traceback" not in text()


def test_serve_answers_and_stops_on_sigterm(seeded):
    log_path = seeded / "serve.log"
    with log_path.open("w") as log:
        server = start(["serve", "--port", "0"], seeded, log)  # it binds a free port and logs which
    announced = lambda: re.search(r"serving on (http://127\.0\.0\.1:\d+)", log_path.read_text())  # noqa: E731

    try:
        assert wait_for(announced), log_path.read_text()
        response = requests.get(announced().group(1) + "/api/openapi.json", timeout=10)
        assert response.status_code == 200
    finally:
        code = stop_within(server, 10)
    assert code == 0 and "stopped" in log_path.read_text() and "Traceback" not in log_path.read_text()
