"""Helpers of the client tests: any ASGI app served by uvicorn on a chosen or free loopback port
(authgate restarted on the same port for a key rotation, the guarded test apps), RSA key files,
and a port that accepts connections but never answers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.types import ASGIApp

from authgate.app import create_app
from authgate.settings import Settings

PASSWORD = "Correct-Horse-9"


@contextmanager
def serving(app: ASGIApp, port: int = 0) -> Iterator[str]:
    """Serve `app` with uvicorn in a thread on `port` (0: a free one); yields the base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def authgate_on(settings: Settings, port: int = 0) -> Iterator[str]:
    """authgate itself (create_app) served on `port`."""
    with serving(create_app(settings), port) as url:
        yield url


def rsa_key_files(directory: Path, name: str) -> tuple[rsa.RSAPrivateKey, Path, Path]:
    """A new RSA key as <name>.pem (private, PKCS#8) and <name>.pub.pem, as authgate reads
    them (AUTHGATE_JWT_PRIVATE_KEY_FILE, AUTHGATE_JWT_RETIRED_PUBLIC_KEY_FILES)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = directory / f"{name}.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = directory / f"{name}.pub.pem"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return key, private, public


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
