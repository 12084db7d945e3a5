"""Refresh tokens: a used one replayed after rotation (past the reuse interval: here 0, so
any replay) is refused, says so, and ends its login (the whole `sid` family, the tokens
refreshed first included) but not the user's other logins; an expired, blacklisted or
logged-out one never extends a session (drf-jwt CVE-2020-10594). The interval's race between
tabs: tests/interop/test_two_tabs_refresh.py and tests/core/test_jwt.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.security.helpers import (
    COOKIE_JWT_INVALID_ACCESS,
    COOKIE_JWT_INVALID_REFRESH,
    PASSWORD,
    SIMPLEJWT_INVALID,
    Account,
    Server,
    answer,
    jwt_parts,
    module_server,
)

REUSED_TEXT = (
    "This refresh token was already used; the session it belonged to has been ended for"
    " safety. Please log in again."
)
ENDED_TEXT = (
    "This session was ended because one of its refresh tokens was used twice. Please log in again."
)
REUSED = {"detail": REUSED_TEXT, "code": "token_reused"}
ENDED = {"detail": ENDED_TEXT, "code": "session_ended"}
SECURE_OK = (200, {"message": "Successful secure test"})


@pytest.fixture(scope="module")
def rotating(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """/auth/jwt/ with ROTATE_REFRESH_TOKENS (and blacklisting, the default); no reuse
    interval, so every replay is past it."""
    with module_server(
        tmp_path_factory.mktemp("rotating"),
        jwt_rotate_refresh_tokens=True,
        jwt_refresh_reuse_interval_seconds=0,
    ) as running:
        yield running


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Default settings but no reuse interval (/u/api/ always rotates)."""
    with module_server(
        tmp_path_factory.mktemp("strict"), jwt_refresh_reuse_interval_seconds=0
    ) as running:
        yield running


def _pair(server: Server, account: Account) -> dict[str, str]:
    response = server.http.post(
        "/auth/jwt/create/", json={"username": account.username, "password": PASSWORD}
    )
    assert response.status_code == 200
    return dict(response.json())


def _cookie_jwt(server: Server, account: Account) -> dict[str, str]:
    response = server.http.post(
        "/u/api/login/", json={"email": account.email, "password": PASSWORD}
    )
    assert response.status_code == 200
    server.http.cookies.clear()
    return dict(response.json())


def _verify(server: Server, token: str) -> tuple[int, object]:
    return answer(server.http.post("/auth/jwt/verify/", json={"token": token}))


def _secure(server: Server, token: str) -> tuple[int, object]:
    return answer(
        server.http.get("/u/api/secure_test/", headers={"Authorization": f"Bearer {token}"})
    )


def test_simplejwt_replay_after_rotation_ends_its_login(rotating: Server) -> None:
    account = rotating.user("family")
    first = _pair(rotating, account)
    elsewhere = _pair(rotating, account)  # another device of the same user
    rotated = rotating.http.post("/auth/jwt/refresh/", json={"refresh": first["refresh"]})
    assert rotated.status_code == 200
    successor = rotated.json()
    replayed = rotating.http.post("/auth/jwt/refresh/", json={"refresh": first["refresh"]})
    assert answer(replayed) == (401, REUSED)
    assert replayed.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    for token in (successor["access"], successor["refresh"]):
        assert _verify(rotating, token) == (401, SIMPLEJWT_INVALID)
    dead = rotating.http.post("/auth/jwt/refresh/", json={"refresh": successor["refresh"]})
    assert answer(dead) == (401, ENDED)
    # The user's other login is not the thief's: it lives on.
    assert _verify(rotating, elsewhere["access"]) == (200, {})
    other = rotating.http.post("/auth/jwt/refresh/", json={"refresh": elsewhere["refresh"]})
    assert other.status_code == 200
    # The theft ended a login, not the account: logging in again works.
    assert _verify(rotating, _pair(rotating, account)["access"]) == (200, {})


def test_simplejwt_replay_of_an_older_generation(rotating: Server) -> None:
    """Replaying the grandparent after two rotations is a reuse too."""
    account = rotating.user("chain")
    tokens = [_pair(rotating, account)["refresh"]]
    for _ in range(2):
        response = rotating.http.post("/auth/jwt/refresh/", json={"refresh": tokens[-1]})
        assert response.status_code == 200
        tokens.append(response.json()["refresh"])
    replayed = rotating.http.post("/auth/jwt/refresh/", json={"refresh": tokens[0]})
    assert answer(replayed) == (401, REUSED)
    latest = rotating.http.post("/auth/jwt/refresh/", json={"refresh": tokens[-1]})
    assert answer(latest) == (401, ENDED)


def test_simplejwt_reuse_of_one_user_leaves_others_alone(rotating: Server) -> None:
    victim, bystander = rotating.user("victim"), rotating.user("bystander")
    stolen = _pair(rotating, victim)["refresh"]
    theirs = _pair(rotating, bystander)
    assert rotating.http.post("/auth/jwt/refresh/", json={"refresh": stolen}).status_code == 200
    assert rotating.http.post("/auth/jwt/refresh/", json={"refresh": stolen}).status_code == 401
    assert _verify(rotating, theirs["access"]) == (200, {})
    assert rotating.http.post("/auth/jwt/refresh/", json={"refresh": theirs["refresh"]}).is_success


def test_cookie_jwt_replay_after_rotation_ends_its_login(strict: Server) -> None:
    account = strict.user("ufamily")
    first = _cookie_jwt(strict, account)
    elsewhere = _cookie_jwt(strict, account)
    rotated = strict.http.post("/u/api/refresh/", json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200
    strict.http.cookies.clear()
    successor = rotated.json()
    assert _secure(strict, successor["access_token"]) == SECURE_OK
    replayed = strict.http.post("/u/api/refresh/", json={"refresh_token": first["refresh_token"]})
    assert answer(replayed) == (400, REUSED)
    assert "set-cookie" not in replayed.headers
    assert _secure(strict, successor["access_token"]) == (401, COOKIE_JWT_INVALID_ACCESS)
    dead = strict.http.post("/u/api/refresh/", json={"refresh_token": successor["refresh_token"]})
    assert answer(dead) == (400, ENDED)
    # The user's other login lives on.
    assert _secure(strict, elsewhere["access_token"]) == SECURE_OK
    other = strict.http.post("/u/api/refresh/", json={"refresh_token": elsewhere["refresh_token"]})
    assert other.status_code == 200
    strict.http.cookies.clear()


def test_cookie_jwt_replay_by_cookie_ends_its_login(strict: Server) -> None:
    """The stolen copy comes back through a browser's cookie (with its CSRF token)."""
    account = strict.user("ucookie")
    with strict.client() as browser:
        login = browser.post("/u/api/login/", json={"email": account.email, "password": PASSWORD})
        assert login.status_code == 200
        stolen = login.json()["refresh_token"]
        rotated = strict.http.post("/u/api/refresh/", json={"refresh_token": stolen})
        assert rotated.status_code == 200
        strict.http.cookies.clear()
        replayed = browser.post(
            "/u/api/refresh/", headers={"X-CSRF-Token": browser.cookies["csrf_token"]}
        )
        assert answer(replayed) == (400, REUSED)
    assert _secure(strict, rotated.json()["access_token"]) == (401, COOKIE_JWT_INVALID_ACCESS)


def test_blacklisted_refresh_never_mints_again(rotating: Server) -> None:
    """drf-jwt CVE-2020-10594: a blacklisted token must not buy a new one, however often."""
    account = rotating.user("blacklisted")
    refresh = _pair(rotating, account)["refresh"]
    assert rotating.http.post("/auth/jwt/refresh/", json={"refresh": refresh}).status_code == 200
    for _ in range(3):
        again = rotating.http.post("/auth/jwt/refresh/", json={"refresh": refresh})
        assert answer(again) == (401, REUSED)
        assert "access" not in again.text
    verified = rotating.http.post("/auth/jwt/verify/", json={"token": refresh})
    assert answer(verified) == (400, {"non_field_errors": ["Token is blacklisted"]})


def test_refresh_does_not_extend_the_refresh_tokens_life(server: Server) -> None:
    """Without rotation a refresh answers an access token only: the refresh token keeps its
    own expiry, and the access token lives its own lifetime from now, never longer."""
    account = server.user("lifetime")
    pair = _pair(server, account)
    refreshed = server.http.post("/auth/jwt/refresh/", json={"refresh": pair["refresh"]})
    assert refreshed.status_code == 200
    assert list(refreshed.json()) == ["access"]
    _, claims, _ = jwt_parts(refreshed.json()["access"])
    assert claims["exp"] - claims["iat"] == server.settings.jwt_access_lifetime_seconds
    _, refresh_claims, _ = jwt_parts(pair["refresh"])
    assert claims["exp"] <= refresh_claims["exp"]


def test_cookie_jwt_refresh_after_logout_is_refused(server: Server) -> None:
    account = server.user("loggedout")
    tokens = _cookie_jwt(server, account)
    out = server.http.post(
        "/u/api/logout/", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert answer(out) == (200, {"detail": "Logged out"})
    server.http.cookies.clear()
    refused = server.http.post("/u/api/refresh/", json={"refresh_token": tokens["refresh_token"]})
    assert answer(refused) == (400, COOKIE_JWT_INVALID_REFRESH)
    assert _secure(server, tokens["access_token"]) == (401, COOKIE_JWT_INVALID_ACCESS)
