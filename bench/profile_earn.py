"""Where a purchase request's time goes: `python -m bench.profile_earn [N]`.

Not a bench (no target): a Flask test-client loop of N purchase requests against a fresh PostgreSQL
database, counting SQL statements per request and printing the top engage/* functions by
cumulative time under cProfile.
"""

from __future__ import annotations

import collections
import cProfile
import io
import json
import pstats
import random
import sys
import uuid

from sqlalchemy import event

from bench.earn import AMOUNT, seed
from bench.harness import fresh_database


def main(requests: int = 500) -> None:
    from engage import create_app
    from engage.config import Config

    url = fresh_database("engage_bench")
    api_key, member_ids = seed(url, 100)
    app = create_app(Config(database_url=url))
    client = app.test_client()
    engine = app.extensions["engage.db"].engine

    statements: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    from engage.db import HotStatement

    # The hot statements run on a kept cursor, out of SQLAlchemy's events: counted and listed here.
    HotStatement.observers.append(lambda sql, _params: statements.append(sql))

    rng = random.Random(1)
    body = json.dumps({"type": "purchase", "amount": AMOUNT})

    def one():
        response = client.post(f"/api/v1/members/{rng.choice(member_ids)}/events", data=body,
                               content_type="application/json",
                               headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": uuid.uuid4().hex})
        assert response.status_code == 201, response.get_data(as_text=True)

    for _ in range(20):  # warm caches (statement compilation, pool)
        one()
    statements.clear()
    one()
    print(f"SQL statements in one purchase request: {len(statements)} (+ BEGIN/COMMIT/ROLLBACK by the driver)")
    for n, statement in enumerate(statements, 1):
        print(f"  {n:2d}. {' '.join(statement.split())[:150]}")

    statements.clear()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        one()
    profiler.disable()
    print(f"\nmean statements/request over {requests}: {len(statements) / requests:.1f}")
    kinds = collections.Counter(s.split()[0].upper() for s in statements)
    print("  by kind:", dict(kinds))

    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    total = stats.total_tt
    print(f"\nprofiled {requests} requests: {total:.2f} s CPU-profiled, {total / requests * 1000:.1f} ms/request")
    stats.sort_stats("cumulative").print_stats(r"engage/(?!.*\.venv)", 10)
    print(out.getvalue())
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    print(out.getvalue())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
