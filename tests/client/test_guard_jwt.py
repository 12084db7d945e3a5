"""JWTs checked by the guards without asking authgate per request: RS256 from authgate's JWKS
(fetched again on an unknown `kid`, as after a key rotation, but not on every made-up one), a
shared HMAC key, and `remote` mode, which asks authgate's jwt/verify/ and so sees a password
change at once. authgate runs for real (uvicorn in a thread, restarted on the same port to
rotate its key)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from authgate.client import (
    AuthgateUnavailable,
    Guard,
    GuardOptions,
    Identity,
    InvalidToken,
    SyncGuard,
)
from authgate.settings import Settings
from tests.client.support import PASSWORD, authgate_on, closed_port_url
from tests.conftest import TEST_SECRET
from tests.support import Api, free_port, rsa_key_files

JWKS = GuardOptions(jwt_verification="jwks", algorithms=("RS256",))


def _access(base_url: str, username: str = "john", *, register: bool = True) -> dict[str, str]:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        if register:
            created = http.post("/auth/users/", json={"username": username, "password": PASSWORD})
            assert created.status_code == 201, created.text
        pair = http.post("/auth/jwt/create/", json={"username": username, "password": PASSWORD})
        assert pair.status_code == 200, pair.text
        return dict(pair.json())


def _kid(base_url: str) -> str:
    keys = httpx.get(base_url + "/.well-known/jwks.json").json()["keys"]
    kid: str = keys[0]["kid"]
    return kid


def _claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"token_type": "access", "user_id": "1", "iat": now, "exp": now + 300, "jti": "x"}
    return claims | extra


def _mint(key: rsa.RSAPrivateKey, kid: str, **extra: Any) -> str:
    return pyjwt.encode(_claims(**extra), key, algorithm="RS256", headers={"kid": kid})


_loop: list[asyncio.Runner] = []


@pytest.fixture(autouse=True)
def _one_event_loop() -> Iterator[None]:
    """One event loop per test: an async guard's connection pool belongs to one loop."""
    with asyncio.Runner() as runner:
        _loop.append(runner)
        yield
        _loop.clear()


def _authenticate(guard: Guard, token: str) -> Identity:
    return _loop[0].run(guard.authenticate(f"Bearer {token}"))


def _refused(guard: Guard, token: str) -> InvalidToken:
    with pytest.raises(InvalidToken) as refused:
        _authenticate(guard, token)
    return refused.value


def test_rs256_access_tokens_verify_from_the_jwks(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    key, private, _ = rsa_key_files(tmp_path, "current")
    settings = make_settings(jwt_algorithm="RS256", jwt_private_key_file=str(private))
    with authgate_on(settings) as url:
        pair = _access(url)
        kid = _kid(url)
        guard = Guard(url, JWKS)
        identity = _authenticate(guard, pair["access"])
        assert (identity.kind, identity.user_id) == ("jwt", "1")
        assert identity.claims["token_type"] == "access"

        assert _refused(guard, pair["refresh"]).reason == "claims"
        head, body, signature = pair["access"].split(".")
        flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
        assert _refused(guard, f"{head}.{body}.{flipped}").reason == "signature"
        assert _refused(guard, _mint(key, kid, exp=int(time.time()) - 60)).reason == "expired"
        assert _refused(guard, _mint(key, kid, aud="someone-else")).reason == "claims"
        # The token does not choose how it is checked: HMAC keyed with the public key, or a
        # key of its own in the header, gets nowhere.
        confused = pyjwt.encode(_claims(), "k" * 32, algorithm="HS256", headers={"kid": kid})
        assert _refused(guard, confused).reason == "signature"
        own_key = pyjwt.encode(
            _claims(), key, algorithm="RS256", headers={"kid": kid, "jku": "https://evil/"}
        )
        assert _refused(guard, own_key).reason == "signature"
        assert guard.jwks.fetches == 1  # every check above used the keys fetched once

        sync = SyncGuard(url, JWKS)
        assert sync.authenticate(f"Bearer {pair['access']}").user_id == "1"
        sync.close()


def test_an_unknown_kid_refetches_the_jwks(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """authgate restarts with a new key (the old one retired): a guard that knows only the old
    key learns the new one on its first token, once; a guard that fetched a moment ago does not
    fetch again (refetch interval), and a made-up kid costs at most one fetch."""
    old_key, old_private, old_public = rsa_key_files(tmp_path, "old")
    _, new_private, _ = rsa_key_files(tmp_path, "new")
    port = free_port()
    eager = Guard(
        f"http://127.0.0.1:{port}",
        GuardOptions(algorithms=("RS256",), jwks_refetch_interval_seconds=0),
    )
    patient = Guard(f"http://127.0.0.1:{port}", JWKS)  # default interval (5 s)

    first = make_settings(jwt_algorithm="RS256", jwt_private_key_file=str(old_private))
    with authgate_on(first, port) as url:
        old_pair = _access(url)
        old_kid = _kid(url)
        for guard in (eager, patient):
            assert _authenticate(guard, old_pair["access"]).user_id == "1"
            assert guard.jwks.fetches == 1

    rotated = make_settings(
        jwt_algorithm="RS256",
        jwt_private_key_file=str(new_private),
        jwt_retired_public_key_files=(str(old_public),),
    )
    with authgate_on(rotated, port) as url:
        new_pair = _access(url, register=False)
        assert pyjwt.get_unverified_header(new_pair["access"])["kid"] != old_kid
        assert _authenticate(eager, new_pair["access"]).user_id == "1"
        assert eager.jwks.fetches == 2
        assert _authenticate(eager, old_pair["access"]).user_id == "1"  # retired, still listed
        assert eager.jwks.fetches == 2

        assert _refused(patient, new_pair["access"]).reason == "unknown_key"
        assert patient.jwks.fetches == 1  # too soon to ask again

        made_up = _mint(old_key, "made-up-kid")
        assert _refused(eager, made_up).reason == "unknown_key"
        assert eager.jwks.fetches == 3


def test_without_the_jwks_a_jwt_is_503_not_a_pass(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """Never fetched and authgate down: unavailable. Keys held and authgate gone: tokens of a
    known key still verify here (no call needed), an unknown kid is unavailable, not refused."""
    key, private, _ = rsa_key_files(tmp_path, "current")
    never = Guard(closed_port_url(), JWKS)
    with pytest.raises(AuthgateUnavailable):
        _authenticate(never, _mint(key, "any"))

    port = free_port()
    guard = Guard(f"http://127.0.0.1:{port}", GuardOptions(jwks_refetch_interval_seconds=0))
    settings = make_settings(jwt_algorithm="RS256", jwt_private_key_file=str(private))
    with authgate_on(settings, port) as url:
        pair = _access(url)
        kid = _kid(url)
        assert _authenticate(guard, pair["access"]).user_id == "1"
    assert _authenticate(guard, _mint(key, kid, user_id="7")).user_id == "7"
    with pytest.raises(AuthgateUnavailable):
        _authenticate(guard, _mint(key, "rotated-while-down"))


def test_hmac_tokens_verify_with_the_shared_key(api: Api) -> None:
    base = str(api.http.base_url).rstrip("/")
    pair = _access(base)
    good = Guard(base, GuardOptions(jwt_verification="hmac", hmac_key=TEST_SECRET))
    assert _authenticate(good, pair["access"]).user_id == "1"
    wrong = Guard(base, GuardOptions(jwt_verification="hmac", hmac_key="x" * 64))
    assert _refused(wrong, pair["access"]).reason == "signature"
    pinned = Guard(
        base,
        GuardOptions(jwt_verification="hmac", hmac_key=TEST_SECRET, algorithms=("HS512",)),
    )
    assert _refused(pinned, pair["access"]).reason == "signature"
    with pytest.raises(ValueError, match="hmac_key"):
        GuardOptions(jwt_verification="hmac")
    with pytest.raises(ValueError, match="HS256"):
        GuardOptions(jwt_verification="jwks", algorithms=("HS256",))


def test_remote_mode_sees_a_password_change_at_once(api: Api) -> None:
    """Local verification trusts a JWT until it expires; `remote` asks authgate, whose token
    version ends every JWT of a user whose password changed."""
    base = str(api.http.base_url).rstrip("/")
    pair = _access(base)
    remote = Guard(base, GuardOptions(jwt_verification="remote", cache_seconds=0))
    local = Guard(base, GuardOptions(jwt_verification="hmac", hmac_key=TEST_SECRET))
    assert _authenticate(remote, pair["access"]).user_id == "1"
    assert _refused(remote, pair["refresh"]).reason == "claims"  # verify/ takes both kinds
    token = api.login("john")
    changed = api.http.post(
        "/auth/users/set_password/",
        json={"current_password": PASSWORD, "new_password": "Another-Horse-10"},
        headers=api.as_user(token),
    )
    assert changed.status_code == 204
    assert _refused(remote, pair["access"]).reason == "rejected"
    assert _authenticate(local, pair["access"]).user_id == "1"  # until it expires


GUARD_LOG = "authgate.client.guard"


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == GUARD_LOG]


def test_a_default_guard_takes_an_hs256_deployments_jwts_saying_so_once(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    """authgate signs with HS256 by default and a guard verifies from the JWKS by default: the
    guard asks authgate about such tokens (so they pass, and a logout is seen), and says once,
    at WARNING, how to verify them locally."""
    base = str(api.http.base_url).rstrip("/")
    pair = _access(base)
    other = _access(base, "jane")
    guard = Guard(base, GuardOptions(cache_seconds=0))
    caplog.set_level("WARNING", logger=GUARD_LOG)
    assert _authenticate(guard, pair["access"]).user_id == "1"
    assert _authenticate(guard, other["access"]).user_id == "2"
    assert _refused(guard, pair["refresh"]).reason == "claims"
    (line,) = _warnings(caplog)
    assert line.startswith("authgate guard: a HS256 JWT arrived")
    assert "jwt_verification='hmac'" in line
    assert TEST_SECRET not in line
    assert pair["access"] not in line
    forged = pyjwt.encode(_claims(), "k" * 32, algorithm="HS256")
    assert _refused(guard, forged).reason == "rejected"  # authgate's verdict
    assert len(_warnings(caplog)) == 1


def test_a_pinned_guard_refuses_other_algorithms_saying_why_once(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    base = str(api.http.base_url).rstrip("/")
    pair = _access(base)
    caplog.set_level("WARNING", logger=GUARD_LOG)
    for guard in (Guard(base, JWKS), Guard(base, JWKS)):  # once per guard
        for _ in range(3):
            assert _refused(guard, pair["access"]).reason == "signature"
    lines = _warnings(caplog)
    assert len(lines) == 2
    refusing = "authgate guard: refusing HS256 JWTs (401): this guard accepts RS256"
    assert lines[0].startswith(refusing)
    assert "AUTHGATE_JWT_ALGORITHM" in lines[0]
    made_up = pyjwt.encode(_claims(), "k" * 32, algorithm="HS256").split(".")
    header = pyjwt.utils.base64url_encode(b'{"alg":"XX1\\n2","typ":"JWT"}').decode()
    assert _refused(Guard(base, JWKS), ".".join([header, *made_up[1:]])).reason == "signature"
    assert len(_warnings(caplog)) == 2  # a made-up name is refused without a line
