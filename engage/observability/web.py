"""The operators' endpoints (/healthz, /readyz, /metrics: no API key) and what every request
carries: a request id (X-Request-ID, taken from the caller or made here, returned on the answer
and on every log line) and its count and duration in the metrics."""

from __future__ import annotations

import re
import time
import uuid

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from prometheus_client import CollectorRegistry

from engage.observability import logs, metrics, readiness
from engage.observability.collector import DatabaseCollector
from engage.observability.outages import RETRY_AFTER_SECONDS

blp = Blueprint("observability", __name__)

# A caller's id is kept when it is short and plain (it lands in log lines); otherwise we make one.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
_WEBHOOK_PREFIXES = ("/webhooks/", "/unsubscribe/")
_QUIET_PATHS = ("/healthz", "/readyz", "/metrics")  # probes: not counted as traffic


@blp.get("/healthz")
def healthz():
    """The process is up and answering. Touches no database."""
    return {"status": "ok"}


@blp.get("/readyz")
def readyz():
    """Ready for traffic: database reachable, schema at head, a scheduler leader known."""
    results = readiness.checks(current_app.extensions["engage.db"])
    ready = all(check["ok"] for check in results.values())
    failing = "; ".join(f"{name}: {check['detail']}" for name, check in results.items() if not check["ok"])
    response = jsonify({"status": "ready" if ready else "not ready", "checks": results,
                        "message": f"not ready: {failing}" if failing else "ready"})
    if not ready:
        response.status_code = 503
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@blp.get("/metrics")
def prometheus_metrics():
    """Prometheus text exposition: this app's processes and the database's counts."""
    return Response(metrics.exposition(current_app.extensions["engage.metrics_registry"]),
                    content_type=metrics.CONTENT_TYPE)


def _start_request() -> None:
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    g.request_token = logs.request_id.set(g.request_id)
    g.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id is not None:
        response.headers["X-Request-ID"] = request_id
    if request.path not in _QUIET_PATHS:
        _count(response.status_code)
    return response


def _count(status: int) -> None:
    route = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
    metrics.HTTP_REQUESTS.labels(request.method, route, str(status)).inc()
    if (started := g.get("request_started")) is not None:
        metrics.HTTP_SECONDS.labels(route).observe(time.perf_counter() - started)
    if request.path.startswith(_WEBHOOK_PREFIXES):
        metrics.WEBHOOKS.labels(route, metrics.webhook_outcome(status)).inc()
    if status == 503:
        metrics.DATABASE_UNAVAILABLE.inc()


def _end_request(_error=None) -> None:
    token = g.pop("request_token", None)
    if token is not None:
        try:
            logs.request_id.reset(token)
        except ValueError:  # torn down in another context than it was set in
            logs.request_id.set(None)


def init_app(app: Flask) -> None:
    """Register the endpoints, the request id and request metrics on `app`."""
    registry = CollectorRegistry()
    collector = app.extensions["engage.metrics_collector"] = DatabaseCollector(
        app.extensions["engage.db"], app.extensions["engage.clock"])
    registry.register(collector)
    app.extensions["engage.metrics_registry"] = registry
    app.register_blueprint(blp)
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.teardown_request(_end_request)
