"""CPU time spent by a server while it answered a measured run: Linux's /proc counters.

Requests per second swing with whatever else the shared machine runs; the CPU a request costs
does not (much), so the earn bench also reports the microseconds of CPU per request of each
side: its gunicorn (master and workers: the process session it was started in) and the
PostgreSQL backends connected to the bench's database. Both servers of a bench share the
database, but only the one under load does any work during its round.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass
class Spent:
    """CPU seconds of one measured run (None where /proc is missing)."""

    server: float | None = None
    database: float | None = None

    def per_request(self, requests: int) -> tuple[float | None, float | None]:
        """(server, database) microseconds per request."""
        if not requests:
            return None, None
        return tuple(None if s is None else s / requests * 1e6 for s in (self.server, self.database))


def _stat(pid: str) -> tuple[int, float] | None:
    """(session id, user + system CPU seconds) of a process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) "; comm may hold spaces
    return int(fields[3]), (int(fields[11]) + int(fields[12])) / _TICK


def _backend_of(pid: str, database: str) -> bool:
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    # "postgres: 15/main: user database host(port) state"
    return title.startswith("postgres:") and f" {database} " in title


def _sample(session: int, database: str | None) -> tuple[float, float]:
    server = backends = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        stat = _stat(pid)
        if stat is None:
            continue
        if stat[0] == session:
            server += stat[1]
        elif database and _backend_of(pid, database):
            backends += stat[1]
    return server, backends


@contextmanager
def spent(session: int | None, database: str | None) -> Iterator[Spent]:
    """Measure the CPU of the gunicorn started in process session `session` and of the backends
    of `database` over the block; the yielded Spent is filled in at its end."""
    result = Spent()
    if session is None or not Path("/proc/self/stat").exists():
        yield result
        return
    server, backends = _sample(session, database)
    yield result
    server_after, backends_after = _sample(session, database)
    result.server = server_after - server
    result.database = backends_after - backends if database else None
