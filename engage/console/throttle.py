"""Sign-in attempts per key (an IP address, an email) in a sliding window, counted where every
process of the deployment sees them: in Redis with ENGAGE_REDIS_URL, else in the database
(engage.services.sign_in_attempts). A per-process count would let each worker (and each restart)
grant the limit again."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from engage import state
from engage.services import sign_in_attempts


class Throttle:
    """At most a given number of attempts per key in any `window_seconds`; `now` is passed in."""

    def __init__(self, window_seconds: float = 60.0):
        self.window = timedelta(seconds=window_seconds)

    def retry_after(self, limits: dict[str, int], now: datetime) -> int:
        """Seconds until every key is under its limit ({key: limit}), counting this attempt
        against each key only if all may go ahead now (0)."""
        return sign_in_attempts.retry_after(state.session(), limits, self.window, now)


class RedisThrottle(Throttle):
    """The same window in Redis: a sorted set of attempt times per hashed key."""

    def __init__(self, url: str, window_seconds: float = 60.0):
        import redis

        super().__init__(window_seconds)
        self.redis = redis.Redis.from_url(url)

    def retry_after(self, limits: dict[str, int], now: datetime) -> int:
        import redis

        try:
            return self._in_redis(limits, now)
        except redis.RedisError:  # Redis down: the database counts until it is back
            return super().retry_after(limits, now)

    def _in_redis(self, limits: dict[str, int], now: datetime) -> int:
        at, seconds = now.timestamp(), self.window.total_seconds()
        keys = {f"engage:sign-in:{sign_in_attempts.key_hash(key)}": limit for key, limit in limits.items()}
        with self.redis.pipeline() as pipe:
            for key in keys:
                pipe.zremrangebyscore(key, "-inf", at - seconds)
                pipe.zcard(key)
                pipe.zrange(key, 0, 0, withscores=True)
            answers = pipe.execute()
        windows = {}
        for n, key in enumerate(keys):
            count, oldest = answers[3 * n + 1], answers[3 * n + 2]
            if count:
                windows[key] = (count, datetime.fromtimestamp(oldest[0][1], now.tzinfo))
        wait = sign_in_attempts.wait_seconds(windows, keys, self.window, now)
        if not wait:
            with self.redis.pipeline() as pipe:
                for key in keys:
                    pipe.zadd(key, {f"{at}:{secrets.token_hex(8)}": at})  # one member per attempt
                    pipe.expire(key, int(seconds) + 1)
                pipe.execute()
        return wait
