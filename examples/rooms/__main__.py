"""Start the rooms API: `python examples/rooms` (from the repository root; see README.md).

Settings are flags or environment variables: ROOMS_AUTHGATE_URL, ROOMS_HOST, ROOMS_PORT,
ROOMS_JWT_VERIFICATION (jwks, hmac or remote), ROOMS_JWT_HMAC_KEY, ROOMS_CACHE_SECONDS.
With --with-authgate it also starts authgate itself (`authgate serve`, on a scratch SQLite
database unless AUTHGATE_DATABASE_URL says otherwise) and stops it on exit.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import uvicorn
from rooms_api import create_app

from authgate.client import AsyncAuthgateClient, Guard, GuardOptions


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="rooms", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--authgate-url", default=env("ROOMS_AUTHGATE_URL", "http://127.0.0.1:8000")
    )
    parser.add_argument("--host", default=env("ROOMS_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("ROOMS_PORT", "8001")))
    parser.add_argument(
        "--jwt-verification",
        choices=("jwks", "hmac", "remote"),
        default=env("ROOMS_JWT_VERIFICATION", "jwks"),
    )
    parser.add_argument("--jwt-hmac-key", default=env("ROOMS_JWT_HMAC_KEY"))
    parser.add_argument(
        "--cache-seconds", type=float, default=float(env("ROOMS_CACHE_SECONDS", "5"))
    )
    parser.add_argument(
        "--with-authgate", action="store_true", help="also start authgate at --authgate-url"
    )
    return parser.parse_args(argv)


@contextmanager
def _authgate(url: str) -> Iterator[None]:
    """authgate serving at `url` for as long as the block runs (a child process)."""
    address = urlsplit(url)
    with tempfile.TemporaryDirectory(prefix="rooms-authgate-") as scratch:
        env = {
            "AUTHGATE_DATABASE_URL": f"sqlite:///{Path(scratch) / 'authgate.sqlite3'}",
            "AUTHGATE_SECRET_KEY": secrets.token_urlsafe(48),
            **os.environ,
        }
        command = [sys.executable, "-m", "authgate", "serve"]
        command += ["--host", address.hostname or "127.0.0.1", "--port", str(address.port or 80)]
        child = subprocess.Popen(command, env=env)  # noqa: S603 our own interpreter and module
        try:
            yield
        finally:
            child.terminate()
            child.wait(timeout=10)


def main(argv: list[str] | None = None) -> None:
    """Serve the rooms API until interrupted."""
    args = _arguments(argv)
    options = GuardOptions(
        jwt_verification=args.jwt_verification,
        hmac_key=args.jwt_hmac_key,
        cache_seconds=args.cache_seconds,
    )
    guard = Guard(AsyncAuthgateClient(args.authgate_url), options)
    app = create_app(guard)
    if args.with_authgate:
        with _authgate(args.authgate_url):
            uvicorn.run(app, host=args.host, port=args.port)
    else:
        uvicorn.run(app, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
