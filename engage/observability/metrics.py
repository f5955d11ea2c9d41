"""Prometheus metrics counted in the process (requests, webhooks, provider calls), and the text
exposition that joins them with the database-derived ones (engage.observability.collector).

Under gunicorn, PROMETHEUS_MULTIPROC_DIR (set by gunicorn.conf.py) makes prometheus-client keep
these values in files shared by the worker processes, so any worker's /metrics reports them all.
"""

from __future__ import annotations

import os

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    start_http_server,
)
from prometheus_client.multiprocess import MultiProcessCollector

# prometheus-client adds a `_created` series (a start timestamp) beside every counter and
# histogram; in the classic text format they are just more series for Prometheus to store.
disable_created_metrics()

HTTP_REQUESTS = Counter(
    "engage_http_requests", "Web requests answered, by route and status code",
    ["method", "route", "status"])
HTTP_SECONDS = Histogram(
    "engage_http_request_duration_seconds", "Time to answer a web request, by route",
    ["route"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
WEBHOOKS = Counter(
    "engage_webhook_requests", "Provider webhooks and unsubscribe links, by endpoint and outcome "
    "(accepted, forbidden, rejected, limited, unavailable, error)", ["endpoint", "outcome"])
DATABASE_UNAVAILABLE = Counter(
    "engage_database_unavailable_responses", "Requests answered 503 because the database was unavailable")
PROVIDER_SECONDS = Histogram(
    "engage_provider_request_duration_seconds", "Time a provider took to take (or refuse) a message",
    ["channel", "outcome"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30))
PROVIDER_ERRORS = Counter(
    "engage_provider_errors", "Provider calls that did not hand a message over, by code and kind",
    ["channel", "code", "kind"])

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # what generate_latest writes


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def process_registry() -> CollectorRegistry:
    """The metrics counted in this process, or in all of gunicorn's workers in multiprocess mode."""
    if not multiprocess():
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry


def exposition(*registries: CollectorRegistry) -> bytes:
    """This process's metrics (every worker's under gunicorn), then those of `registries`."""
    return b"".join(generate_latest(registry) for registry in (process_registry(), *registries))


def serve(port: int) -> int:
    """Serve this process's metrics on `port` (0: any free one); returns the port. For engage
    worker: its provider calls are counted there, not in the web's processes."""
    server, _thread = start_http_server(port, registry=process_registry())
    return server.server_address[1]


def webhook_outcome(status: int) -> str:
    if status < 400:
        return "accepted"
    if status in (401, 403):
        return "forbidden"
    if status == 429:
        return "limited"
    if status == 503:
        return "unavailable"
    return "rejected" if status < 500 else "error"
