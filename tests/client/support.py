"""Helpers of the client tests: authgate served on a chosen or free loopback port (restarted on
the same port for a key rotation; tests/support.serve_app serves the guarded test apps, and
tests/support.rsa_key_files writes keys), and a port that accepts connections but never
answers."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

from authgate.app import create_app
from authgate.settings import Settings
from tests.support import CHEAP_ARGON2, serve_app

PASSWORD = "Correct-Horse-9"


@contextmanager
def authgate_on(settings: Settings, port: int = 0) -> Iterator[str]:
    """authgate itself (create_app) served on `port`."""
    with serve_app(create_app(settings, argon2=CHEAP_ARGON2), port) as url:
        yield url


@contextmanager
def silent_port() -> Iterator[str]:
    """A base URL whose port accepts TCP connections (the kernel's backlog) and never answers:
    a hung authgate. A fake, because a real authgate cannot be made to hang on demand."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def closed_port_url() -> str:
    """A base URL nobody listens on: authgate down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"
