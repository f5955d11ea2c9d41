"""The sign-in throttle: a sliding window per key, with the clock passed in."""

from datetime import datetime, timedelta, timezone

from engage.console.throttle import Throttle

START = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def test_the_sixth_attempt_in_a_minute_waits_until_the_first_leaves_the_window():
    throttle = Throttle(window_seconds=60)
    assert [throttle.retry_after({"ip:a": 5}, at(n)) for n in range(5)] == [0] * 5
    assert throttle.retry_after({"ip:a": 5}, at(10)) == 50
    assert throttle.retry_after({"ip:a": 5}, at(60)) == 0  # the attempt at 0 s has left the window


def test_any_key_over_its_limit_refuses_and_a_refusal_is_not_counted():
    throttle = Throttle(window_seconds=60)
    throttle.retry_after({"ip:a": 3, "email:x": 2}, at(0))
    throttle.retry_after({"ip:b": 3, "email:x": 2}, at(1))
    assert throttle.retry_after({"ip:c": 3, "email:x": 2}, at(2)) == 58  # the email is spent, from any address
    assert throttle.retry_after({"ip:c": 3, "email:y": 2}, at(3)) == 0  # ip:c's refused try did not count
    assert throttle.retry_after({"ip:c": 3, "email:z": 2}, at(4)) == 0
    assert throttle.retry_after({"ip:c": 3, "email:w": 2}, at(5)) == 0
    assert throttle.retry_after({"ip:c": 3, "email:v": 2}, at(6)) == 57  # the address's 3 are spent


def test_memory_stays_bounded():
    throttle = Throttle(window_seconds=60, max_keys=10)
    for n in range(100):
        throttle.retry_after({f"ip:{n}": 1}, at(0))
    assert len(throttle.attempts) <= 11
