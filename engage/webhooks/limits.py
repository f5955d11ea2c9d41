"""Rate limits on inbound SMS (POST /webhooks/twilio/sms), with Flask-Limiter.

Two limits, each a setting:

- per client IP (ENGAGE_INBOUND_SMS_PER_IP, default 300/minute), checked *before* the signature,
  so a flood of unsigned or forged requests is turned away without touching the database.
  Over it: 429 with Retry-After. We cannot know yet that the caller is Twilio, and a 429 is
  the honest answer to anyone else. Twilio calls from a pool of addresses, but one of them may
  carry a burst: keep the limit above the program's busiest minute of inbound SMS.
- per sending number (ENGAGE_INBOUND_SMS_PER_NUMBER, default 10/minute), checked *after* the
  signature on the signed form's `From`: an unsigned flood naming a member's number cannot use
  up that member's budget. Over it: an empty TwiML `<Response/>` with 200, and nothing stored.
  The caller is Twilio, not the member, and a 429 would only hurt: Twilio never retries a 4xx;
  it logs each one as error 11200 (debugger, alerts) and calls the number's fallback URL, if
  one is set, which would take the same flood there. A 200 with nothing to say ends it quietly.
  Opt-out keywords (STOP and its synonyms) are never limited: opt-out is sacred, and
  repeating it changes nothing.

Counts live in memory per process by default; with ENGAGE_REDIS_URL they live in Redis and are
shared by every process. If Redis stops answering, each process counts in its own memory until
it is back (and an SMS is never refused because Redis is down). Behind a reverse proxy set
ENGAGE_TRUSTED_PROXIES to the number of proxies that append to X-Forwarded-For, or every
request counts against the proxy's own address.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import time

from flask import Flask, Response, current_app, jsonify, request
from flask_limiter import Limiter, RateLimitExceeded

from engage.config import Config
from engage.messaging.keywords import classify

log = logging.getLogger(__name__)


def _per_ip() -> None:
    """Flask-Limiter counts a call of its decorated function; the two limits need two."""


def _per_number() -> None:
    """See _per_ip."""


def _sender_key() -> str:
    # A digest, so Redis keys hold no phone number.
    return "from:" + hashlib.sha256(request.form.get("From", "").encode()).hexdigest()[:32]


class InboundSmsLimits:
    """The limits of one app; `inbound_sms_limits()` finds them during a request."""

    def __init__(self, app: Flask, config: Config):
        self.trusted_proxies = config.trusted_proxies
        self.limiter = Limiter(
            self.client_ip, app=app, storage_uri=config.redis_url or "memory://",
            strategy="moving-window", key_prefix="engage", swallow_errors=True,
            in_memory_fallback_enabled=True)
        _drop_request_hooks(app, self.limiter)
        self._per_ip = self.limiter.limit(config.inbound_sms_per_ip, key_func=self.client_ip)(_per_ip)
        self._per_number = self.limiter.limit(config.inbound_sms_per_number, key_func=_sender_key)(_per_number)

    def client_ip(self) -> str:
        """The caller's address: the one our trusted proxies saw, else the socket's peer."""
        if self.trusted_proxies:
            hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
            hops = [hop for hop in hops if hop]
            if len(hops) >= self.trusted_proxies:
                return hops[-self.trusted_proxies]
        return request.remote_addr or "unknown"

    def refuse_flooding_address(self) -> Response | None:
        """Count this request against its address; a 429 with Retry-After when over the limit."""
        try:
            self._per_ip()
        except RateLimitExceeded as exceeded:
            log.warning("inbound SMS refused: over ENGAGE_INBOUND_SMS_PER_IP (%s)", exceeded.limit.limit)
            response = jsonify(message=f"too many requests from this address (limit {exceeded.description})")
            response.status_code = 429
            response.headers["Retry-After"] = str(self._retry_after())
            return response
        return None

    def sender_over_limit(self) -> bool:
        """Count this signed SMS against its sender; True when over the limit (opt-outs never are)."""
        if classify(request.form.get("Body", "")).kind == "opt_out":
            return False
        try:
            self._per_number()
        except RateLimitExceeded as exceeded:
            log.warning("inbound SMS dropped: its sender is over ENGAGE_INBOUND_SMS_PER_NUMBER (%s)",
                        exceeded.limit.limit)
            return True
        return False

    def _retry_after(self) -> int:
        current = self.limiter.current_limit
        return max(1, math.ceil(current.reset_at - time.time())) if current else 60  # whole seconds


def _drop_request_hooks(app: Flask, limiter: Limiter) -> None:
    """Flask-Limiter hooks every request of the app to look for route and default limits. We
    have none: both limits are checked by hand in the one view. The hooks would cost every API
    request about 45 µs for nothing, so they go (their per-request state lives on the request
    context, which goes with the request)."""
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    [headers] = [hook for hook in app.after_request_funcs[None]
                 if isinstance(hook, functools.partial) and hook.args == (limiter,)]
    app.after_request_funcs[None].remove(headers)
    app.teardown_request_funcs[None].remove(limiter._Limiter__release_context)


def init_app(app: Flask, config: Config) -> None:
    app.extensions["engage.inbound_sms_limits"] = InboundSmsLimits(app, config)


def inbound_sms_limits() -> InboundSmsLimits:
    return current_app.extensions["engage.inbound_sms_limits"]
