"""Real `authgate serve` processes for the fault tests: started, loaded, and broken."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support import free_port

SECRET = "f" * 48
PASSWORD = "Correct-Horse-9"


@dataclass
class Node:
    """One `authgate serve` process."""

    proc: subprocess.Popen[bytes]
    url: str

    def kill(self) -> None:
        """kill -9: no shutdown, no draining."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


def start_node(database_url: str, workdir: Path, workers: int = 1, **settings: str) -> Node:
    """Start `authgate serve` on a free port and wait until it answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    env |= {
        "AUTHGATE_DATABASE_URL": database_url,
        "AUTHGATE_SECRET_KEY": SECRET,
        "AUTHGATE_THROTTLE_ENABLED": "false",
    }
    env |= {f"AUTHGATE_{name.upper()}": value for name, value in settings.items()}
    port = free_port()
    authgate = Path(sys.executable).parent / "authgate"
    log = (workdir / f"node-{port}.log").open("wb")
    proc = subprocess.Popen(
        [str(authgate), "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    node = Node(proc, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(node.url + "/openapi.json", timeout=2)
            return node
        except httpx.TransportError:
            time.sleep(0.1)
    stop(node)
    raise RuntimeError("authgate did not start")


def stop(node: Node) -> None:
    """Stop a node and every worker of it."""
    if node.proc.poll() is None:
        os.killpg(node.proc.pid, signal.SIGTERM)
        try:
            node.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(node.proc.pid, signal.SIGKILL)


@contextmanager
def nodes(database_url: str, workdir: Path, count: int, **settings: str) -> Iterator[list[Node]]:
    """`count` nodes over one database, stopped at the end."""
    started = [start_node(database_url, workdir, 1, **settings) for _ in range(count)]
    try:
        yield started
    finally:
        for node in started:
            stop(node)


@dataclass
class Load:
    """Registrations sent by threads until stopped: which were answered 201, which never got an
    answer (the connection failed), and what else."""

    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    other: dict[str, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, urls: Callable[[], list[str]], threads: int) -> list[threading.Thread]:
        """Start `threads` threads registering users on the given nodes in turn."""
        workers = [
            threading.Thread(target=self._register, args=(urls, n), daemon=True)
            for n in range(threads)
        ]
        for worker in workers:
            worker.start()
        return workers

    def stop(self, workers: list[threading.Thread]) -> None:
        self._stop.set()
        for worker in workers:
            worker.join(timeout=60)

    def _register(self, urls: Callable[[], list[str]], thread: int) -> None:
        count = 0
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set():
                targets = urls()
                url = targets[count % len(targets)]
                username = f"load{thread}x{count}"
                count += 1
                try:
                    response = client.post(
                        url + "/auth/users/", json={"username": username, "password": PASSWORD}
                    )
                except httpx.TransportError as error:
                    self._note(type(error).__name__)
                    with self._lock:
                        self.dropped.append(username)
                    continue
                if response.status_code == 201:
                    with self._lock:
                        self.created.append(username)
                else:
                    self._note(str(response.status_code))

    def _note(self, outcome: str) -> None:
        with self._lock:
            self.other[outcome] = self.other.get(outcome, 0) + 1
