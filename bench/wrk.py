"""HTTP load from wrk (C, Debian's `wrk`): closed-loop throughput with keep-alive connections.

A Python load client on 2 shared cores eats the CPU the server needs and presses every ratio
toward 1; wrk drives the same load for a few percent of one core. Every request is built here in
Python beforehand (unique Idempotency-Keys, signed Twilio webhooks, ...) and written raw, one
file per wrk thread; `_SCRIPT` hands them out in order. Each run needs requests of its own, so
a pool that runs out is an error (a replayed request costs the server less than a new one).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager as ContextManager
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from bench import BenchError
from bench.harness import log

# One raw request per item, NUL-separated (no request holds a NUL). `done` sums every thread's
# wrap-arounds, which only the main Lua state can read, through the threads kept by `setup`.
_SCRIPT = r"""
local threads, counter = {}, 0
function setup(thread)
  thread:set("id", counter); counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  local f = assert(io.open(args[1] .. "/" .. id .. ".req", "rb"))
  local data = f:read("*a"); f:close()
  reqs = {}
  for r in string.gmatch(data, "([^%z]+)%z") do reqs[#reqs + 1] = r end
  i, wrapped = 0, 0
end
function request()
  i = i + 1
  if i > #reqs then i, wrapped = 1, wrapped + 1 end
  return reqs[i]
end
function done(summary, latency, requests)
  local wrapped = 0
  for _, t in ipairs(threads) do wrapped = wrapped + t:get("wrapped") end
  io.write(string.format('WRK {"requests": %d, "duration_us": %d, "status_errors": %d, "connect": %d, '
    .. '"read": %d, "write": %d, "timeout": %d, "p50_us": %d, "p99_us": %d, "wrapped": %d}\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, latency:percentile(50), latency:percentile(99), wrapped))
end
"""

# (method, path, body, headers) -> one request; bodies are bytes.
Request = tuple[str, str, bytes, dict[str, str]]


@dataclass(frozen=True)
class LoadSettings:
    """wrk threads x connections per thread, warm-up and measured seconds (each its own wrk run)."""

    threads: int = 2
    connections: int = 8
    warmup: float = 2.0
    duration: float = 8.0
    max_error_rate: float = 0.01
    most_per_second: int = 4000  # requests built per second of a run: more than any server here answers

    @classmethod
    def from_env(cls) -> LoadSettings:
        get = os.environ.get
        return cls(threads=int(get("BENCH_WRK_THREADS", 2)), connections=int(get("BENCH_CONNECTIONS", 8)),
                   warmup=float(get("BENCH_WARMUP", 2)), duration=float(get("BENCH_DURATION", 8)))

    def requests_for(self, seconds: float) -> int:
        """How many requests one run of `seconds` may need, per wrk thread."""
        return int(self.most_per_second * seconds / self.threads) + 1


@dataclass
class LoadResult:
    ok: int = 0
    errors: int = 0
    duration: float = 0.0
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")

    @property
    def rps(self) -> float:
        return self.ok / self.duration if self.duration else 0.0

    @property
    def error_rate(self) -> float:
        total = self.ok + self.errors
        return self.errors / total if total else 1.0

    def summary(self) -> str:
        return (f"{self.rps:.0f} req/s ({self.ok} ok, {self.errors} errors in {self.duration:.1f} s; "
                f"p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms)")


def raw(request: Request) -> bytes:
    """The request as HTTP/1.1 bytes on a kept-alive connection."""
    method, path, body, headers = request
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}",
             *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if not found:
        raise BenchError("wrk is not installed: apt-get install wrk (the HTTP load generator of the benches)")
    return found


def run_load(port: int, make: Callable[[int], Iterable[Request]], settings: LoadSettings, *,
             label: str, around: Callable[[], ContextManager] = nullcontext) -> LoadResult:
    """A warm-up run, then the measured run, of wrk against 127.0.0.1:port.

    `make(n)` gives n new requests each time it is called (every request is sent at most once).
    `around()` is entered for the measured run only (e.g. bench.cpu.spent).
    Raises BenchError when more than settings.max_error_rate of the measured requests failed or
    a pool ran out.
    """
    log(f"{label}: wrk, {settings.threads} threads x {settings.connections // settings.threads} "
        f"connections, {settings.warmup:.0f} s warm-up + {settings.duration:.0f} s measured")
    if settings.warmup > 0:
        _run(port, make, settings, settings.warmup, label=f"{label} (warm-up)")
    with around():
        result = _run(port, make, settings, settings.duration, label=label)
    log(f"{label}: {result.summary()}")
    if result.ok + result.errors == 0 or result.error_rate > settings.max_error_rate:
        raise BenchError(f"{label}: {result.errors} of {result.ok + result.errors} requests failed "
                         f"({result.error_rate:.1%} > {settings.max_error_rate:.0%})")
    return result


def _run(port: int, make: Callable[[int], Iterable[Request]], settings: LoadSettings, seconds: float, *,
         label: str) -> LoadResult:
    per_thread = settings.requests_for(seconds)
    with tempfile.TemporaryDirectory(prefix="engage-wrk-") as directory:
        for thread in range(settings.threads):
            with open(Path(directory) / f"{thread}.req", "wb") as pool:
                for request in make(per_thread):
                    pool.write(raw(request) + b"\0")
        script = Path(directory) / "requests.lua"
        script.write_text(_SCRIPT)
        command = [wrk_binary(), f"-t{settings.threads}", f"-c{settings.connections}", f"-d{max(1, round(seconds))}s",
                   "--timeout", "30s", "-s", str(script), f"http://127.0.0.1:{port}/", "--", directory]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    line = next((line for line in done.stdout.splitlines() if line.startswith("WRK ")), None)
    if done.returncode or line is None:
        raise BenchError(f"{label}: wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout[-500:]}")
    figures = json.loads(line[4:])
    if figures["wrapped"]:
        raise BenchError(f"{label}: wrk used up {per_thread} requests per thread; raise "
                         "LoadSettings.most_per_second")
    errors = figures["status_errors"] + sum(figures[kind] for kind in ("connect", "read", "write", "timeout"))
    return LoadResult(ok=figures["requests"] - figures["status_errors"], errors=errors,
                      duration=figures["duration_us"] / 1e6, p50_ms=figures["p50_us"] / 1000,
                      p99_ms=figures["p99_us"] / 1000)


def fastest(runs: list[LoadResult]) -> LoadResult:
    """The best round: other load on a shared machine only ever slows a run down."""
    return max(runs, key=lambda run: run.rps)
