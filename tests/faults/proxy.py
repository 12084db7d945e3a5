"""A TCP proxy the test controls, to break a backing service without touching it: frozen (the
sockets stay open and nothing gets through, as with a hung server or a dead link), or down
(connections refused and the open ones cut)."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

POLL_SECONDS = 0.05


class TcpProxy:
    """Forwards 127.0.0.1:<port> to `target` until told otherwise."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._forwarding = threading.Event()
        self._forwarding.set()
        self._down = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.port = 0
        self._accepting = self._listen()

    def _listen(self) -> threading.Thread:
        listener = socket.create_server(("127.0.0.1", self.port))  # SO_REUSEADDR: port again
        listener.settimeout(POLL_SECONDS)
        self.port = listener.getsockname()[1]
        accepting = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        accepting.start()
        return accepting

    def freeze(self) -> None:
        """Stop forwarding: connections (old and new) stay open, and nothing passes either way."""
        self._forwarding.clear()

    def thaw(self) -> None:
        """Forward again, what waited first."""
        self._forwarding.set()

    def down(self) -> None:
        """Refuse connections, and cut the open ones."""
        self._down.set()
        self._accepting.join(timeout=5)
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def up(self) -> None:
        """Accept and forward again, on the same port."""
        self._down.clear()
        self._forwarding.set()
        self._accepting = self._listen()

    def _accept(self, listener: socket.socket) -> None:
        with listener:
            while not self._down.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                try:
                    server = socket.create_connection(self._target, timeout=5)
                except OSError:
                    client.close()
                    continue
                server.settimeout(None)
                with self._lock:
                    self._sockets += [client, server]
                pump = threading.Thread(target=self._pump, args=(client, server), daemon=True)
                pump.start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        peers = {client: server, server: client}
        try:
            while not self._down.is_set():
                if not self._forwarding.wait(POLL_SECONDS):
                    continue
                readable, _, _ = select.select(list(peers), [], [], POLL_SECONDS)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):  # ValueError: select() on a socket down() closed
            return
        finally:
            for sock in peers:
                with contextlib.suppress(OSError):
                    sock.close()


@contextmanager
def tcp_proxy(host: str, port: int) -> Iterator[TcpProxy]:
    """A proxy to host:port, taken down at the end."""
    proxy = TcpProxy((host, port))
    try:
        yield proxy
    finally:
        proxy.down()


def through(url: str, proxy: TcpProxy) -> str:
    """A PostgreSQL or Redis URL with its host and port replaced by the proxy's."""
    scheme, rest = url.split("://", 1)
    credentials, _, location = rest.rpartition("@")
    path = location.split("/", 1)[1] if "/" in location else ""
    userinfo = f"{credentials}@" if credentials else ""
    return f"{scheme}://{userinfo}127.0.0.1:{proxy.port}/{path}"
