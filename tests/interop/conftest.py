"""Fixtures of the interop suite: a live authgate per JWT configuration, and the reference
Django + DRF + SimpleJWT stack (bench/reference) in its own scratch virtualenv.

`authgate` is module-scoped: parametrize it indirectly with a mapping of Settings overrides,
e.g. `{"jwt_algorithm": "ES256", "jwt_audience": "api"}`; an asymmetric algorithm gets a new
key pair of its kind. Expired tokens come from authgate itself: its clock is turned back while
it issues them (`Authgate.expired_pair`), so they are signed with its key and claims."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench.reference.env import (
    find_free_port,
    start_server,
    stop_server,
)
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from authgate.app import create_app
from authgate.settings import Settings
from tests.conftest import TEST_SECRET
from tests.support import CHEAP_ARGON2, ShiftedClock, key_files, serve_app

PASSWORD = "Correct-Horse-9"
ASYMMETRIC_ALGORITHMS = ("RS256", "ES256", "EdDSA")
HTTP_TIMEOUT_S = 30.0


def new_private_key(
    algorithm: str,
) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey:
    """A fresh key of the kind `algorithm` signs with (RSA 2048, P-256, Ed25519)."""
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"no key pair for {algorithm}")


def write_key_pair(directory: Path, algorithm: str) -> tuple[Path, bytes]:
    """A new key for `algorithm` as a PKCS#8 PEM file (AUTHGATE_JWT_PRIVATE_KEY_FILE), and
    the public key's PEM (what a consumer is given, e.g. SimpleJWT's VERIFYING_KEY)."""
    private, public = key_files(directory, algorithm.lower(), new_private_key(algorithm))
    return private, public.read_bytes()


@dataclass(frozen=True)
class JwtPair:
    """What `/auth/jwt/create/` answered for a user."""

    user_id: int
    access: str
    refresh: str


@dataclass(frozen=True)
class Authgate:
    """A live authgate and what a consumer of its tokens is told about it."""

    url: str
    settings: Settings
    public_key_pem: bytes | None
    """The signing key's public half (None with HMAC)."""
    clock: ShiftedClock
    http: httpx.Client
    user_ids: dict[str, int] = field(default_factory=dict)
    """The ids of the users jwt_pair registered, by username."""

    @property
    def algorithm(self) -> str:
        return self.settings.jwt_algorithm

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/.well-known/jwks.json"

    def jwks(self) -> dict[str, Any]:
        """The JWKS document, fetched over HTTP."""
        answer = self.http.get("/.well-known/jwks.json")
        assert answer.status_code == 200, answer.text
        document: dict[str, Any] = answer.json()
        return document

    def jwt_pair(self, username: str) -> JwtPair:
        """Register `username` (once) and log in at `/auth/jwt/create/`."""
        found = self.http.post("/auth/users/", json={"username": username, "password": PASSWORD})
        if found.status_code == 201:
            self.user_ids[username] = found.json()["id"]
        assert username in self.user_ids, found.text
        answer = self.http.post(
            "/auth/jwt/create/", json={"username": username, "password": PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        return JwtPair(self.user_ids[username], body["access"], body["refresh"])

    def expired_pair(self, username: str) -> JwtPair:
        """A pair authgate issued as if an hour ago: the access token has expired (the
        refresh token has not, with the default lifetimes)."""
        self.clock.offset = -timedelta(hours=1)
        try:
            return self.jwt_pair(username)
        finally:
            self.clock.offset = timedelta(0)


def authgate_settings(database: Path, overrides: Mapping[str, Any]) -> Settings:
    """Settings as tests/conftest.py builds them, without the host's AUTHGATE_* variables (a
    module-scoped fixture cannot use the function-scoped monkeypatch)."""
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{database}",
        "secret_key": TEST_SECRET,
        # One server serves the whole module: the tests log in far more than a person would.
        "throttle_enabled": False,
        "lockout_enabled": False,
    }
    with pytest.MonkeyPatch.context() as patch:
        for name in [name for name in os.environ if name.startswith("AUTHGATE_")]:
            patch.delenv(name)
        return Settings(_env_file=None, **(values | dict(overrides)))


@contextmanager
def serve_authgate(
    workdir: Path, template: Path, overrides: Mapping[str, Any] | None = None
) -> Iterator[Authgate]:
    """authgate over a copy of the migrated `template` in `workdir` (one directory per
    server), with `overrides` of its Settings; an asymmetric `jwt_algorithm` without a key file
    gets a new key pair there."""
    overrides = dict(overrides or {})
    public: bytes | None = None
    algorithm = str(overrides.get("jwt_algorithm", "HS256"))
    if algorithm in ASYMMETRIC_ALGORITHMS and "jwt_private_key_file" not in overrides:
        overrides["jwt_private_key_file"], public = write_key_pair(workdir, algorithm)
    database = workdir / "authgate.sqlite3"
    shutil.copy(template, database)
    settings = authgate_settings(database, overrides)
    clock = ShiftedClock()
    with (
        serve_app(create_app(settings, clock=clock, argon2=CHEAP_ARGON2)) as url,
        httpx.Client(base_url=url, timeout=HTTP_TIMEOUT_S) as http,
    ):
        yield Authgate(url, settings, public, clock, http)


@pytest.fixture(scope="module")
def authgate(
    request: pytest.FixtureRequest,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Authgate]:
    """A live authgate for the module (HS256 unless parametrized indirectly with Settings
    overrides)."""
    overrides: Mapping[str, Any] = getattr(request, "param", {})
    workdir = tmp_path_factory.mktemp("interop-authgate")
    with serve_authgate(workdir, sqlite_template, overrides) as server:
        yield server


@contextmanager
def serve_reference(
    python: Path, workdir: Path, template: Path, simple_jwt: Mapping[str, object]
) -> Iterator[httpx.Client]:
    """The reference Django project (gunicorn) over a copy of the migrated `template`, with
    these SIMPLE_JWT settings; yields a client of it. Its SimpleJWT-guarded view is
    `GET /jwt-whoami/`, which answers `{"user_id"}` (JWTStatelessUserAuthentication)."""
    database = workdir / "reference.sqlite3"
    shutil.copy(template, database)
    port = find_free_port()
    env = {"REFERENCE_SIMPLE_JWT_JSON": json.dumps(dict(simple_jwt))}
    process = start_server(python, port=port, db_path=database, env=env)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=HTTP_TIMEOUT_S) as client:
            yield client
    finally:
        stop_server(process)
