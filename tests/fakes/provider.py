"""A fake Twilio + SendGrid HTTP server: records requests, fails on demand.

Run by hand: python -m tests.fakes.provider --port 8025
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes import provider_wire as wire
from tests.fakes.provider_http import FakeHTTPServer

Record = dict[str, Any]


class FakeProvider:
    """Speaks the Twilio Messages API and SendGrid mail send on one local port."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        timeout_delay: float = 5.0,
        max_records: int = 50_000,
    ) -> None:
        self.twilio_account_sid = wire.TWILIO_ACCOUNT_SID
        self.twilio_auth_token = wire.TWILIO_AUTH_TOKEN
        self.sendgrid_api_key = wire.SENDGRID_API_KEY
        # "timeout" mode sleeps this long: make it longer than the client's timeout.
        self.timeout_delay = timeout_delay
        self._lock = threading.Lock()
        self._records: deque[Record] = deque(maxlen=max_records)
        self._failures: dict[str, deque[str]] = {"sms": deque(), "email": deque()}
        self._counts: Counter[str] = Counter()  # survives the record cap
        self.stopping = threading.Event()
        self._server = FakeHTTPServer((host, port), self)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL: Twilio's api_base_url and SendGrid's host alike."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeProvider:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.05}, name="fake-provider")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, end delayed answers and keep-alive connections, close the port."""
        self.stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
        self._server.close_connections()
        self._server.server_close()  # joins handler threads

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def fail_next(self, channel: str, mode: str, count: int = 1) -> None:
        """Make the next `count` requests on `channel` fail with `mode`."""
        wire.check_mode(channel, mode)
        with self._lock:
            self._failures[channel].extend([mode] * count)

    def requests(self, channel: str | None = None) -> list[Record]:
        """Recorded provider requests, oldest first; control calls are not recorded."""
        with self._lock:
            return [dict(r) for r in self._records if channel in (None, r["channel"])]

    def request_count(self, channel: str | None = None) -> int:
        """How many provider requests arrived since the last reset (not capped)."""
        with self._lock:
            return self._counts[channel] if channel else sum(self._counts.values())

    def reset(self) -> None:
        """Forget requests and pending failures."""
        with self._lock:
            self._records.clear()
            self._counts.clear()
            for queue in self._failures.values():
                queue.clear()

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Any:
        """Answer one request: a wire.Reply, or None to drop the connection."""
        url = urlsplit(target)
        if url.path.startswith("/_fake/"):
            return self._control(method, url.path, url.query, body)
        match = wire.TWILIO_MESSAGES.match(url.path)
        if method == "POST" and match:
            return self._twilio(match.group(1), target, headers, body)
        if method == "POST" and url.path == wire.SENDGRID_SEND:
            return self._sendgrid(target, headers, body)
        return wire.Reply.json(404, {"code": 20404, "message": "Not found", "status": 404})

    def _twilio(self, sid: str, target: str, headers: dict[str, str], body: bytes) -> Any:
        """POST /2010-04-01/Accounts/{sid}/Messages.json"""
        form = wire.parse_form(body)
        record = self._record("sms", target, headers, form=form, account_sid=sid)
        credentials = (self.twilio_account_sid, self.twilio_auth_token)
        if sid != self.twilio_account_sid or wire.basic_auth(headers) != credentials:
            return _finish(record, wire.twilio_error(401, 20003, "Authenticate"))
        decided, reply = self._inject(record, "sms", wire.twilio_failure)
        if decided:
            return reply
        invalid = wire.check_twilio_form(form)
        if invalid:
            return _finish(record, invalid)
        message = wire.twilio_message(sid, form)
        record["provider_id"] = message["sid"]
        return _finish(record, wire.Reply.json(201, message))

    def _sendgrid(self, target: str, headers: dict[str, str], body: bytes) -> Any:
        """POST /v3/mail/send"""
        mail = wire.json_body(body)
        record = self._record("email", target, headers, json=mail)
        if headers.get("authorization") != f"Bearer {self.sendgrid_api_key}":
            return _finish(record, wire.sendgrid_failure("401"))
        decided, reply = self._inject(record, "email", wire.sendgrid_failure)
        if decided:
            return reply
        reply = wire.check_sendgrid_mail(mail)
        if reply is None:
            record["provider_id"] = wire.sendgrid_message_id()
            reply = wire.Reply(202, b"", {"X-Message-Id": record["provider_id"]})
        return _finish(record, reply)

    def _inject(self, record: Record, channel: str, failure: Any) -> tuple[bool, Any]:
        """Apply a pending failure: (True, reply or None to drop) when it decides the answer."""
        with self._lock:
            mode = self._failures[channel].popleft() if self._failures[channel] else None
        record["mode"] = mode
        if mode is None:
            return False, None
        if mode == "drop":
            return True, None
        if mode == "timeout" or mode.startswith("slow:"):
            # Then answer normally, like a provider that was merely slow; wait on the
            # stop event so shutting down never waits for a sleeping handler.
            self.stopping.wait(self.timeout_delay if mode == "timeout" else float(mode[5:]))
            return False, None
        return True, _finish(record, failure(mode))

    def _record(self, channel: str, target: str, headers: dict[str, str], **parsed: Any) -> Record:
        """Remember a provider request as parsed."""
        record: Record = {"channel": channel, "method": "POST", "path": target,
                          "headers": headers, "at": time.time(), "status": None,
                          "mode": None, "provider_id": None, **parsed}
        with self._lock:
            self._records.append(record)
            self._counts[channel] += 1
        return record

    def _control(self, method: str, path: str, query: str, body: bytes) -> wire.Reply:
        """/_fake/fail, /_fake/requests[?channel=], /_fake/stats, /_fake/reset"""
        if method == "GET" and path == "/_fake/requests":
            channel = parse_qs(query).get("channel", [None])[0]
            return wire.Reply.json(200, self.requests(channel))
        if method == "GET" and path == "/_fake/stats":
            counts = {name: self.request_count(name) for name in ("sms", "email")}
            return wire.Reply.json(200, counts)
        if method == "POST" and path == "/_fake/reset":
            self.reset()
            return wire.Reply.json(200, {"ok": True})
        if method == "POST" and path == "/_fake/fail":
            spec = wire.json_body(body) or {}
            try:
                self.fail_next(spec.get("channel", ""), str(spec.get("mode")),
                               int(spec.get("count", 1)))
            except (ValueError, TypeError) as exc:
                return wire.Reply.json(400, {"error": str(exc)})
            return wire.Reply.json(200, {"ok": True})
        return wire.Reply.json(404, {"error": f"no control endpoint {method} {path}"})


def _finish(record: Record, reply: wire.Reply) -> wire.Reply:
    """Note the status we answered with."""
    record["status"] = reply.status
    return reply


@contextmanager
def running_fake_provider(port: int = 0, **options: Any) -> Iterator[FakeProvider]:
    """A started FakeProvider, stopped cleanly on exit."""
    with FakeProvider(port=port, **options) as provider:
        yield provider


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted."""
    parser = argparse.ArgumentParser(description="Fake Twilio + SendGrid server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--timeout-delay", type=float, default=5.0)
    args = parser.parse_args(argv)
    with FakeProvider(args.host, args.port, timeout_delay=args.timeout_delay) as provider:
        print(f"Fake provider listening on {provider.url}", flush=True)
        print(f"  TWILIO_ACCOUNT_SID={provider.twilio_account_sid} "
              f"TWILIO_AUTH_TOKEN={provider.twilio_auth_token}", flush=True)
        print(f"  SENDGRID_API_KEY={provider.sendgrid_api_key}", flush=True)
        done = threading.Event()
        # SIGTERM too: background jobs of a non-interactive shell ignore SIGINT.
        signal.signal(signal.SIGTERM, lambda *_: done.set())
        try:
            done.wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
