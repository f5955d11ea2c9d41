"""A TCP proxy a test controls, to take a server away and bring it back without touching it.

    with TcpProxy(5432) as proxy:            # forwards 127.0.0.1:<proxy.port> to 127.0.0.1:5432
        url = postgres_url_through(proxy)
        proxy.refuse()                        # open connections cut, new ones reset at once
        proxy.restore()                       # forwarding again
        proxy.hang()                          # new connections accepted, never answered

The shared PostgreSQL server is never stopped: only the path to it. `cut()` alone is a restart
seen from the client (every open connection dies, new ones succeed).
"""

from __future__ import annotations

import socket
import struct
import threading


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._refusing = False
        self._hanging = False
        self._held: list[socket.socket] = []  # hung connections, closed with the proxy
        self.accepted = 0  # connections taken while forwarding (tests count reconnects with it)
        self._thread = threading.Thread(target=self._accept_loop, name="tcp-proxy", daemon=True)

    def __enter__(self) -> TcpProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def refuse(self) -> None:
        """Cut every open connection and reset new ones: the server is down."""
        with self._lock:
            self._refusing = True
        self.cut()

    def hang(self) -> None:
        """Accept new connections and never answer: a server (or network) that drops packets."""
        with self._lock:
            self._hanging = True

    def restore(self) -> None:
        """Forward new connections again: the server is back."""
        with self._lock:
            self._refusing = self._hanging = False

    def cut(self) -> None:
        """Reset every open connection (both ends), as a server restart does."""
        with self._lock:
            sockets, self._open = self._open, set()
        for sock in sockets:
            _reset(sock)

    def close(self) -> None:
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes accept(); close() alone would not
        except OSError:
            pass
        self._listener.close()
        self.cut()
        for held in self._held:
            _reset(held)
        self._thread.join(5)

    def _accept_loop(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            with self._lock:
                refusing, hanging = self._refusing, self._hanging
                if hanging:
                    self._held.append(client)
            if refusing:
                _reset(client)
                continue
            if hanging:
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
                self.accepted += 1
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True,
                                 name="tcp-proxy-pump").start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            with self._lock:
                self._open.discard(sock)
            _reset(sock)


def _reset(sock: socket.socket) -> None:
    """Close with RST (linger 0): the peer's next read fails at once, as when a server dies.
    shutdown() first wakes our own pump thread blocked in recv() on it (close() would not)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def url_through(url: str, proxy: TcpProxy) -> str:
    """The database URL `url` with its host and port replaced by the proxy's."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
