"""API keys are stored as hashes only, revoked for good, and never written to a log."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from sqlalchemy import String, Text, inspect, select, text

from engage.loyalty.codes import key_hash
from engage.models import ApiKey

ENGAGE = [sys.executable, "-c", "from engage.cli import main; main()"]


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ENGAGE_DATABASE_URL": database_url}
    return subprocess.run([*ENGAGE, *args], capture_output=True, text=True, env=env, timeout=60, check=False)


def _cells_holding(engine, needle: str) -> list[str]:
    """Every table.column of the database whose text holds `needle` (any column cast to text)."""
    found = []
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for column in inspect(connection).get_columns(table):
                cast = "CAST({} AS TEXT)" if not isinstance(column["type"], (String, Text)) else "{}"
                expression = cast.format(f'"{column["name"]}"')
                hit = connection.execute(text(f'SELECT 1 FROM "{table}" WHERE {expression} LIKE :needle LIMIT 1'),
                                         {"needle": f"%{needle}%"}).first()
                if hit:
                    found.append(f"{table}.{column['name']}")
    return found


def test_plain_keys_are_nowhere_in_the_database(database_url, app, api, db):
    made = _cli(database_url, "keys", "create", "--role", "marketer", "--name", "cli key")
    assert made.returncode == 0, made.stderr
    cli_key = made.stdout.strip()
    response = api.post("/keys", {"role": "integration", "name": "api key"}, role="admin")
    assert response.status_code == 201, response.get_json()
    api_key = response.get_json()["key"]
    # Both keys work, so they are real keys and the search below looks for the right thing.
    for key in (cli_key, api_key):
        assert app.test_client().get("/api/v1/rewards", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    for key in (cli_key, api_key, *api.keys.values()):
        assert _cells_holding(db.engine, key) == []
        # Only the documented 10-character prefix (36 random bits) is kept, to tell keys apart.
        assert _cells_holding(db.engine, key[:11]) == []
    # The search itself finds what is stored (a search that cannot find anything proves nothing).
    assert _cells_holding(db.engine, api_key[:10]) == ["api_keys.prefix"]


def test_the_api_lists_and_never_shows_a_key_again(api):
    created = api.post("/keys", {"role": "marketer", "name": " reports "}, role="admin").get_json()
    assert created["name"] == "reports" and created["role"] == "marketer" and created["revoked_at"] is None
    assert created["prefix"] == created["key"][:10]
    listed = api.get("/keys", role="admin").get_json()["items"]
    assert [key["name"] for key in listed][-1] == "reports"
    assert all("key" not in key and "key_hash" not in key for key in listed)
    for bad in ({"role": "root", "name": "x"}, {"role": "admin", "name": ""}, {"role": "admin"}):
        response = api.post("/keys", bad, role="admin")
        assert response.status_code == 422 and response.get_json()["errors"], bad


def test_a_revoked_key_is_refused_at_once(app, api):
    client = app.test_client()
    created = api.post("/keys", {"role": "integration", "name": "pos"}, role="admin").get_json()
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert client.get("/api/v1/rewards", headers=headers).status_code == 200  # now in the key cache
    assert api.delete(f"/keys/{created['id']}", role="admin").status_code == 204
    response = client.get("/api/v1/rewards", headers=headers)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"
    assert api.delete(f"/keys/{created['id']}", role="admin").status_code == 204  # idempotent
    [listed] = [key for key in api.get("/keys", role="admin").get_json()["items"] if key["id"] == created["id"]]
    assert listed["revoked_at"] is not None
    assert api.delete("/keys/999999", role="admin").status_code == 404


def test_a_key_cannot_revoke_itself(app, api, db):
    with db.session() as session:
        admin_id = session.scalar(select(ApiKey.id).where(ApiKey.role == "admin"))
    response = api.delete(f"/keys/{admin_id}", role="admin")
    assert response.status_code == 409 and "itself" in response.get_json()["message"]
    assert api.get("/keys", role="admin").status_code == 200


def test_cli_lists_and_revokes(database_url, app, api):
    made = _cli(database_url, "keys", "create", "--role", "integration", "--name", "till")
    key = made.stdout.strip()
    listing = _cli(database_url, "keys", "list")
    assert listing.returncode == 0 and key not in listing.stdout
    [line] = [line for line in listing.stdout.splitlines() if "\ttill\t" in line]
    key_id = line.split("\t")[0]
    assert line.endswith("live") and f"{key[:10]}…" in line
    revoked = _cli(database_url, "keys", "revoke", key_id)
    assert revoked.returncode == 0, revoked.stderr
    assert app.test_client().get("/api/v1/rewards", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert "revoked" in _cli(database_url, "keys", "list").stdout.splitlines()[-1]
    missing = _cli(database_url, "keys", "revoke", "999999")
    assert missing.returncode != 0 and "no API key 999999" in missing.stderr


def test_no_key_in_the_logs_of_a_request(app, api, caplog):
    caplog.set_level(logging.DEBUG)  # everything any logger says, third-party ones too …
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # … with every statement and its values
    client = app.test_client()
    for role in ("integration", "marketer", "admin"):
        client.get("/api/v1/program", headers=api.headers(role))
    client.get("/api/v1/rewards", headers={"Authorization": "Bearer egk_not-a-real-key-at-all"})
    created = api.post("/keys", {"role": "marketer", "name": "logged?"}, role="admin").get_json()
    client.get("/api/v1/flows", headers={"Authorization": f"Bearer {created['key']}"})
    logged = "\n".join(f"{record.getMessage()} {record.__dict__!r}" for record in caplog.records)
    # The key lookups were logged (by their hash), so the log did see the requests' keys go by.
    assert key_hash(created["key"]) in logged and key_hash(api.keys["admin"]) in logged
    for key in (*api.keys.values(), created["key"], "egk_not-a-real-key-at-all"):
        assert key not in logged and key[4:] not in logged


def test_no_key_in_a_real_servers_output(tmp_path, sqlite_template):
    """gunicorn as in production (the shipped config), its access log on: whatever the app and
    the server write while serving keyed requests holds no key."""
    import tempfile
    import urllib.error
    import urllib.request
    from pathlib import Path

    from bench.harness import ServerSettings, gunicorn
    from tests.support import databases

    url = databases.sqlite_copy(sqlite_template, tmp_path)
    key = _cli(url, "keys", "create", "--role", "admin", "--name", "served").stdout.strip()
    wrong = "egk_" + "x" * 43
    env = {"ENGAGE_DATABASE_URL": url, "GUNICORN_CMD_ARGS": "--access-logfile -"}
    with gunicorn("wsgi:app", env, name="keys-in-logs", probe="/api/openapi.json",
                  settings=ServerSettings(workers=1)) as port:
        for secret, path in ((key, "/api/v1/program"), (wrong, "/api/v1/rewards"), (key, "/api/v1/nothing")):
            request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                             headers={"Authorization": f"Bearer {secret}"})
            try:
                urllib.request.urlopen(request, timeout=30).close()
            except urllib.error.HTTPError as error:
                error.close()
    output = (Path(tempfile.gettempdir()) / f"engage-bench-keys-in-logs-{os.getpid()}.log").read_text()
    assert "GET /api/v1/program" in output and "GET /api/v1/rewards" in output  # the requests were logged
    assert key not in output and key[4:] not in output and wrong[4:] not in output

