"""The processes a fault run drives: its database, the fake provider, workers and gunicorn."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from tests.fakes import provider_wire as wire
from tests.support.signing import SendGridSigner

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_SERVER = os.environ.get("FAULTS_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
FROM_NUMBER = "+15005550006"
FROM_EMAIL = "rewards@shop.example"
FAKE_TIMEOUT_DELAY = 1.5  # the fake's "timeout" answers this late; Engage gives up after 1 s
LOGS = Path(tempfile.gettempdir()) / f"engage-faults-{os.getpid()}"


class FaultError(RuntimeError):
    """A process did not start or answer."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise FaultError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


@contextmanager
def database() -> Iterator[str]:
    """A fresh, migrated database engage_faults_<pid>, dropped afterwards."""
    name = f"engage_faults_{os.getpid()}"
    admin = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = PG_SERVER.rsplit("/", 1)[0] + f"/{name}"
    try:
        subprocess.run([str(BIN / "engage"), "db", "upgrade"], cwd=ROOT, check=True, capture_output=True,
                       env={**os.environ, "ENGAGE_DATABASE_URL": url})
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                       "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


class Process:
    """A child process in its own session, logging to a file; kill() is kill -9."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str]):
        LOGS.mkdir(parents=True, exist_ok=True)
        self.name, self.argv, self.env = name, argv, env
        self.log = LOGS / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Process:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        return self

    def kill(self) -> None:
        """kill -9 the whole process group: no goodbye, nothing flushed."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def http_json(url: str, payload: object = None, timeout: float = 10.0) -> object:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


class FakeProvider(Process):
    """tests.fakes.provider in its own process, driven over its /_fake control API."""

    def __init__(self, env: dict[str, str]):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__("fake-provider", [sys.executable, "-m", "tests.fakes.provider", "--port", str(self.port),
                                           "--timeout-delay", str(FAKE_TIMEOUT_DELAY)], env)

    def start(self) -> FakeProvider:
        super().start()
        wait_until(self._answers, 20, "the fake provider")
        return self

    def _answers(self) -> bool:
        try:
            self.control("stats")
            return True
        except OSError:
            return False

    def control(self, name: str, payload: object = None) -> object:
        return http_json(f"{self.url}/_fake/{name}", payload)


def engage_env(database_url: str, fake: FakeProvider, public_url: str, signer: SendGridSigner,
               **extra: str) -> dict:
    """Engage's settings for a run: providers at the fake, short timeouts and settling delays."""
    env = {k: v for k, v in os.environ.items() if k not in ("TWILIO_EDGE", "TWILIO_REGION")}
    env.update(
        NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost", PYTHONUNBUFFERED="1",
        ENGAGE_DATABASE_URL=database_url, ENGAGE_PUBLIC_URL=public_url,
        TWILIO_ACCOUNT_SID=wire.TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN=wire.TWILIO_AUTH_TOKEN,
        TWILIO_FROM_NUMBER=FROM_NUMBER, TWILIO_API_BASE_URL=fake.url,
        SENDGRID_API_KEY=wire.SENDGRID_API_KEY, SENDGRID_FROM_EMAIL=FROM_EMAIL, SENDGRID_API_HOST=fake.url,
        SENDGRID_WEBHOOK_PUBLIC_KEY=signer.public_key,
        ENGAGE_PROVIDER_TIMEOUT_SECONDS="1", ENGAGE_RECONCILE_AFTER_SECONDS="3",
        ENGAGE_RETRY_BASE_SECONDS="0.2", ENGAGE_MAX_ATTEMPTS="40", ENGAGE_SEND_RATE="100000",
        ENGAGE_DISPATCHER_THREADS="2",
    )
    env.update(extra)
    return env


def worker(name: str, env: dict[str, str]) -> Process:
    return Process(name, [str(BIN / "engage"), "worker"], env)


class Gunicorn(Process):
    def __init__(self, env: dict[str, str], port: int):
        self.port = port
        super().__init__("gunicorn", [str(BIN / "gunicorn", ), "wsgi:app", "-b", f"127.0.0.1:{port}",
                                      "-w", "2", "--timeout", "30", "--graceful-timeout", "5"], env)

    def start(self) -> Gunicorn:
        super().start()
        wait_until(self._answers, 30, "gunicorn")
        return self

    def _answers(self) -> bool:
        if self.proc.poll() is not None:
            raise FaultError(f"gunicorn exited at start-up:\n{self.tail()}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/openapi.json", timeout=2).close()
            return True
        except OSError:
            return False
