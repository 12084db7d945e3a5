"""Helpers of the client tests: authgate served on a chosen or free loopback port (restarted on
the same port for a key rotation; tests/support.serve_app serves the guarded test apps), RSA
key files, and a port that accepts connections but never answers."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from authgate.app import create_app
from authgate.settings import Settings
from tests.support import serve_app

PASSWORD = "Correct-Horse-9"


@contextmanager
def authgate_on(settings: Settings, port: int = 0) -> Iterator[str]:
    """authgate itself (create_app) served on `port`."""
    with serve_app(create_app(settings), port) as url:
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
