"""JWTs on the core: forged, tampered and stale tokens are refused (core/jwt.py)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from authgate.composition import build_core
from authgate.core import Core
from authgate.core.errors import (
    InvalidCredentialsError,
    JwtBlacklistedError,
    JwtError,
    JwtExpiredError,
    JwtReusedError,
    JwtSessionEndedError,
    JwtUserError,
    PermissionDeniedError,
)
from authgate.core.jwt import JwtConfig, Jwts
from authgate.core.staff import OPERATOR
from authgate.mailer import LogMailer
from authgate.settings import Settings
from authgate.store import open_store
from tests.support import ShiftedClock

KEY = "k" * 64
PASSWORD = "Correct-Horse-9"


def _config(**overrides: Any) -> JwtConfig:
    values: dict[str, Any] = {
        "algorithm": "HS256",
        "key": KEY,
        "access_lifetime": timedelta(minutes=5),
        "refresh_lifetime": timedelta(days=1),
        "rotate_refresh_tokens": False,
        "blacklist_after_rotation": True,
    }
    return JwtConfig(**(values | overrides))


def _jwts(**overrides: Any) -> Jwts:
    """Jwts for decoding only (decode never touches the store)."""
    return Jwts(store=None, clock=None, config=_config(**overrides))  # type: ignore[arg-type]


def _claims(token_type: str | None = "access", **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "token_type": token_type,
        "exp": now + 300,
        "iat": now,
        "jti": "0" * 32,
        "user_id": "1",
    }
    return {k: v for k, v in (claims | overrides).items() if v is not None}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segments(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())


def test_a_token_it_signed_decodes_with_simplejwts_claims() -> None:
    jwts = _jwts()
    claims = jwts.decode(jwts.encode(_claims()), "access")
    assert list(claims) == ["token_type", "exp", "iat", "jti", "user_id"]
    assert pyjwt.get_unverified_header(jwts.encode(_claims())) == {"alg": "HS256", "typ": "JWT"}


def test_alg_none_is_refused() -> None:
    unsigned = _segments({"alg": "none", "typ": "JWT"}, _claims()) + "."
    with pytest.raises(JwtError):
        _jwts().decode(unsigned, "access")


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_another_hmac_algorithm_with_the_right_key_is_refused(algorithm: str) -> None:
    token = pyjwt.encode(_claims(), KEY, algorithm=algorithm)
    with pytest.raises(JwtError):
        _jwts().decode(token, "access")


def test_rs256_hs256_confusion_is_refused() -> None:
    """A token signed with RS256 fails, and so does one HMAC-signed with a public key."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(JwtError):
        _jwts().decode(pyjwt.encode(_claims(), private, algorithm="RS256"), "access")
    import hashlib
    import hmac

    signing_input = _segments({"alg": "HS256", "typ": "JWT"}, _claims())
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(JwtError):
        _jwts().decode(signing_input + "." + _b64(signature), "access")


def test_a_wrong_key_is_refused() -> None:
    token = pyjwt.encode(_claims(), "x" * 40, algorithm="HS256")
    with pytest.raises(JwtError):
        _jwts().decode(token, "access")


def test_a_tampered_payload_or_signature_is_refused() -> None:
    jwts = _jwts()
    header, _, signature = jwts.encode(_claims()).split(".")
    forged = _b64(json.dumps(_claims(user_id="2")).encode())
    with pytest.raises(JwtError):
        jwts.decode(f"{header}.{forged}.{signature}", "access")
    token = jwts.encode(_claims())
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(JwtError):
        jwts.decode(flipped, "access")
    for garbage in ("", "abc", "a.b.c", "a.b"):
        with pytest.raises(JwtError):
            jwts.decode(garbage, "access")


def test_crit_is_refused_even_when_signed() -> None:
    token = pyjwt.encode(_claims(), KEY, algorithm="HS256", headers={"crit": ["exp"]})
    with pytest.raises(JwtError):
        _jwts().decode(token, "access")


def test_the_wrong_type_and_no_type_are_refused() -> None:
    jwts = _jwts()
    with pytest.raises(JwtError) as wrong:
        jwts.decode(jwts.encode(_claims("refresh")), "access")
    assert wrong.value.code == "jwt_wrong_type"
    with pytest.raises(JwtError) as missing:
        jwts.decode(jwts.encode(_claims(token_type=None)), "refresh")
    assert missing.value.code == "jwt_no_type"
    # verify/ takes any type (SimpleJWT's UntypedToken).
    assert jwts.decode(jwts.encode(_claims("refresh")), None)["token_type"] == "refresh"


def test_missing_exp_or_jti_is_refused() -> None:
    jwts = _jwts()
    with pytest.raises(JwtError) as no_exp:
        jwts.decode(jwts.encode(_claims(exp=None)), "access")
    assert (no_exp.value.code, no_exp.value.params) == ("jwt_missing_claim", {"claim": "exp"})
    with pytest.raises(JwtError) as no_jti:
        jwts.decode(jwts.encode(_claims(jti=None)), "access")
    assert no_jti.value.code == "jwt_no_id"


def test_expired_and_not_yet_valid_tokens_are_refused_within_the_leeway() -> None:
    now = int(time.time())
    jwts = _jwts()
    with pytest.raises(JwtExpiredError):
        jwts.decode(jwts.encode(_claims(exp=now - 5)), "access")
    with pytest.raises(JwtError):
        jwts.decode(jwts.encode(_claims(nbf=now + 60)), "access")
    lenient = _jwts(leeway=timedelta(seconds=30))
    assert lenient.decode(lenient.encode(_claims(exp=now - 5)), "access")


def test_audience_and_issuer_are_required_when_configured() -> None:
    strict = _jwts(audience="api", issuer="https://auth.example.com")
    assert strict.decode(strict.encode(_claims()), "access")["aud"] == "api"
    plain = _jwts()
    for claims in (
        _claims(),
        _claims(aud="other", iss="https://auth.example.com"),
        _claims(aud="api", iss="https://evil.example.com"),
        _claims(aud="api", iss="auth.example.com"),
        _claims(aud=["api", "other"], iss="https://auth.example.com"),
    ):
        with pytest.raises(JwtError):
            strict.decode(plain.encode(claims), "access")


def test_an_audience_or_issuer_nobody_configured_is_refused() -> None:
    """A token minted for another service with the same key names its own aud/iss: with none
    configured here it must be refused, not waved through (verification never depends on a
    setting being present)."""
    plain = _jwts()
    for claims in (_claims(aud="other-service"), _claims(iss="https://someone-else.example")):
        with pytest.raises(JwtError):
            plain.decode(plain.encode(claims), "access")


def test_the_algorithm_allow_list_is_fixed() -> None:
    for algorithm in ("none", "RS256", "ES256"):
        with pytest.raises(ValueError, match="algorithm"):
            _config(algorithm=algorithm)
    with pytest.raises(ValueError, match="key"):
        _config(key="")


# Over a real store: the user's state and generation (CVE-2024-22513)


def _with_core(
    database_url: str,
    scenario: Callable[[Core], Awaitable[None]],
    clock: ShiftedClock | None = None,
    **settings: Any,
) -> None:
    async def run() -> None:
        config = Settings(database_url=database_url, secret_key=KEY, _env_file=None, **settings)
        store = open_store(database_url)
        await store.connect()
        core = build_core(config, store, LogMailer(), clock)
        try:
            await scenario(core)
        finally:
            await core.close()
            await store.close()

    asyncio.run(run())


async def _pair(core: Core, username: str = "john") -> tuple[int, str, str]:
    user = await core.users.register(username=username, email="", password=PASSWORD)
    verified = await core.logins.authenticate(login=username, password=PASSWORD)
    refresh, access = await core.jwts.issue_pair(verified)
    return user.id, refresh, access


def test_a_password_change_ends_every_jwt_of_the_user(database_url: str) -> None:
    async def scenario(core: Core) -> None:
        user_id, refresh, access = await _pair(core)
        other_id, _, other_access = await _pair(core, "jane")
        assert (await core.jwts.authenticate(access)).user.id == user_id
        user = await core.users.get(user_id)
        await core.users.set_password(user, "Brand-New-Horse-5", actor=OPERATOR)
        with pytest.raises(JwtUserError) as changed:
            await core.jwts.authenticate(access)
        assert changed.value.code == "jwt_password_changed"
        with pytest.raises(InvalidCredentialsError):
            await core.jwts.refresh(refresh)
        with pytest.raises(JwtError):
            await core.jwts.verify(access)
        assert (await core.jwts.authenticate(other_access)).user.id == other_id
        # A login with the new password works at once.
        renewed = await core.logins.authenticate(login="john", password="Brand-New-Horse-5")
        _, new_access = await core.jwts.issue_pair(renewed)
        assert (await core.jwts.authenticate(new_access)).user.id == user_id

    _with_core(database_url, scenario, revoke_tokens_on_password_change=False)


def test_deactivation_and_deletion_end_every_jwt_even_after_reactivation(
    database_url: str,
) -> None:
    async def scenario(core: Core) -> None:
        user_id, refresh, access = await _pair(core)
        user = await core.users.get(user_id)
        await core.users.set_active(user, active=False, actor=OPERATOR)
        with pytest.raises(JwtUserError) as inactive:
            await core.jwts.authenticate(access)
        assert inactive.value.code == "jwt_user_inactive"
        with pytest.raises(InvalidCredentialsError):
            await core.jwts.refresh(refresh)
        await core.users.set_active(user, active=True, actor=OPERATOR)
        with pytest.raises(JwtUserError):
            await core.jwts.authenticate(access)
        await core.users.delete(user, actor=OPERATOR)
        with pytest.raises(JwtUserError) as gone:
            await core.jwts.authenticate(access)
        assert gone.value.code == "jwt_user_not_found"

    _with_core(database_url, scenario)


def test_a_login_racing_a_password_change_gets_no_jwt(database_url: str) -> None:
    async def scenario(core: Core) -> None:
        await core.users.register(username="john", email="", password=PASSWORD)
        verified = await core.logins.authenticate(login="john", password=PASSWORD)
        await core.users.set_password(verified, "Brand-New-Horse-5", actor=OPERATOR)
        with pytest.raises(InvalidCredentialsError):
            await core.jwts.issue_pair(verified)

    _with_core(database_url, scenario)


def test_without_a_reuse_interval_a_rotated_refresh_token_works_once_even_concurrently(
    database_url: str,
) -> None:
    async def scenario(core: Core) -> None:
        _, refresh, _ = await _pair(core)
        results = await asyncio.gather(
            *(core.jwts.refresh(refresh) for _ in range(5)), return_exceptions=True
        )
        winners = [r for r in results if not isinstance(r, BaseException)]
        assert len(winners) == 1
        assert all(isinstance(r, JwtReusedError) for r in results if r not in winners)
        assert all(isinstance(r, JwtBlacklistedError) for r in results if r not in winners)
        successor = winners[0].refresh
        assert successor is not None
        with pytest.raises(JwtBlacklistedError):
            await core.jwts.verify(refresh)
        # The losers presented a used token: a reuse, which ends the winner's login too
        # (CONTRACT 7.8: a reused refresh token revokes its family).
        with pytest.raises(JwtError):
            await core.jwts.verify(successor)

    _with_core(
        database_url,
        scenario,
        jwt_rotate_refresh_tokens=True,
        jwt_refresh_reuse_interval_seconds=0,
    )


def test_concurrent_refreshes_within_the_reuse_interval_all_get_the_same_successor(
    database_url: str,
) -> None:
    """Two tabs refreshing at once: a race, not theft. Every one gets a valid pair, all with
    the one successor (the family stays a single chain), and nothing ends."""

    async def scenario(core: Core) -> None:
        user_id, refresh, _ = await _pair(core)
        results = await asyncio.gather(*(core.jwts.refresh(refresh) for _ in range(5)))
        successors = {r.refresh for r in results}
        assert len(successors) == 1
        successor = successors.pop()
        assert successor is not None
        for result in results:
            assert (await core.jwts.authenticate(result.access)).user.id == user_id
        await core.jwts.verify(successor)
        claims = pyjwt.decode(successor, KEY, algorithms=["HS256"])
        assert claims["sid"] == pyjwt.decode(refresh, KEY, algorithms=["HS256"])["sid"]
        # The successor rotates as usual, and its own successor is new.
        after = await core.jwts.refresh(successor)
        assert after.refresh not in (None, successor)
        assert (await core.jwts.authenticate(after.access)).user.id == user_id

    _with_core(database_url, scenario, jwt_rotate_refresh_tokens=True)


def test_reusing_a_rotated_refresh_token_ends_the_login_it_belongs_to(database_url: str) -> None:
    """After the reuse interval a used token coming back is theft: its login (every token of
    its `sid`) ends, the user's other logins do not."""
    clock = ShiftedClock()

    async def scenario(core: Core) -> None:
        user_id, stolen, _ = await _pair(core)
        other_refresh, other_access = await core.jwts.issue_pair(await core.users.get(user_id))
        clock.offset = -timedelta(seconds=11)  # the legitimate client refreshed 11 s ago
        refreshed = await core.jwts.refresh(stolen)
        successor = refreshed.refresh
        assert successor is not None
        clock.offset = timedelta(0)
        with pytest.raises(JwtReusedError) as reused:
            await core.jwts.refresh(stolen)  # the thief's copy comes back: a reuse
        assert reused.value.code == "jwt_reused"
        assert isinstance(reused.value, JwtBlacklistedError)
        with pytest.raises(JwtError):
            await core.jwts.verify(successor)
        with pytest.raises(JwtSessionEndedError):
            await core.jwts.refresh(successor)
        with pytest.raises(JwtUserError) as ended:
            await core.jwts.authenticate(refreshed.access)
        assert ended.value.code == "jwt_session_ended"
        # The user's other login lives on.
        assert (await core.jwts.authenticate(other_access)).user.id == user_id
        await core.jwts.verify(other_refresh)
        assert (await core.jwts.refresh(other_refresh)).refresh is not None

    _with_core(database_url, scenario, clock, jwt_rotate_refresh_tokens=True)


def test_a_refresh_answers_its_user_and_the_new_access_tokens_claims(database_url: str) -> None:
    async def scenario(core: Core) -> None:
        user_id, refresh, _ = await _pair(core)
        refreshed = await core.jwts.refresh(refresh)
        assert refreshed.user.id == user_id
        assert dict(refreshed.claims) == core.jwts.decode(refreshed.access, "access")

    _with_core(database_url, scenario, jwt_rotate_refresh_tokens=True)


def test_a_superusers_refresh_token_is_refused_unspent(database_url: str) -> None:
    """Refused where superusers are (`refuse_superuser`) before it is spent: not blacklisted,
    it still refreshes where they are not."""

    async def scenario(core: Core) -> None:
        user_id, refresh, _ = await _pair(core)
        await core.store.update_user(user_id, {"is_superuser": True})
        with pytest.raises(PermissionDeniedError):
            await core.jwts.refresh(refresh, refuse_superuser=True)
        assert (
            await core.store.jti_used_at(str(core.jwts.decode(refresh, "refresh")["jti"])) is None
        )
        refreshed = await core.jwts.refresh(refresh)
        assert refreshed.user.is_superuser
        assert refreshed.refresh is not None

    _with_core(database_url, scenario, jwt_rotate_refresh_tokens=True)


def test_only_the_immediate_predecessor_is_forgiven(database_url: str) -> None:
    """Within the interval, a token two rotations back is theft all the same."""

    async def scenario(core: Core) -> None:
        _, first, _ = await _pair(core)
        second = (await core.jwts.refresh(first)).refresh
        assert second is not None
        third = (await core.jwts.refresh(second)).refresh
        assert third is not None
        with pytest.raises(JwtReusedError):
            await core.jwts.refresh(first)
        with pytest.raises(JwtSessionEndedError):
            await core.jwts.refresh(third)

    _with_core(database_url, scenario, jwt_rotate_refresh_tokens=True)


def test_a_reused_token_without_a_login_id_ends_every_jwt_of_the_user(database_url: str) -> None:
    """SimpleJWT's own tokens carry no `sid`: the user's whole generation is the only family."""
    clock = ShiftedClock()

    async def scenario(core: Core) -> None:
        user_id, _, _ = await _pair(core)
        _, other_access = await core.jwts.issue_pair(await core.users.get(user_id))
        now = int(time.time())
        legacy = core.jwts.encode(
            {
                "token_type": "refresh",
                "exp": now + 600,
                "iat": now,
                "jti": "a" * 32,
                "user_id": str(user_id),
            }
        )
        clock.offset = -timedelta(seconds=11)
        assert (await core.jwts.refresh(legacy)).refresh is not None
        clock.offset = timedelta(0)
        with pytest.raises(JwtReusedError):
            await core.jwts.refresh(legacy)
        with pytest.raises(JwtUserError) as changed:
            await core.jwts.authenticate(other_access)
        assert changed.value.code == "jwt_password_changed"

    _with_core(database_url, scenario, clock, jwt_rotate_refresh_tokens=True)


def test_claims_have_simplejwts_shape_and_lifetimes(database_url: str) -> None:
    async def scenario(core: Core) -> None:
        user_id, refresh, access = await _pair(core)
        for token, token_type, lifetime in ((refresh, "refresh", 86400), (access, "access", 300)):
            claims = pyjwt.decode(token, KEY, algorithms=["HS256"])
            assert list(claims) == ["token_type", "exp", "iat", "jti", "user_id", "ver", "sid"]
            assert claims["token_type"] == token_type
            assert claims["user_id"] == str(user_id)
            assert claims["exp"] - claims["iat"] == lifetime
            assert len(claims["jti"]) == 32
            assert abs(claims["iat"] - datetime.now(UTC).timestamp()) < 5

    _with_core(database_url, scenario)


def test_a_cached_verdict_on_a_token_ends_with_its_users_change(database_url: str) -> None:
    """An access token checked against the same cached subject again is answered from the
    verdict kept on it; a change to the user (a new subject) is judged afresh."""

    async def scenario(core: Core) -> None:
        user_id, _, access = await _pair(core)
        other_id, _, other_access = await _pair(core, "jane")
        seen = [await core.jwts.authenticate(access) for _ in range(3)]
        assert {principal.user.id for principal in seen} == {user_id}
        assert seen[2] is seen[1]  # the kept verdict
        for _ in range(3):
            await core.jwts.authenticate(other_access)
        user = await core.users.get(user_id)
        await core.users.set_active(user, active=False, actor=OPERATOR)
        with pytest.raises(JwtUserError) as inactive:
            await core.jwts.authenticate(access)
        assert inactive.value.code == "jwt_user_inactive"
        other = await core.users.get(other_id)
        await core.users.set_password(other, "Brand-New-Horse-5", actor=OPERATOR)
        with pytest.raises(JwtUserError) as changed:
            await core.jwts.authenticate(other_access)
        assert changed.value.code == "jwt_password_changed"

    _with_core(database_url, scenario, revoke_tokens_on_password_change=False)
