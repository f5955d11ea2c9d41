"""When each API key was last used: written at most once a minute per key and process (a write per
request would cost more than the cached check), shown by GET /api/v1/keys and `engage keys list`."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select

from engage.models import ApiKey


def last_used(db, key_id: int):
    with db.session() as session:
        return session.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key_id))


def test_last_use_is_written_at_most_once_a_minute(app, api, db, clock):
    created = api.post("/keys", {"role": "integration", "name": "till"}, role="admin").get_json()
    assert created["last_used_at"] is None
    client, headers = app.test_client(), {"Authorization": f"Bearer {created['key']}"}
    first = clock()
    assert client.get("/api/v1/rewards", headers=headers).status_code == 200
    assert last_used(db, created["id"]) == first
    clock.advance(seconds=59)
    assert client.get("/api/v1/rewards", headers=headers).status_code == 200
    assert last_used(db, created["id"]) == first  # within the minute: no write
    later = clock.advance(seconds=1)
    assert client.get("/api/v1/tiers", headers=headers).status_code == 200
    assert last_used(db, created["id"]) == later
    [listed] = [key for key in api.get("/keys", role="admin").get_json()["items"] if key["id"] == created["id"]]
    assert listed["last_used_at"] == later.isoformat()


def test_a_refused_key_records_no_use(app, api, db):
    created = api.post("/keys", {"role": "integration", "name": "pos"}, role="admin").get_json()
    assert api.delete(f"/keys/{created['id']}", role="admin").status_code == 204
    assert app.test_client().get("/api/v1/rewards", headers={"Authorization": f"Bearer {created['key']}"}
                                 ).status_code == 401
    assert last_used(db, created["id"]) is None


def test_cli_lists_when_each_key_was_last_used(database_url, app, api, clock):
    created = api.post("/keys", {"role": "integration", "name": "till"}, role="admin").get_json()
    env = {**os.environ, "ENGAGE_DATABASE_URL": database_url}
    command = [sys.executable, "-c", "from engage.cli import main; main()", "keys", "list"]
    listing = lambda: subprocess.run(command, capture_output=True, text=True, env=env,  # noqa: E731
                                     timeout=60, check=True).stdout
    [line] = [line for line in listing().splitlines() if "\ttill\t" in line]
    assert line.endswith("\tnever used\tlive")
    app.test_client().get("/api/v1/rewards", headers={"Authorization": f"Bearer {created['key']}"})
    [line] = [line for line in listing().splitlines() if "\ttill\t" in line]
    assert line.endswith(f"\tused {clock():%Y-%m-%d %H:%M}\tlive")
