"""A fake Twilio + SendGrid HTTP server: records requests, fails on demand.

Run by hand: python -m tests.fakes.provider --port 8025
"""

from __future__ import annotations

import argparse
import random
import signal
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes import provider_wire as wire
from tests.fakes.provider_http import RESET, FakeHTTPServer

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
        self._failures: dict[str, deque[str]] = {"sms": deque(), "email": deque(), "sms_list": deque()}
        # A share of all calls failing with modes drawn at random: {channel: (fraction, modes)}.
        self._chaos: dict[str, tuple[float, list[str]]] = {}
        self._rng = random.Random()
        self._counts: Counter[str] = Counter()  # survives the record cap
        # Every message taken (answered or not): what the Messages list shows, what tests count.
        self._sms: list[dict[str, Any]] = []
        self._mails: list[Record] = []
        self._events_cursor = 0
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

    def fail_fraction(self, channel: str, fraction: float, modes: list[str], seed: int | None = None) -> None:
        """Fail `fraction` of the calls on `channel` from now on, each with one of `modes`."""
        for mode in modes:
            wire.check_mode(channel, mode)
        if not 0 <= fraction <= 1 or (fraction and not modes):
            raise ValueError("fraction must be within 0..1, with at least one mode")
        with self._lock:
            self._chaos[channel] = (fraction, list(modes))
            if seed is not None:
                self._rng.seed(seed)

    def accepted(self, channel: str | None = None) -> list[Record]:
        """Every message taken, oldest first: channel, provider_id, to and our message id
        (the SMS StatusCallback's message_id, the email's engage_message_id custom arg)."""
        with self._lock:
            sms = [{"channel": "sms", "provider_id": m["sid"], "to": m["to"], "body": m["body"],
                    "message_id": m["_message_id"]} for m in self._sms]
            email = [dict(m) for m in self._mails]
        return [r for r in sms + email if channel in (None, r["channel"])]

    def sendgrid_events(self, event: str = "processed", *, new_only: bool = False) -> list[Record]:
        """Event Webhook events for the mails taken (custom_args echoed); `new_only`: those not
        asked for before."""
        with self._lock:
            start = self._events_cursor if new_only else 0
            mails = self._mails[start:]
            self._events_cursor = len(self._mails)
        return [wire.sendgrid_event(m["mail"], m["provider_id"], event) for m in mails]

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
            self._chaos.clear()
            self._sms.clear()
            self._mails.clear()
            self._events_cursor = 0
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
        if method == "GET" and match:
            return self._twilio_list(match.group(1), url.query, headers)
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
        callback = parse_qs(urlsplit(str(form.get("StatusCallback") or "")).query)
        with self._lock:
            self._sms.append({**message, "_message_id": (callback.get("message_id") or [None])[0]})
        if record["mode"] == "reset":
            return _finish(record, RESET)
        public = {k: v for k, v in message.items() if k != "date_sent_iso"}
        return _finish(record, wire.Reply.json(201, public))

    def _twilio_list(self, sid: str, query: str, headers: dict[str, str]) -> Any:
        """GET /2010-04-01/Accounts/{sid}/Messages.json: To, From, DateSent filters, newest first."""
        if sid != self.twilio_account_sid or wire.basic_auth(headers) != (self.twilio_account_sid,
                                                                           self.twilio_auth_token):
            return wire.twilio_error(401, 20003, "Authenticate")
        mode = self._next_failure("sms_list")
        if mode:
            return wire.twilio_failure(mode)
        params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        keep = wire.twilio_list_filter(params)
        with self._lock:
            found = [{k: v for k, v in m.items() if not k.startswith("_")} for m in reversed(self._sms) if keep(m)]
        return wire.twilio_list_page(sid, found, params)

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
            args = mail.get("custom_args") or {}
            to = ((mail.get("personalizations") or [{}])[0].get("to") or [{}])[0].get("email")
            with self._lock:
                self._mails.append({"channel": "email", "provider_id": record["provider_id"], "to": to,
                                    "message_id": args.get("engage_message_id"), "mail": mail})
            if record["mode"] == "reset":
                return _finish(record, RESET)
            reply = wire.Reply(202, b"", {"X-Message-Id": record["provider_id"]})
        return _finish(record, reply)

    def _next_failure(self, channel: str) -> str | None:
        """The failure for this call: one queued by fail_next, else perhaps one by fail_fraction."""
        with self._lock:
            if self._failures[channel]:
                return self._failures[channel].popleft()
            fraction, modes = self._chaos.get(channel, (0.0, []))
            return self._rng.choice(modes) if fraction and self._rng.random() < fraction else None

    def _inject(self, record: Record, channel: str, failure: Any) -> tuple[bool, Any]:
        """Apply a pending failure: (True, reply or None to drop) when it decides the answer.

        "reset" does not decide it: the message is taken, then the caller resets the connection.
        """
        mode = self._next_failure(channel)
        record["mode"] = mode
        if mode is None or mode == "reset":
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
        """/_fake/fail, /_fake/chaos, /_fake/requests[?channel=], /_fake/accepted[?channel=],
        /_fake/sendgrid/events[?event=&new=1], /_fake/stats, /_fake/reset"""
        if method == "GET" and path == "/_fake/accepted":
            channel = parse_qs(query).get("channel", [None])[0]
            return wire.Reply.json(200, self.accepted(channel))
        if method == "GET" and path == "/_fake/sendgrid/events":
            params = parse_qs(query)
            events = self.sendgrid_events(params.get("event", ["processed"])[0],
                                          new_only=params.get("new", ["0"])[0] == "1")
            return wire.Reply.json(200, events)
        if method == "POST" and path == "/_fake/chaos":
            spec = wire.json_body(body) or {}
            try:
                self.fail_fraction(str(spec.get("channel")), float(spec.get("fraction", 0)),
                                   list(spec.get("modes") or []), spec.get("seed"))
            except (ValueError, TypeError) as exc:
                return wire.Reply.json(400, {"error": str(exc)})
            return wire.Reply.json(200, {"ok": True})
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


def _finish(record: Record, reply: Any) -> Any:
    """Note the status we answered with ("reset" when we reset the connection instead)."""
    record["status"] = "reset" if reply is RESET else reply.status
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
