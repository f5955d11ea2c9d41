"""The sign-in throttle: a sliding window per key, with the clock passed in."""

from datetime import datetime, timedelta, timezone

from engage.console.throttle import Throttle

START = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def test_the_sixth_attempt_in_a_minute_waits_until_the_first_leaves_the_window():
    throttle = Throttle(limit=5, window_seconds=60)
    assert [throttle.retry_after(["ip:a"], at(n)) for n in range(5)] == [0] * 5
    assert throttle.retry_after(["ip:a"], at(10)) == 50
    assert throttle.retry_after(["ip:a"], at(60)) == 0  # the attempt at 0 s has left the window


def test_any_key_over_its_limit_refuses_and_a_refusal_is_not_counted():
    throttle = Throttle(limit=2, window_seconds=60)
    throttle.retry_after(["ip:a", "email:x"], at(0))
    throttle.retry_after(["ip:b", "email:x"], at(1))
    assert throttle.retry_after(["ip:c", "email:x"], at(2)) == 58  # the email is spent, from any address
    assert throttle.retry_after(["ip:c", "email:y"], at(3)) == 0  # ip:c's refused try did not count
    assert throttle.retry_after(["ip:c", "email:y"], at(4)) == 0


def test_memory_stays_bounded():
    throttle = Throttle(limit=1, window_seconds=60, max_keys=10)
    for n in range(100):
        throttle.retry_after([f"ip:{n}"], at(0))
    assert len(throttle.attempts) <= 11
