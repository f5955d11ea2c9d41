"""Where a dispatched message's time goes: `python -m bench.profile_dispatch [N] [BATCH]`.

Not a bench (no target): one dispatcher thread drains N queued SMS (fresh PostgreSQL database,
fake provider in its own process), counting SQL statements per message and printing the top
functions under cProfile, plus the CPU time per message in this process.
"""

from __future__ import annotations

import collections
import cProfile
import io
import os
import pstats
import sys
import time

from sqlalchemy import event

from bench.dispatch import (
    DATABASE,
    FROM_NUMBER,
    PUBLIC_URL,
    fake_provider,
    queue_messages,
    seed_members,
)
from bench.harness import fresh_database


def main(messages: int = 3000) -> None:
    for name in ("TWILIO_EDGE", "TWILIO_REGION"):
        os.environ.pop(name, None)
    os.environ.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    from engage import create_app
    from engage.config import Config
    from engage.db import HotStatement
    from engage.dispatcher import Dispatcher
    from tests.fakes import provider_wire as wire

    url = fresh_database(DATABASE)
    seed_members(url, 1000)
    with fake_provider() as fake_url:
        config = Config(database_url=url, public_url=PUBLIC_URL, twilio_account_sid=wire.TWILIO_ACCOUNT_SID,
                        twilio_auth_token=wire.TWILIO_AUTH_TOKEN, twilio_from_number=FROM_NUMBER,
                        twilio_api_base_url=fake_url, send_rate_per_second=1e9)
        app = create_app(config)
        ext = app.extensions
        dispatcher = Dispatcher(ext["engage.db"], ext["engage.channels"], config, ext["engage.clock"])
        statements: list[str] = []

        @event.listens_for(ext["engage.db"].engine, "before_cursor_execute")
        def _count(conn, cursor, statement, parameters, context, executemany):
            statements.append(("MANY " if executemany else "") + statement)

        HotStatement.observers.append(lambda sql, _params: statements.append(sql))

        queue_messages(url, 2 * dispatcher.batch_size)
        dispatcher.drain()  # warm caches (statement compilation, prepared statements, pool, keep-alive)
        queue_messages(url, 2 * dispatcher.batch_size)
        statements.clear()
        dispatcher.drain()
        print(f"SQL statements for two claimed batches ({2 * dispatcher.batch_size} messages), "
              f"+ BEGIN/COMMIT by the driver in each transaction but the hand-offs run alone:")
        for statement, n in collections.Counter(" ".join(s.split())[:140] for s in statements).most_common():
            print(f"  {n:4d} x {statement}")

        queue_messages(url, messages)
        statements.clear()
        profiler = cProfile.Profile()
        cpu, wall = time.process_time(), time.perf_counter()
        profiler.enable()
        dispatcher.drain()
        profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(f"\n{messages} messages, 1 thread: {wall:.2f} s wall ({messages / wall:.0f} msg/s), "
              f"{cpu / messages * 1e6:.0f} us CPU/message in the dispatcher (profiled), "
              f"{len(statements) / messages:.2f} SQL statements/message")
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        print("own time by package (profiled, us/message):")
        for package, seconds in _by_package(stats).most_common(12):
            print(f"  {seconds / messages * 1e6:7.0f}  {package}")
        stats.sort_stats("cumulative").print_stats(35)
        print(out.getvalue())
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        print(out.getvalue())


def _by_package(stats: pstats.Stats) -> collections.Counter:
    """Own (tottime) seconds per top-level package: engage, twilio, requests, sqlalchemy..."""
    totals: collections.Counter = collections.Counter()
    for (filename, _line, function), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        if "site-packages/" in filename:
            package = filename.split("site-packages/", 1)[1].split("/", 1)[0]
        elif "/engage/" in filename:
            package = "engage." + filename.split("/engage/", 1)[1].split("/", 1)[0]
        elif filename == "~":
            package = f"builtin {function}" if "socket" in function or "select" in function else "builtins"
        else:
            package = "stdlib " + filename.rsplit("/", 1)[-1]
        totals[package] += tottime
    return totals


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
