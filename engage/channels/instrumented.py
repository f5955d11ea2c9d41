"""A channel wrapper that measures every provider call and names the message on its log lines.

It relies only on the port (`send(message) -> SendResult` with `ok`, `error_code`,
`error_kind`); anything else a channel offers passes straight through, so methods added to the
port later keep working on a wrapped channel.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from engage.observability import logs, metrics
from engage.outbox.ports import Channel, OutboundMessage, SendResult

log = logging.getLogger(__name__)


class InstrumentedChannel:
    """Wraps a Channel: provider latency and errors in the metrics, the message id in the logs."""

    def __init__(self, inner: Channel):
        self.__dict__["inner"] = inner  # set directly: __setattr__ forwards to the inner channel

    def send(self, message: OutboundMessage) -> SendResult:
        token = logs.message_id.set(message.id)
        started = time.perf_counter()
        outcome = "exception"
        try:
            result = self.inner.send(message)
            outcome = "ok" if result.ok else "error"
            if not result.ok:
                metrics.PROVIDER_ERRORS.labels(self.inner.name, result.error_code or "none",
                                               result.error_kind or "none").inc()
                log.warning("%s message %s not sent: %s %s", self.inner.name, message.id,
                            result.error_kind, result.error_code)
            return result
        except Exception:
            metrics.PROVIDER_ERRORS.labels(self.inner.name, "exception", "exception").inc()
            raise
        finally:
            elapsed = time.perf_counter() - started
            metrics.PROVIDER_SECONDS.labels(self.inner.name, outcome).observe(elapsed)
            if outcome == "ok":
                log.info("%s message %s sent in %.3fs", self.inner.name, message.id, elapsed)
            logs.message_id.reset(token)

    def __getattr__(self, name: str) -> Any:
        if name == "inner":  # not set yet (a copy being made): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.inner, name, value)

    def __repr__(self) -> str:
        return f"InstrumentedChannel({self.inner!r})"
