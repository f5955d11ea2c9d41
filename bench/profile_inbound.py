"""Where an inbound SMS webhook's time goes: `python -m bench.profile_inbound [N]`.

Not a bench (no target): a Flask test-client loop of N signed POST /webhooks/twilio/sms (the
bench's body mix) against a fresh PostgreSQL database, listing the SQL statements of one request
of each body, the mean per request, and the top functions under cProfile.
"""

from __future__ import annotations

import collections
import cProfile
import io
import pstats
import random
import statistics
import sys
import time
from urllib.parse import parse_qsl

from sqlalchemy import event

from bench.harness import fresh_database
from bench.inbound import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    BODIES,
    OUR_NUMBER,
    PATH,
    POOL_LOAD,
    PUBLIC_URL,
    seed,
    signed,
)

DATABASE = "engage_bench_inbound_profile"


def main(requests: int = 500) -> None:
    from engage import create_app
    from engage.config import Config

    url = fresh_database(DATABASE)
    phones = seed(url, 100)
    app = create_app(Config(database_url=url, public_url=PUBLIC_URL, twilio_account_sid=ACCOUNT_SID,
                            twilio_auth_token=AUTH_TOKEN, twilio_from_number=OUR_NUMBER,
                            inbound_sms_per_ip="100000000/minute", inbound_sms_per_number="100000000/minute"))
    client = app.test_client()
    engine = app.extensions["engage.db"].engine

    statements: list[str] = []
    timings: dict[str, list[float]] = collections.defaultdict(list)

    @event.listens_for(engine, "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)
        conn.info["bench_started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _time(conn, cursor, statement, parameters, context, executemany):
        timings[" ".join(statement.split())[:70]].append(time.perf_counter() - conn.info.pop("bench_started"))

    with engine.connect() as connection:  # the floor: one round trip
        for _ in range(50):
            connection.exec_driver_sql("SELECT 1")
        timings.clear()
        for _ in range(500):
            connection.exec_driver_sql("SELECT 1")
        floor = statistics.mean(timings["SELECT 1"]) * 1000
    print(f"SELECT 1 round trip: {floor:.2f} ms mean")

    from engage.db import HotStatement

    # The hot statements run on a kept cursor, out of SQLAlchemy's events: counted and listed here.
    HotStatement.observers.append(lambda sql, _params: statements.append(sql))

    rng = random.Random(1)
    seq = iter(range(10**9))

    def one(body: str | None = None):
        data, signature = signed(phones, POOL_LOAD, 9, next(seq), rng, body)
        response = client.post(PATH, data=dict(parse_qsl(data.decode())),
                               headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200, response.get_data(as_text=True)

    for _ in range(40):  # warm caches (statement compilation, pool, templates)
        one()
    for body in BODIES:
        statements.clear()
        one(body)
        print(f"\nSQL statements for {body!r}: {len(statements)} (+ BEGIN/COMMIT by the driver)")
        for n, statement in enumerate(statements, 1):
            print(f"  {n:2d}. {' '.join(statement.split())[:160]}")

    statements.clear()
    timings.clear()
    started = time.perf_counter()
    for _ in range(requests):
        one()
    wall = time.perf_counter() - started
    print(f"\nunprofiled: {requests} requests in {wall:.2f} s = {wall / requests * 1000:.1f} ms/request "
          f"(one thread, test client)")
    print(f"mean statements/request: {len(statements) / requests:.1f}; by kind:",
          dict(collections.Counter(s.split()[0].upper() for s in statements)))
    print("statements by total time (execute + fetch in the driver):")
    total_sql = sum(sum(v) for v in timings.values())
    for text, values in sorted(timings.items(), key=lambda kv: -sum(kv[1]))[:14]:
        print(f"  {len(values) / requests:5.2f}/req  {sum(values) / requests * 1000:5.2f} ms/req  "
              f"{statistics.mean(values) * 1000:5.2f} ms each  {text}")
    print(f"  SQL total {total_sql / requests * 1000:.1f} ms/req of {wall / requests * 1000:.1f} ms/req "
          "(BEGIN/COMMIT not included)")

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        one()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    per_request = stats.total_tt / requests * 1000
    print(f"\nprofiled {requests} requests: {stats.total_tt:.2f} s, {per_request:.1f} ms/request")
    stats.sort_stats("cumulative").print_stats(r"engage/(?!.*\.venv)", 30)
    print(out.getvalue())
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(20)
    print(out.getvalue())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
