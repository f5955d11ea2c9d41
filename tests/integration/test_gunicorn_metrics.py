"""/metrics under gunicorn with the shipped gunicorn.conf.py: every worker's counts add up
(prometheus-client multiprocess mode), whichever worker answers the scrape, and a worker that
dies keeps what it counted."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from tests.integration.test_metrics import samples
from tests.support.databases import sqlite_copy

ROUTE_401 = ("engage_http_requests_total", (("method", "GET"), ("route", "/api/v1/tiers"), ("status", "401")))


def _get(port: int, path: str) -> tuple[int, str]:
    try:  # a new connection each time: SO_REUSEPORT spreads them over the workers
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _per_worker(directory: Path, tmp_path: Path) -> dict[str, float]:
    """What each worker's own file says (read one file at a time with prometheus-client)."""
    counts = {}
    for file in directory.glob("counter_*.db"):
        alone = tmp_path / f"alone-{file.stem}"
        alone.mkdir(parents=True)
        shutil.copy(file, alone / file.name)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))
        counts[file.stem.split("_")[1]] = sum(
            s.value for family in registry.collect() for s in family.samples
            if (s.name, tuple(sorted(s.labels.items()))) == ROUTE_401)
    return counts


@pytest.mark.slow
def test_every_worker_counts_and_a_dead_worker_keeps_its_counts(sqlite_template, tmp_path):
    """(One database is enough: what is tested is gunicorn's processes, not the database.)"""
    from bench.harness import ServerSettings, gunicorn

    database_url = sqlite_copy(sqlite_template, tmp_path)
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = {"ENGAGE_DATABASE_URL": database_url, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    with gunicorn("wsgi:app", env, name="metrics-test", probe="/healthz",
                  settings=ServerSettings(workers=2)) as port:
        assert {_get(port, "/api/v1/tiers")[0] for _ in range(40)} == {401}
        scraped = [samples(_get(port, "/metrics")[1]).get(ROUTE_401) for _ in range(6)]
        assert scraped == [40] * 6
        workers = _per_worker(directory, tmp_path / "before")
        assert sum(workers.values()) == 40 and sum(1 for n in workers.values() if n) == 2, workers

        os.kill(int(max(workers, key=workers.get)), signal.SIGKILL)  # one of the workers we started
        replaced = threading.Event()
        for _ in range(200):  # gunicorn starts another worker; it writes its own file
            if len(list(directory.glob("counter_*.db"))) > len(workers):
                break
            replaced.wait(0.1)
        assert len(list(directory.glob("counter_*.db"))) > len(workers)
        assert {samples(_get(port, "/metrics")[1]).get(ROUTE_401) for _ in range(6)} == {40}
