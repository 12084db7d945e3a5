"""Key rotation without a hole (issue 12, section 3), with consumers nobody here wrote.

Long-lived consumers of authgate's JWKS, made before the rotation: PyJWT's `PyJWKClient` (as
shipped: a 300 s cache, one forced re-fetch per 30 s for an unknown `kid`), the caches their
users write around jwcrypto, authlib and joserfc (which have no JWKS client), and a stock
Django + DRF + SimpleJWT resource server with `JWK_URL` (in the reference virtualenv; SimpleJWT
uses `PyJWKClient`). authgate is restarted on the same port for each step of the rotation the
docs describe (docs/simplejwt.md, "Rotating the signing key"):

1. publish the next key (AUTHGATE_JWT_NEXT_PUBLIC_KEY_FILES) and restart;
2. wait the consumers' cache age: here each consumer's cache is refilled at once, as the end
   of its lifespan would do (`PyJWKClient.fetch_data()`, the reference's refetch hook), so no
   test waits on the clock;
3. switch: the next key signs, the old one is retired.

Right after the switch, every consumer verifies every new-key token (zero refusals) and the
old-key tokens still. The control switches without step 1: the same consumers, their caches as
fresh, refuse the new-key tokens (the 30-second hole), so the test can fail.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

import httpx
import jwt
import pytest
from authlib.deprecate import AuthlibDeprecationWarning
from bench.reference.env import (
    DEFAULT_VENV_DIR,
    ReferenceUnavailableError,
    ensure_venv,
    find_free_port,
    start_server,
    stop_server,
)
from joserfc import jwt as joserfc_jwt
from joserfc.errors import InvalidKeyIdError as JoserfcMissingKey, JoseError as JoserfcError
from joserfc.jwk import KeySet
from jwcrypto import jwk as jwcrypto_jwk, jwt as jwcrypto_jwt
from jwcrypto.common import JWException, JWKeyNotFound

from authgate.app import create_app
from authgate.settings import Settings
from tests.conftest import TEST_SECRET
from tests.interop.conftest import new_private_key
from tests.support import Api, key_files, serve_app

with warnings.catch_warnings():  # authlib.jose is deprecated for joserfc, and still in use
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.jose import JsonWebKey, JsonWebToken
    from authlib.jose.errors import JoseError as AuthlibError

PASSWORD = "Correct-Horse-9"
NEW_KEY_TOKENS = 5
COOLDOWN_S = 30.0
"""The least time between two fetches forced by an unknown `kid`: PyJWKClient's default, and
what the hand-written caches below keep too (re-fetching on every unknown `kid` would let
anyone with a made-up one drive traffic to the issuer)."""
SIMPLEJWT_ALGORITHM = "RS256"
"""SimpleJWT's ALGORITHM in the one reference server of the module."""


# Keys


def _key_files(directory: Path, name: str, algorithm: str) -> tuple[Path, Path]:
    """A new key for `algorithm` as <name>.pem (private, PKCS#8) and <name>.pub.pem."""
    return key_files(directory, name, new_private_key(algorithm))


def _kid(token: str) -> str:
    kid: str = jwt.get_unverified_header(token)["kid"]
    return kid


# authgate, restarted on one port


@dataclass
class Issuer:
    """authgate on one loopback port across restarts (its consumers' JWKS URL stays put), over
    one SQLite database (users and refresh tokens outlive a restart, as in production)."""

    database: Path
    port: int

    @property
    def jwks_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/.well-known/jwks.json"

    @contextmanager
    def running(
        self,
        algorithm: str,
        private: Path,
        *,
        next_keys: tuple[Path, ...] = (),
        retired: tuple[Path, ...] = (),
    ) -> Iterator[Api]:
        values: dict[str, Any] = {
            "database_url": f"sqlite:///{self.database}",
            "secret_key": TEST_SECRET,
            "throttle_enabled": False,
            "jwt_algorithm": algorithm,
            "jwt_private_key_file": private,
            "jwt_next_public_key_files": next_keys,
            "jwt_retired_public_key_files": retired,
        }
        with pytest.MonkeyPatch.context() as patch:
            for name in list(os.environ):
                if name.startswith("AUTHGATE_"):
                    patch.delenv(name)
            settings = Settings(_env_file=None, **values)
        with serve_app(create_app(settings), port=self.port) as url:
            api = Api(url)
            try:
                yield api
            finally:
                api.http.close()


@pytest.fixture(scope="module")
def issuer(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Issuer:
    database = tmp_path_factory.mktemp("rotation") / "authgate.sqlite3"
    shutil.copy(sqlite_template, database)
    return Issuer(database, find_free_port())


# Consumers


class Consumer(Protocol):
    name: str

    def verify(self, token: str) -> str | None:
        """The token's `user_id` if this consumer accepts it, None if it refuses it."""

    def refetch(self) -> set[str]:
        """Refill the cached JWKS now, as the end of its lifespan does; the `kid`s it holds."""


class PyJwkConsumer:
    """PyJWT's PyJWKClient as shipped: lifespan 300 s, cooldown 30 s."""

    name = "PyJWKClient"

    def __init__(self, url: str, algorithm: str) -> None:
        self.client = jwt.PyJWKClient(url)
        self.algorithm = algorithm

    def verify(self, token: str) -> str | None:
        try:
            key = self.client.get_signing_key_from_jwt(token)
            claims = jwt.decode(token, key, algorithms=[self.algorithm])
        except jwt.PyJWTError:  # PyJWKClientError too: "Unable to find a signing key ..."
            return None
        return str(claims["user_id"])

    def refetch(self) -> set[str]:
        return {key["kid"] for key in self.client.fetch_data()["keys"]}


@dataclass
class Library:
    """How one JOSE library is used against a JWK set: import it, and check a token with it
    (returning `user_id`), raising `missing` for an unknown `kid` and `refused` otherwise."""

    name: str
    import_set: Callable[[dict[str, Any]], Any]
    decode: Callable[[Any, str], str]
    missing: tuple[type[Exception], ...]
    refused: tuple[type[Exception], ...]


def _jwcrypto(algorithm: str) -> Library:
    def decode(keys: Any, token: str) -> str:
        checked = jwcrypto_jwt.JWT(jwt=token, key=keys, algs=[algorithm])  # checks exp too
        return str(json.loads(checked.claims)["user_id"])

    return Library(
        "jwcrypto",
        lambda document: jwcrypto_jwk.JWKSet.from_json(json.dumps(document)),
        decode,
        (JWKeyNotFound,),
        (JWException, ValueError),
    )


def _authlib(algorithm: str) -> Library:
    def decode(keys: Any, token: str) -> str:
        claims = JsonWebToken([algorithm]).decode(token, keys)
        claims.validate()  # exp
        return str(claims["user_id"])

    # authlib.jose says "Key not found" with a plain ValueError.
    return Library("authlib", JsonWebKey.import_key_set, decode, (ValueError,), (AuthlibError,))


def _joserfc(algorithm: str) -> Library:
    def decode(keys: Any, token: str) -> str:
        checked = joserfc_jwt.decode(token, keys, algorithms=[algorithm])
        joserfc_jwt.JWTClaimsRegistry().validate(checked.claims)  # exp
        return str(checked.claims["user_id"])

    return Library(
        "joserfc",
        lambda document: KeySet.import_key_set(cast(Any, document)),
        decode,
        (JoserfcMissingKey,),
        (JoserfcError,),
    )


class CachedJwks:
    """A JWK set fetched at startup and kept, as users of a library without a JWKS client keep
    it: fetched again when its lifespan ends (`refetch`), or on an unknown `kid` once the
    cooldown since the last fetch is over."""

    def __init__(self, url: str, library: Library) -> None:
        self.url = url
        self.library = library
        self.name = library.name
        self.fetched_at = 0.0
        self.refetch()

    def refetch(self) -> set[str]:
        document = httpx.get(self.url, timeout=10).raise_for_status().json()
        self.keys = self.library.import_set(document)
        self.fetched_at = time.monotonic()
        return {key["kid"] for key in document["keys"]}

    def verify(self, token: str) -> str | None:
        try:
            return self.library.decode(self.keys, token)
        except self.library.missing:
            if time.monotonic() - self.fetched_at < COOLDOWN_S:
                return None
            self.refetch()
            try:
                return self.library.decode(self.keys, token)
            except (*self.library.missing, *self.library.refused):
                return None
        except self.library.refused:
            return None


class SimpleJwtConsumer:
    """A stock DRF view behind SimpleJWT's JWTStatelessUserAuthentication, with JWK_URL."""

    name = "SimpleJWT (JWK_URL)"

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def verify(self, token: str) -> str | None:
        answer = self.http.get("/jwt-whoami/", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code in (200, 401), answer.text
        return str(answer.json()["user_id"]) if answer.status_code == 200 else None

    def refetch(self) -> set[str]:
        answer = self.http.post("/jwks-refetch/")
        assert answer.status_code == 200, answer.text
        return set(answer.json()["kids"])


@pytest.fixture(scope="module")
def simplejwt(issuer: Issuer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """The reference Django + DRF + SimpleJWT server, its SIMPLE_JWT pointing at authgate's
    JWKS (one per module; authgate restarts under it on the same port)."""
    try:
        python = ensure_venv(DEFAULT_VENV_DIR)
    except ReferenceUnavailableError as error:
        pytest.skip(f"the reference Django stack cannot be installed here: {error}")
    simple_jwt = {"ALGORITHM": SIMPLEJWT_ALGORITHM, "JWK_URL": issuer.jwks_url}
    port = find_free_port()
    process = start_server(
        python,
        port=port,
        db_path=tmp_path_factory.mktemp("simplejwt") / "ref.sqlite3",
        env={"REFERENCE_SIMPLE_JWT_JSON": json.dumps(simple_jwt)},
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            yield http
    finally:
        stop_server(process)


def _consumers(request: pytest.FixtureRequest, issuer: Issuer, algorithm: str) -> list[Consumer]:
    """Every consumer of `algorithm`, made now (each fetches the JWKS when it first needs it,
    the hand-written caches at once)."""
    made: list[Consumer] = [PyJwkConsumer(issuer.jwks_url, algorithm)]
    made += [
        CachedJwks(issuer.jwks_url, library(algorithm))
        for library in (_jwcrypto, _authlib, _joserfc)
    ]
    if algorithm == SIMPLEJWT_ALGORITHM:
        made.append(SimpleJwtConsumer(request.getfixturevalue("simplejwt")))
    return made


def _refusals(consumers: list[Consumer], tokens: list[str], user_id: str) -> dict[str, int]:
    """How many of `tokens` each consumer refused (a token it accepts must name the user)."""
    refused = {}
    for consumer in consumers:
        answers = [consumer.verify(token) for token in tokens]
        assert set(answers) <= {user_id, None}, (consumer.name, answers)
        refused[consumer.name] = answers.count(None)
    return refused


def _log_in(api: Api, username: str) -> dict[str, str]:
    answer = api.http.post("/auth/jwt/create/", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    pair: dict[str, str] = answer.json()
    return pair


def _new_access_tokens(api: Api, username: str, refresh: str) -> list[str]:
    """Access tokens from the running authgate: a login, and refreshes of an earlier refresh
    token (signed with the old key: authgate still takes it after the switch)."""
    tokens = [_log_in(api, username)["access"]]
    for _ in range(NEW_KEY_TOKENS - 1):
        answer = api.http.post("/auth/jwt/refresh/", json={"refresh": refresh})
        assert answer.status_code == 200, answer.text
        tokens.append(answer.json()["access"])
    return tokens


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated via RFC 9864")  # joserfc's word
@pytest.mark.parametrize("algorithm", ["RS256", "EdDSA"])
def test_a_published_next_key_leaves_no_hole(
    algorithm: str, issuer: Issuer, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    old, old_public = _key_files(tmp_path, "old", algorithm)
    new, new_public = _key_files(tmp_path, "new", algorithm)
    username = f"rotated-{algorithm.lower()}"

    # Before: consumers warm their caches with an old-key token.
    with issuer.running(algorithm, old) as api:
        user_id = str(api.register(username)["id"])
        before = _log_in(api, username)
        old_kid = _kid(before["access"])
        consumers = _consumers(request, issuer, algorithm)
        assert _refusals(consumers, [before["access"]], user_id) == dict.fromkeys(
            (c.name for c in consumers), 0
        )

    # Step 1: the next key is published; the old key still signs.
    with issuer.running(algorithm, old, next_keys=(new_public,)) as api:
        kids = [key["kid"] for key in api.http.get("/.well-known/jwks.json").json()["keys"]]
        new_kid = jwcrypto_jwk.JWK.from_pem(new_public.read_bytes()).thumbprint()  # RFC 7638
        assert kids == [old_kid, new_kid]
        assert _kid(_log_in(api, username)["access"]) == old_kid
        # Step 2: each consumer's cache ends its lifespan and is filled again.
        for consumer in consumers:
            assert consumer.refetch() == {old_kid, new_kid}, consumer.name

    # Step 3: the switch. Every new-key token verifies at once, everywhere; so do the old ones.
    with issuer.running(algorithm, new, retired=(old_public,)) as api:
        tokens = _new_access_tokens(api, username, before["refresh"])
        assert {_kid(token) for token in tokens} == {new_kid}
        everyone = dict.fromkeys((c.name for c in consumers), 0)
        assert _refusals(consumers, tokens, user_id) == everyone
        assert _refusals(consumers, [before["access"]], user_id) == everyone
        for token in (*tokens, before["access"]):
            assert api.http.post("/auth/jwt/verify/", json={"token": token}).status_code == 200
        # A consumer that starts now finds both keys too.
        fresh = _consumers(request, issuer, algorithm)
        assert _refusals(fresh, [*tokens, before["access"]], user_id) == everyone


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated via RFC 9864")  # joserfc's word
@pytest.mark.parametrize("algorithm", ["RS256", "EdDSA"])
def test_without_the_next_key_the_switch_opens_the_hole(
    algorithm: str, issuer: Issuer, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """The control: the rotation as it was documented before (switch and retire at once). The
    consumers' caches are as fresh as in step 2 above, and they refuse every new-key token."""
    old, old_public = _key_files(tmp_path, "old", algorithm)
    new, _ = _key_files(tmp_path, "new", algorithm)
    username = f"unpublished-{algorithm.lower()}"
    with issuer.running(algorithm, old) as api:
        user_id = str(api.register(username)["id"])
        before = _log_in(api, username)
        consumers = _consumers(request, issuer, algorithm)
        for consumer in consumers:
            assert consumer.refetch() == {_kid(before["access"])}, consumer.name
    with issuer.running(algorithm, new, retired=(old_public,)) as api:
        tokens = _new_access_tokens(api, username, before["refresh"])
        refused = _refusals(consumers, tokens, user_id)
        assert refused == dict.fromkeys((c.name for c in consumers), NEW_KEY_TOKENS)
        # The old key's tokens were never the problem.
        assert set(_refusals(consumers, [before["access"]], user_id).values()) == {0}
