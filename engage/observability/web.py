"""The operators' endpoints (/healthz, /readyz, /metrics: no API key) and what every request
carries: a request id (X-Request-ID, taken from the caller or made here, returned on the answer
and on every log line) and its count and duration in the metrics."""

from __future__ import annotations

import os
import re
import time

from flask import Blueprint, Flask, Request, Response, current_app, g, jsonify, request
from prometheus_client import CollectorRegistry

from engage.observability import logs, metrics, readiness
from engage.observability.collector import DatabaseCollector
from engage.observability.outages import RETRY_AFTER_SECONDS

blp = Blueprint("observability", __name__)

# A caller's id is kept when it is short and plain (it lands in log lines); otherwise we make one.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
_WEBHOOK_PREFIXES = ("/webhooks/", "/unsubscribe/")
_QUIET_PATHS = ("/healthz", "/readyz", "/metrics")  # probes: not counted as traffic
_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))


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
    request_id = given if given and _REQUEST_ID.fullmatch(given) else os.urandom(16).hex()
    g.observed = (request_id, logs.request_id.set(request_id), time.perf_counter())


def _finish_request(response: Response) -> Response:
    observed = g.get("observed")
    if observed is None:  # a hook registered before ours answered first (a rate limit): still
        _start_request()  # give the answer an id and count it
        observed = g.observed
    response.headers["X-Request-ID"] = observed[0]
    current = request._get_current_object()  # one proxy look-up, not five (every API call)
    if current.path not in _QUIET_PATHS:
        _count(current, response.status_code, time.perf_counter() - observed[2])
    return response


def _count(current: Request, status: int, seconds: float) -> None:
    """Labelled children are looked up once per label set, not per request."""
    route = current.url_rule.rule if current.url_rule is not None else "(unmatched)"
    # Any token is a method to HTTP: made-up ones share a label, or labels would grow without end
    method = current.method if current.method in _METHODS else "other"
    key = (method, route, status)
    counted = _children.get(key)
    if counted is None:
        counted = _children[key] = _children_for(method, route, status)
    for child in counted[:-1]:
        child.inc()
    counted[-1].observe(seconds)


def _children_for(method: str, route: str, status: int) -> tuple:
    children = [metrics.HTTP_REQUESTS.labels(method, route, str(status))]
    if route.startswith(_WEBHOOK_PREFIXES):
        children.append(metrics.WEBHOOKS.labels(route, metrics.webhook_outcome(status)))
    if status == 503:
        children.append(metrics.DATABASE_UNAVAILABLE)
    return (*children, metrics.HTTP_SECONDS.labels(route))


_children: dict[tuple, tuple] = {}


def _end_request(_error=None) -> None:
    observed = g.pop("observed", None)
    if observed is not None:
        token = observed[1]
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
