"""The fake provider's HTTP layer: a threaded, keep-alive stdlib server."""

from __future__ import annotations

import socket
import socketserver
import struct
import sys
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol


RESET = object()  # what an app returns to reset the connection instead of answering


class App(Protocol):
    """What the server needs from the fake provider."""

    stopping: threading.Event

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Any:
        """A Reply-like object (status, body, headers), or None to drop the connection."""
        ...


class FakeHandler(BaseHTTPRequestHandler):
    """Hands each request to the app; HTTP/1.1 keep-alive, one write per answer."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in one write anyway; no Nagle keeps small answers prompt.
    disable_nagle_algorithm = True
    server: FakeHTTPServer

    def do_GET(self) -> None:
        """Twilio's Messages list and control calls."""
        self._serve("GET")

    def do_POST(self) -> None:
        """Provider calls and control calls."""
        self._serve("POST")

    def _serve(self, method: str) -> None:
        """Read the body, ask the app, answer (or drop the connection)."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = self.server.app.handle(method, self.path, headers, body)
        if reply is None:  # "drop": close without a word
            self.close_connection = True
            return
        if reply is RESET:  # "reset": the request was read (and taken); the answer never comes
            self.close_connection = True
            # Linger 0 makes close() send RST; closing here skips socketserver's polite FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return
        self._write(reply.status, reply.body, reply.headers)

    def _write(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        """Status line, headers and body in a single send."""
        reason = self.responses.get(status, ("",))[0]
        lines = [f"HTTP/1.1 {status} {reason}", f"Date: {formatdate(usegmt=True)}",
                 "Server: engage-fake-provider", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if self.close_connection:
            lines.append("Connection: close")
        try:
            self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        except OSError:  # the client gave up (its timeout) before we answered
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: a benchmark sends thousands of requests a second."""


class FakeHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that can close its keep-alive connections on stop."""

    daemon_threads = True  # never keep the interpreter alive; server_close still joins
    request_queue_size = 256  # listen backlog for bursts of new connections

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, FakeHandler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's getfqdn(), a reverse DNS lookup that can stall."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Track the connection so stop() can end it."""
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Forget and close a finished connection."""
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Wake handler threads blocked on idle keep-alive connections."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already gone

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up (timeouts, drops, stop) are normal here; others print."""
        if isinstance(sys.exc_info()[1], OSError) or self.app.stopping.is_set():
            return
        super().handle_error(request, client_address)
