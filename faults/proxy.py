"""A TCP proxy between Engage and PostgreSQL that can play a server restart.

The shared PostgreSQL server is never restarted (other test runs use it). A restart, as Engage
sees it, is every connection dropped at once and new ones refused for a while; `restart()` does
exactly that to the connections going through this proxy.
"""

from __future__ import annotations

import socket
import threading


class Proxy:
    def __init__(self, upstream: tuple[str, int], port: int = 0):
        self.upstream = upstream
        self._lock = threading.Lock()
        self._pairs: set[socket.socket] = set()
        self._listener = self._listen(port)
        self.port = self._listener.getsockname()[1]
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True, name="pg-proxy")
        self._thread.start()

    @staticmethod
    def _listen(port: int) -> socket.socket:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
        return listener

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            with self._lock:
                listener = self._listener
            if listener is None:
                self._stopped.wait(0.05)
                continue
            try:
                client, _ = listener.accept()
            except OSError:  # closed by restart(): new connections are refused meanwhile
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._pairs.update((client, server))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                self._close(end)

    def _close(self, end: socket.socket) -> None:
        with self._lock:
            self._pairs.discard(end)
        try:
            end.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        end.close()

    def restart(self, down_seconds: float) -> None:
        """Drop every connection, refuse new ones for `down_seconds`, then accept again."""
        with self._lock:
            listener, self._listener = self._listener, None
            pairs = list(self._pairs)
        listener.close()
        for end in pairs:
            self._close(end)
        self._stopped.wait(down_seconds)
        with self._lock:
            self._listener = self._listen(self.port)

    def close(self) -> None:
        self._stopped.set()
        with self._lock:
            listener, self._listener = self._listener, None
            pairs = list(self._pairs)
        if listener is not None:
            listener.close()
        for end in pairs:
            self._close(end)
