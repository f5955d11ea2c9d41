"""Every error is JSON with a human-readable `message`; 422 adds per-field `errors`."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError

from engage import state
from engage.errors import EngageError
from engage.observability.outages import RETRY_AFTER_SECONDS, unavailable_reason, unseen_by_pool

log = logging.getLogger(__name__)


def _flatten(messages: dict) -> dict:
    """webargs nests errors by location ({"json": {...}}); integrators want the fields."""
    flat: dict = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            flat.update(fields)
        else:
            flat[location] = fields
    return flat


def _summary(errors: dict) -> str:
    parts = []
    for field, problems in errors.items():
        text = problems[0] if isinstance(problems, list) and problems else problems
        parts.append(f"{field}: {text}")
    return "invalid input: " + "; ".join(str(p) for p in parts) if parts else "invalid input"


def error_body(error: HTTPException):
    data = getattr(error, "data", None) or {}
    body: dict = {"message": error.description or error.name}
    if "messages" in data:
        body["errors"] = _flatten(data["messages"])
        body["message"] = _summary(body["errors"])
    elif "message" in data:
        body["message"] = data["message"]
    response = jsonify(body)
    response.status_code = error.code or 500
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    if getattr(error, "valid_methods", None):  # a 405 says what the URL does take (RFC 9110)
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(EngageError)
    def _domain_error(error: EngageError):
        body = {"message": error.message}
        if error.errors:
            body["errors"] = error.errors
        response = jsonify(body)
        response.status_code = error.status
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return error_body(error)
        reason = unavailable_reason(error)
        if reason is not None:
            return database_unavailable(error, reason)
        log.exception("unhandled error")
        return error_body(InternalServerError("internal error; it has been logged"))


def database_unavailable(error: Exception, reason: str):
    """503 with Retry-After for any route while the database is unreachable or restarting (the
    providers retry webhooks on 5xx too); one warning line, no traceback: there is no bug to see."""
    # The route, not the path: an unsubscribe link's token is as good as the member's consent.
    route = request.url_rule.rule if request.url_rule is not None else request.path
    log.warning("%s %s answered 503: database unavailable: %s", request.method, route, reason)
    state.drop_connections(forget_pool=unseen_by_pool(error))
    response = jsonify({"message": "the database is unavailable (restarting or unreachable); "
                                   f"try again in {RETRY_AFTER_SECONDS} seconds"})
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
