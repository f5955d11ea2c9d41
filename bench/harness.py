"""Shared bench machinery: a fresh PostgreSQL database, gunicorn servers that are always
stopped (also on Ctrl-C / SIGTERM), and alternating rounds. HTTP load comes from bench.wrk.
"""

from __future__ import annotations

import atexit
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import sqlalchemy as sa

from bench import BenchError

ROOT = Path(__file__).resolve().parent.parent
R = TypeVar("R")  # a round's result: a bench.wrk LoadResult, or bench.inbound's PacedResult
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- database -------------------------------------------------------------------------------

def fresh_database(name: str = "engage_bench") -> str:
    """Drop and create `name` on the bench PostgreSQL server, migrate it; return its URL.

    BENCH_DATABASE names another database, so that benches run side by side (several checkouts on
    one server) do not drop each other's."""
    name = os.environ.get("BENCH_DATABASE") or name
    from engage import migrate
    from engage.db import make_engine

    admin = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as connection:
            connection.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                       "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        raise BenchError(f"PostgreSQL at {PG_SERVER} is not usable: {str(error).splitlines()[0]}") from None
    finally:
        admin.dispose()
    url = PG_SERVER.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    return url


def create_table(url: str, name: str, columns: str) -> None:
    """(Re)create a bare baseline's own table: `CREATE TABLE name (columns)`."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))
        connection.execute(sa.text(f"CREATE TABLE {name} ({columns})"))
    engine.dispose()


# --- servers --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ServerSettings:
    """Every server, ours and the bare baselines, runs with the project's gunicorn.conf.py (the
    production settings: a listening socket per worker) plus these flags."""

    workers: int = 2
    worker_class: str = "gthread"
    threads: int = 4


_LIVE: set[subprocess.Popen] = set()
# port -> the process session of the gunicorn serving it (bench.cpu measures its CPU)
SESSIONS: dict[int, int] = {}


def _stop(proc: subprocess.Popen) -> None:
    """Stop a gunicorn we started (its own session/process group: master and its workers)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    _LIVE.discard(proc)


def _stop_all() -> None:
    for proc in list(_LIVE):
        _stop(proc)


def _sigterm(_signum, _frame):
    raise SystemExit(143)  # unwinds through the `finally` blocks that stop servers


atexit.register(_stop_all)
if threading.current_thread() is threading.main_thread():
    signal.signal(signal.SIGTERM, _sigterm)


@contextmanager
def reserved_port() -> Iterator[int]:
    """A free port held until gunicorn has stopped, so nothing else takes it before gunicorn binds.

    gunicorn.conf.py has each worker bind the port itself (SO_REUSEPORT), so gunicorn cannot bind
    port 0 and report one port. This socket binds with SO_REUSEPORT (which admits those workers,
    same user) and without SO_REUSEADDR (which would admit anyone's server beside a socket that
    does not listen). It never listens, so it takes no connections.
    """
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextmanager
def gunicorn(app: str, env: dict[str, str], *, name: str, probe: str,
             settings: ServerSettings = ServerSettings()) -> Iterator[int]:
    """Run `gunicorn app` from the project root with `env` added; yield its port once it answers."""
    with reserved_port() as port:
        log_path = Path(tempfile.gettempdir()) / f"engage-bench-{name}-{os.getpid()}.log"
        command = [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"),
                   "-w", str(settings.workers), "-k", settings.worker_class, "--threads", str(settings.threads),
                   "--bind", f"127.0.0.1:{port}", "--log-level", "warning", app]
        with open(log_path, "wb") as log_file:
            proc = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=log_file,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        _LIVE.add(proc)
        try:
            _wait_until_answering(proc, port, probe, log_path)
            _wait_until_every_worker_listens(proc, port, settings.workers, log_path)
            SESSIONS[port] = proc.pid  # started with start_new_session: its pid is the session id
            yield port
        finally:
            SESSIONS.pop(port, None)
            _stop(proc)
        if proc.returncode not in (0, -signal.SIGTERM):
            log(f"{name}: gunicorn exited with {proc.returncode}; log {log_path}")


def _wait_until_answering(proc: subprocess.Popen, port: int, probe: str, log_path: Path,
                          timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"gunicorn exited with {proc.returncode} at start-up:\n{_tail(log_path)}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", probe)
            if connection.getresponse().status < 500:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.1)
    raise BenchError(f"gunicorn did not answer on port {port} within {timeout:.0f} s:\n{_tail(log_path)}")


def listening_sockets(port: int) -> int | None:
    """LISTEN sockets on 127.0.0.1:port, from Linux's socket table (None elsewhere)."""
    table = Path("/proc/net/tcp")
    if not table.exists():
        return None
    local = f"0100007F:{port:04X}"
    rows = [line.split() for line in table.read_text().splitlines()[1:]]
    return sum(1 for row in rows if row[1] == local and row[3] == "0A")


def _wait_until_every_worker_listens(proc: subprocess.Popen, port: int, workers: int, log_path: Path,
                                    timeout: float = 30.0) -> None:
    """With a socket per worker (gunicorn.conf.py), a connection made before the last worker
    booted can only go to the ones already listening, and a kept-alive connection stays there.
    Not checked where there is no Linux socket table."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listening = listening_sockets(port)
        if listening is None or listening >= workers:
            return
        if proc.poll() is not None:
            raise BenchError(f"gunicorn exited with {proc.returncode} at start-up:\n{_tail(log_path)}")
        time.sleep(0.1)
    raise BenchError(f"not all {workers} gunicorn workers listen on port {port} after {timeout:.0f} s:\n"
                     f"{_tail(log_path)}")


def alternate(rounds: int, label: str, baseline: Callable[[int], R], ours: Callable[[int], R], *,
              figure: Callable[[R], str] = lambda run: f"{run.rps:.0f}",
              unit: str = "req/s") -> tuple[list[R], list[R]]:
    """Run baseline(r) then ours(r) for rounds r = 1..rounds; (baseline runs, our runs).

    Callers compare the best run of each side: other load on a shared machine only ever slows
    a run down, and alternating lets it hit both sides alike. Each round's `figure` is logged.
    """
    baseline_runs, our_runs = [], []
    for r in range(1, rounds + 1):
        baseline_runs.append(baseline(r))
        our_runs.append(ours(r))
    log(f"{label}: rounds (baseline / ours {unit}): " + ", ".join(
        f"{figure(b)}/{figure(o)}" for b, o in zip(baseline_runs, our_runs)))
    return baseline_runs, our_runs
