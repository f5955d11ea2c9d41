"""The HTTP client the Twilio SDK sends through: requests' connection pool, without the per-call
work a provider call's answer does not need.

The SDK accepts any `twilio.http.HttpClient` (`Client(http_client=...)`). Its default
TwilioHttpClient builds a `requests.Request`, prepares it through the Session (merging the
session's defaults, re-reading the proxy environment, runtime Protocol checks on every header
and form mapping), keeps a copy of each request for its tests, formats log lines before the
logger decides to drop them, and after the answer extracts cookies and looks for redirects it
will not follow. On a dispatcher thread that is several hundred µs of CPU per message
(bench/RESULTS.md). Here the request is prepared by hand and handed to the same HTTPAdapter, so
the connection pool, TLS verification, timeouts and requests' exceptions (which
twilio_sms.classify_requests_failure sorts into refused and ambiguous) are those of requests;
what is settled once per host (proxies and CA bundle from the environment, the Basic
credentials) is worked out once.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any
from urllib.parse import urlencode, urlsplit

from requests import PreparedRequest
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

JSON_TYPES = ("application/json", "application/scim+json")


class PooledHttpClient(TwilioHttpClient):
    """A TwilioHttpClient with `pool_size` keep-alive connections per host and a lean request."""

    def __init__(self, timeout: float, pool_size: int) -> None:
        super().__init__(timeout=timeout)
        assert self.session is not None  # pool_connections defaults to True
        # Requests' default pool keeps 10 connections per host; dispatcher threads beyond that
        # would each open a fresh TCP (and TLS) connection per message.
        for prefix in ("https://", "http://"):
            self.session.mount(prefix, HTTPAdapter(pool_maxsize=pool_size))
        self._per_origin: dict[str, dict[str, Any]] = {}  # "scheme://host" -> adapter.send settings
        self._basic: dict[tuple[str, str], str] = {}

    def request(self, method: str, url: str, params: dict[str, object] | None = None,
                data: dict[str, object] | None = None, headers: dict[str, str] | None = None,
                auth: tuple[str, str] | None = None, timeout: float | None = None,
                allow_redirects: bool = False) -> Response:
        """What TwilioHttpClient.request answers, for the calls the SDK makes (no redirects)."""
        if allow_redirects or self.session is None:
            return super().request(method, url, params, data, headers, auth, timeout, allow_redirects)
        if timeout is None:
            timeout = self.timeout
        elif timeout <= 0:
            raise ValueError(timeout)
        if self.logger.isEnabledFor(logging.INFO):  # the SDK's own request log, only when asked for
            self.log_request({"method": method.upper(), "url": url, "params": params, "headers": headers})
        prepared = self._prepare(method, url, params, data, headers, auth)
        session = self.session
        settings = self._per_origin.get(_origin(prepared.url))
        if settings is None:
            settings = session.merge_environment_settings(prepared.url, self.proxy, None, None, None)
            self._per_origin[_origin(prepared.url)] = settings
        adapter = session.get_adapter(prepared.url)
        answer = adapter.send(prepared, timeout=timeout, **settings)
        text = answer.text  # reads the whole body (stream=False), as Session.send does
        if self.logger.isEnabledFor(logging.INFO):
            self.log_response(answer.status_code, answer)
        response = Response(int(answer.status_code), text, answer.headers)
        self._test_only_last_response = response
        return response

    def _prepare(self, method: str, url: str, params: dict[str, object] | None,
                 data: dict[str, object] | None, headers: dict[str, str] | None,
                 auth: tuple[str, str] | None) -> PreparedRequest:
        """The PreparedRequest requests would build from these arguments and the session's default
        headers (the SDK sets its own User-Agent, Accept and Content-Type)."""
        prepared = PreparedRequest()
        prepared.method = method.upper()
        prepared.hooks = {"response": []}
        prepared.prepare_url(url, _pairs(params) if params else None)
        merged = CaseInsensitiveDict(self.session.headers)  # type: ignore[union-attr]
        merged.update(headers or {})
        body = _body(data, merged.get("Content-Type"))
        if body is not None:
            merged["Content-Length"] = str(len(body))
            if "Content-Type" not in merged:
                merged["Content-Type"] = "application/x-www-form-urlencoded"
        elif prepared.method not in ("GET", "HEAD"):
            merged["Content-Length"] = "0"
        if auth is not None:
            merged["Authorization"] = self._authorization(auth)
        prepared.headers = merged
        prepared.body = body
        return prepared

    def _authorization(self, auth: tuple[str, str]) -> str:
        value = self._basic.get(auth)
        if value is None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode("latin-1")).decode("ascii")
            value = self._basic[auth] = f"Basic {token}"
        return value


def _origin(url: str | None) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}"


def _pairs(values: dict[str, object]) -> list[tuple[str, object]]:
    """Key/value pairs as requests encodes them: a list value repeats its key, None is left out."""
    pairs: list[tuple[str, object]] = []
    for key, value in values.items():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if item is not None:
                pairs.append((key, item))
    return pairs


def _body(data: dict[str, object] | None, content_type: str | None) -> bytes | None:
    """The form (or JSON) body the SDK asked for, encoded once."""
    if data is None:
        return None
    if content_type in JSON_TYPES:
        return json.dumps(data).encode("utf-8")
    if not data:
        return None
    return urlencode(_pairs(data)).encode("ascii")
