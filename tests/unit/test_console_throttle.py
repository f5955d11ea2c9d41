"""The sign-in throttle's window rule: how long to wait, from each key's attempts in the window and
the oldest of them (the counting itself is in the database or Redis: tests/integration/test_console.py)."""

from datetime import datetime, timedelta, timezone

from engage.services.sign_in_attempts import key_hash, wait_seconds

START = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
WINDOW = timedelta(seconds=60)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def test_under_the_limit_goes_ahead():
    assert wait_seconds({}, {"ip:a": 5}, WINDOW, at(0)) == 0
    assert wait_seconds({"ip:a": (4, at(0))}, {"ip:a": 5}, WINDOW, at(10)) == 0


def test_at_the_limit_waits_until_the_oldest_leaves_the_window():
    assert wait_seconds({"ip:a": (5, at(0))}, {"ip:a": 5}, WINDOW, at(10)) == 50
    assert wait_seconds({"ip:a": (5, at(0))}, {"ip:a": 5}, WINDOW, at(59.5)) == 1  # never 0 while spent


def test_the_longest_wait_of_any_spent_key_counts():
    windows = {"ip:c": (3, at(1)), "email:x": (2, at(0)), "email:y": (1, at(5))}
    limits = {"ip:c": 3, "email:x": 2, "email:y": 2}
    assert wait_seconds(windows, limits, WINDOW, at(6)) == 55


def test_keys_are_stored_hashed():
    assert key_hash("email:ana@example.com") != "email:ana@example.com"
    assert "example" not in key_hash("email:ana@example.com")
    assert key_hash("ip:a") == key_hash("ip:a")
