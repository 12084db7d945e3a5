"""The /u/api/ JWT dialect (cookie JWT API): login by email, single-use refresh with reuse
detection, the test endpoints, the token cookies and their CSRF check."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt as pyjwt
import pytest

from authgate.core.roles import ADMIN
from authgate.settings import Settings
from tests.support import Api, ShiftedClock, run, run_cli

pytestmark = pytest.mark.in_process  # the answers of the views, not the wire

PASSWORD = "Correct-Horse-9"
EMAIL = "john@example.com"


@pytest.fixture
def api(serve: Callable[..., Api]) -> Api:
    """A live server whose cookies work over plain HTTP."""
    return serve(cookie_secure=False)


def _user(api: Api, username: str = "john", email: str = EMAIL) -> None:
    api.register(username, email=email)


def _login(api: Api, email: str = EMAIL, password: str = PASSWORD) -> httpx.Response:
    return api.http.post("/u/api/login/", json={"email": email, "password": password})


def _tokens(api: Api, email: str = EMAIL) -> dict[str, Any]:
    response = _login(api, email)
    assert response.status_code == 200, response.text
    api.http.cookies.clear()  # header and body tests must not lean on the cookies
    return dict(response.json())


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _set_cookies(response: httpx.Response) -> dict[str, str]:
    """Each Set-Cookie header of the response, by cookie name."""
    return {h.split("=", 1)[0]: h for h in response.headers.get_list("set-cookie")}


def _update(settings: Settings, email: str, changes: dict[str, object]) -> None:
    """Change a user beside the server, as any tool writing to its database must: the change,
    then a row on the revocation feed, which the server reads within a poll interval and so
    drops what it cached of the user."""
    from authgate.core.identity import email_key
    from authgate.store import open_store

    async def update() -> None:
        store = open_store(settings.database_url, pool_size=1)
        await store.connect()
        try:
            user = await store.get_user_by_email_key(email_key(email))
            assert user is not None
            await store.update_user(user.id, changes)
            await store.append_revocation(user.id, datetime.now(UTC))
        finally:
            await store.close()

    run(update())
    time.sleep(settings.revocation_poll_seconds * 4)


def _until_expired(token: str) -> None:
    """Wait until the token's `exp` has passed by the system's clock, which PyJWT and the
    verified-token cache judge it by (no leeway by default)."""
    exp = pyjwt.decode(token, options={"verify_signature": False})["exp"]
    time.sleep(max(0.0, exp - time.time()) + 0.05)


def _superuser(settings: Settings) -> None:
    run_cli(
        settings,
        "createsuperuser",
        "--no-input",
        "--username",
        "root",
        "--email",
        "root@example.com",
        password=PASSWORD,
    )


# login


def test_login_answers_both_tokens_and_the_role(api: Api) -> None:
    _user(api)
    response = _login(api)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["access_token", "refresh_token", "role"]
    assert body["role"] == "USER"
    assert response.headers["cache-control"] == "no-store"
    secure = api.http.get("/u/api/secure_test/", headers=_bearer(body["access_token"]))
    assert secure.json() == {"message": "Successful secure test"}


def test_login_is_by_email_whatever_the_login_field(api: Api) -> None:
    _user(api)
    by_name = api.http.post("/u/api/login/", json={"email": "john", "password": PASSWORD})
    assert by_name.status_code == 401
    assert _login(api, "JOHN@example.com").status_code == 200
    form = api.http.post("/u/api/login", data={"email": EMAIL, "password": PASSWORD})
    assert form.status_code == 200


def test_bad_credentials_answer_alike(serve: Callable[..., Api]) -> None:
    api = serve(cookie_secure=False, send_activation_email=True)
    api.register("idle", email="idle@example.com")  # inactive until activated
    expected = {"detail": "Invalid credentials"}
    for email, password in (
        ("nobody@example.com", PASSWORD),
        ("idle@example.com", PASSWORD),
        ("idle@example.com", "wrong"),
        ("", ""),
    ):
        response = _login(api, email, password)
        assert (response.status_code, response.json()) == (401, expected)
        assert "set-cookie" not in response.headers
    assert api.http.post("/u/api/login/", json={}).status_code == 401
    russian = api.http.post(
        "/u/api/login/",
        json={"email": "nobody@example.com", "password": "x"},
        headers={"Accept-Language": "ru"},
    )
    assert russian.json() == {"detail": "Неверные учетные данные"}


def test_a_superuser_may_not_log_in_or_refresh(
    api: Api, make_settings: Callable[..., Settings]
) -> None:
    _superuser(make_settings())
    response = _login(api, "root@example.com")
    assert response.status_code == 403
    assert response.json() == {
        "detail": "A superuser cannot log in through this endpoint",
    }
    assert "set-cookie" not in response.headers
    wrong = _login(api, "root@example.com", "wrong")
    assert wrong.status_code == 401  # no 403 without the password: superusers stay hidden
    # A /u/api/ refresh token of a user made superuser since their login is refused.
    api.register("mary", email="mary@example.com")
    mary = _tokens(api, "mary@example.com")
    _update(make_settings(), "mary@example.com", {"is_superuser": True})
    refused = api.http.post("/u/api/refresh/", json={"refresh_token": mary["refresh_token"]})
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("Tokens of a superuser")


def test_a_superusers_refresh_token_is_refused_unspent(
    serve: Callable[..., Api], make_settings: Callable[..., Settings]
) -> None:
    """The refusal comes before the token is spent: once its user is no superuser it
    refreshes. One already used comes back as a reuse, a superuser's included."""
    api = serve(cookie_secure=False, jwt_refresh_reuse_interval_seconds=0)
    settings = make_settings()
    api.register("mary", email="mary@example.com")
    first = _tokens(api, "mary@example.com")["refresh_token"]
    _update(settings, "mary@example.com", {"is_superuser": True})
    refused = api.http.post("/u/api/refresh/", json={"refresh_token": first})
    assert refused.status_code == 403
    assert "set-cookie" not in refused.headers
    _update(settings, "mary@example.com", {"is_superuser": False})
    renewed = api.http.post("/u/api/refresh/", json={"refresh_token": first})
    assert renewed.status_code == 200
    _update(settings, "mary@example.com", {"is_superuser": True})
    replayed = api.http.post("/u/api/refresh/", json={"refresh_token": first})
    assert (replayed.status_code, replayed.json()["code"]) == (400, "token_reused")


def test_tokens_of_the_two_jwt_dialects_do_not_cross(api: Api) -> None:
    """/u/api/ tokens carry their own audience: its single-use refresh token cannot be replayed
    unspent at /auth/jwt/refresh/, and SimpleJWT's tokens (a superuser's, say) are no good here."""
    api.register("john", email=EMAIL, password=PASSWORD)
    ours = _tokens(api)
    at_simplejwt = api.http.post("/auth/jwt/refresh/", json={"refresh": ours["refresh_token"]})
    assert at_simplejwt.status_code == 401
    pair = api.http.post("/auth/jwt/create/", json={"username": "john", "password": PASSWORD})
    theirs = pair.json()
    assert (
        api.http.post("/u/api/refresh/", json={"refresh_token": theirs["refresh"]}).status_code
        == 400
    )
    secure = api.http.get(
        "/u/api/secure_test/", headers={"Authorization": f"Bearer {theirs['access']}"}
    )
    assert secure.status_code == 401


def test_a_cross_site_browser_form_cannot_log_in_or_refresh(api: Api) -> None:
    api.register("john", email=EMAIL, password=PASSWORD)
    body = {"email": EMAIL, "password": PASSWORD}
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        response = api.http.post("/u/api/login/", data=body, headers=headers)
        assert response.status_code == 403, headers
        assert "set-cookie" not in response.headers
    same = api.http.post("/u/api/login/", data=body, headers={"Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 200


# refresh


def test_refresh_from_the_body_rotates_both_tokens(api: Api) -> None:
    _user(api)
    tokens = _tokens(api)
    response = api.http.post("/u/api/refresh/", json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["detail", "access_token", "refresh_token"]
    assert body["detail"] == "New tokens have been sent"
    assert body["refresh_token"] != tokens["refresh_token"]
    assert body["access_token"] != tokens["access_token"]
    ok = api.http.get("/u/api/secure_test/", headers=_bearer(body["access_token"]))
    assert ok.status_code == 200


def test_refresh_from_the_bearer_header(api: Api) -> None:
    _user(api)
    tokens = _tokens(api)
    response = api.http.post("/u/api/refresh/", headers=_bearer(tokens["refresh_token"]))
    assert response.status_code == 200
    assert response.json()["detail"] == "New tokens have been sent"


def test_refresh_is_single_use_even_without_simplejwt_rotation(
    serve: Callable[..., Api],
) -> None:
    """SimpleJWT's default is no rotation; /u/api/ rotates and blacklists regardless. A reuse
    (past the reuse interval: none here) ends the login, the tokens refreshed first included,
    and says so."""
    api = serve(cookie_secure=False, jwt_refresh_reuse_interval_seconds=0)
    _user(api)
    first = _tokens(api)["refresh_token"]
    newer = api.http.post("/u/api/refresh/", json={"refresh_token": first}).json()
    assert api.http.get("/u/api/secure_test/", headers=_bearer(newer["access_token"])).is_success
    reused = api.http.post("/u/api/refresh/", json={"refresh_token": first})
    assert reused.status_code == 400
    assert reused.json() == {
        "detail": "This refresh token was already used; the session it belonged to has been"
        " ended for safety. Please log in again.",
        "code": "token_reused",
    }
    dead = api.http.post("/u/api/refresh/", json={"refresh_token": newer["refresh_token"]})
    assert dead.status_code == 400
    assert dead.json()["code"] == "session_ended"
    denied = api.http.get("/u/api/secure_test/", headers=_bearer(newer["access_token"]))
    assert denied.status_code == 401
    assert _login(api).status_code == 200  # logging in again works


def test_concurrent_refreshes_of_one_token_let_exactly_one_through_without_an_interval(
    serve: Callable[..., Api],
) -> None:
    api = serve(cookie_secure=False, jwt_refresh_reuse_interval_seconds=0)
    _user(api)
    refresh = _tokens(api)["refresh_token"]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def use() -> None:
        with httpx.Client(
            base_url=str(api.http.base_url), timeout=30, transport=api.transport
        ) as client:
            barrier.wait()
            response = client.post("/u/api/refresh/", json={"refresh_token": refresh})
            statuses.append(response.status_code)

    threads = [threading.Thread(target=use) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 400]


def test_refresh_failures_are_400(api: Api) -> None:
    _user(api)
    tokens = _tokens(api)
    missing = api.http.post("/u/api/refresh/")
    assert (missing.status_code, missing.json()) == (
        400,
        {"detail": "The refresh token is missing"},
    )
    assert api.http.post("/u/api/refresh/", json={}).status_code == 400
    for bad in ("garbage", tokens["access_token"]):
        invalid = api.http.post("/u/api/refresh/", json={"refresh_token": bad})
        assert invalid.status_code == 400
        assert invalid.json() == {"detail": "The refresh token is invalid or expired"}
    odd_header = api.http.post("/u/api/refresh/", headers={"Authorization": "Token abc"})
    assert odd_header.status_code == 400
    russian = api.http.post("/u/api/refresh/", headers={"Accept-Language": "ru"})
    assert russian.json() == {"detail": "Отсутствует refresh_token"}
    unreadable = api.http.post(
        "/u/api/refresh/", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert unreadable.status_code == 400


# test endpoints and roles


def test_the_public_test_needs_nothing(api: Api) -> None:
    response = api.http.get("/u/api/test/", headers={"Authorization": "Bearer junk"})
    assert (response.status_code, response.json()) == (200, {"message": "Successful test"})


def test_secure_test_needs_a_valid_access_token(serve: Callable[..., Api]) -> None:
    # 2 s, not 1: `exp` is whole seconds, so a 1 s token may live a millisecond and be dead
    # by its first use below.
    api = serve(cookie_secure=False, jwt_access_lifetime_seconds=2)
    _user(api)
    tokens = _tokens(api)
    # Used once: from then on its verdict is cached, which must not outlive `exp`.
    assert api.http.get("/u/api/secure_test/", headers=_bearer(tokens["access_token"])).is_success
    missing = api.http.get("/u/api/secure_test/")
    assert (missing.status_code, missing.json()) == (401, {"detail": "Not authenticated"})
    assert missing.headers["www-authenticate"] == "Bearer"
    for header in ("Bearer junk", f"Bearer {tokens['refresh_token']}", "Basic abc"):
        invalid = api.http.get("/u/api/secure_test/", headers={"Authorization": header})
        assert invalid.status_code == 401
        assert invalid.json() == {"detail": "The access token is invalid or expired"}
    _until_expired(tokens["access_token"])
    expired = api.http.get("/u/api/secure_test/", headers=_bearer(tokens["access_token"]))
    assert expired.status_code == 401


def test_test_role_admits_admins_only(api: Api, make_settings: Callable[..., Settings]) -> None:
    _user(api)
    user_token = _tokens(api)["access_token"]
    forbidden = api.http.get("/u/api/test_role/", headers=_bearer(user_token))
    assert forbidden.status_code == 403
    assert forbidden.json() == {"detail": "You do not have permission to perform this action"}
    assert api.http.get("/u/api/test_role/").status_code == 401
    _update(make_settings(), EMAIL, {"role": ADMIN, "first_name": "John"})
    admin = _tokens(api)
    assert admin["role"] == "ADMIN"
    response = api.http.get("/u/api/test_role/", headers=_bearer(admin["access_token"]))
    assert response.status_code == 200
    assert response.json() == {"message": "Hello, John! Your role: ADMIN This was a test."}


def test_unknown_paths_and_methods(api: Api) -> None:
    assert api.http.get("/u/api/nope/").json() == {"detail": "Not Found"}
    wrong = api.http.get("/u/api/login/")
    assert (wrong.status_code, wrong.headers["allow"]) == (405, "POST")
    assert api.http.get("/u/api/test").status_code == 200


# cookies and CSRF


def test_login_and_refresh_set_the_cookies(serve: Callable[..., Api]) -> None:
    # prod: Secure over any transport (dev excepts direct local HTTP, http/secure_cookies.py).
    api = serve(env="prod", jwt_access_lifetime_seconds=300, jwt_refresh_lifetime_seconds=3600)
    _user(api)
    for response in (
        _login(api),
        api.http.post("/u/api/refresh/", json={"refresh_token": _tokens(api)["refresh_token"]}),
    ):
        cookies = _set_cookies(response)
        # Secure, so prefixed: the path-scoped token cookies __Secure-, the CSRF one __Host-.
        access_name, refresh_name = "__Secure-access_token", "__Secure-refresh_token"
        assert set(cookies) == {access_name, refresh_name, "__Host-csrf_token"}
        access, refresh, csrf = (
            cookies[access_name],
            cookies[refresh_name],
            cookies["__Host-csrf_token"],
        )
        body = response.json()
        assert access.startswith(f"{access_name}={body['access_token']};")
        assert refresh.startswith(f"{refresh_name}={body['refresh_token']};")
        for header in (access, refresh, csrf):
            assert "Secure" in header  # the default
            assert "SameSite=lax" in header
        assert "HttpOnly" in access
        assert "HttpOnly" in refresh
        assert "HttpOnly" not in csrf
        assert "Path=/u/api/;" in access + ";"
        assert "Path=/u/api/refresh/" in refresh
        assert "Path=/;" in csrf + ";"
        # The access cookie outlives its token, so a logout can still name the session.
        assert "Max-Age=3600" in access
        assert "Max-Age=3600" in refresh


def test_cookie_settings(serve: Callable[..., Api]) -> None:
    api = serve(cookie_secure=False, cookie_samesite="strict")
    _user(api)
    cookies = _set_cookies(_login(api))
    assert all("Secure" not in c and "SameSite=strict" in c for c in cookies.values())


def test_the_access_cookie_authenticates_reads(api: Api) -> None:
    _user(api)
    assert _login(api).status_code == 200  # the client keeps the cookies
    assert api.http.get("/u/api/secure_test/").status_code == 200


def test_refresh_by_cookie_needs_the_csrf_header(api: Api) -> None:
    _user(api)
    assert _login(api).status_code == 200
    refused = api.http.post("/u/api/refresh/")
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("CSRF check failed")
    wrong = api.http.post("/u/api/refresh/", headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    csrf = api.http.cookies["csrf_token"]
    accepted = api.http.post("/u/api/refresh/", headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 200
    assert api.http.cookies["refresh_token"] == accepted.json()["refresh_token"]
    # The CSRF token is the session's: refreshes keep it, a new login gets another.
    assert api.http.cookies["csrf_token"] == csrf
    again = api.http.post("/u/api/refresh/", headers={"X-CSRF-Token": csrf})
    assert again.status_code == 200
    assert _login(api).status_code == 200
    assert api.http.cookies["csrf_token"] != csrf


def test_a_planted_csrf_cookie_does_not_pass(api: Api) -> None:
    """Cookie tossing: a sibling subdomain can set a csrf_token cookie of its choosing and send
    the same value in the header; it is not the session's token, so it fails."""
    _user(api)
    assert _login(api).status_code == 200
    refresh = api.http.cookies["refresh_token"]
    access = api.http.cookies["access_token"]
    planted = "attacker-chosen-value"
    for path, cookie in (("/u/api/refresh/", "refresh_token"), ("/u/api/logout/", "access_token")):
        token = refresh if cookie == "refresh_token" else access
        with httpx.Client(base_url=str(api.http.base_url), transport=api.transport) as browser:
            response = browser.post(
                path,
                headers={
                    "Cookie": f"{cookie}={token}; csrf_token={planted}",
                    "X-CSRF-Token": planted,
                },
            )
        assert response.status_code == 403, path
    # Nothing was spent or ended: the real session still refreshes.
    ok = api.http.post("/u/api/refresh/", json={"refresh_token": refresh})
    assert ok.status_code == 200


def test_logout_clears_the_cookies_and_ends_the_sessions(api: Api) -> None:
    _user(api)
    body = _login(api).json()
    refused = api.http.post("/u/api/logout/")
    assert refused.status_code == 403  # authenticated by the cookie, without the CSRF header
    csrf = api.http.cookies["csrf_token"]
    response = api.http.post("/u/api/logout/", headers={"X-CSRF-Token": csrf})
    assert (response.status_code, response.json()) == (200, {"detail": "Logged out"})
    cleared = _set_cookies(response)
    assert set(cleared) == {"access_token", "refresh_token", "csrf_token"}
    assert all("Max-Age=0" in c for c in cleared.values())
    assert "Path=/u/api/refresh/" in cleared["refresh_token"]
    assert not api.http.cookies
    assert (
        api.http.get("/u/api/secure_test/", headers=_bearer(body["access_token"])).status_code
        == 401
    )
    dead = api.http.post("/u/api/refresh/", json={"refresh_token": body["refresh_token"]})
    assert dead.status_code == 400


def test_logout_by_an_expired_access_cookie_still_ends_the_session(
    serve: Callable[..., Api],
) -> None:
    """The refresh cookie goes only to refresh/, so logout knows the session by the access
    cookie; once its token expired that must still end the session, refresh token included."""
    clock = ShiftedClock()
    api = serve(jwt_access_lifetime_seconds=1, cookie_secure=False, clock=clock)
    _user(api)
    clock.offset = -timedelta(seconds=3)  # a login 3 s ago: its access token is already dead
    body = _login(api).json()
    clock.offset = timedelta(0)
    _until_expired(body["access_token"])
    assert api.http.get("/u/api/secure_test/").status_code == 401  # the access token expired
    csrf = api.http.cookies["csrf_token"]
    assert api.http.post("/u/api/logout/", headers={"X-CSRF-Token": csrf}).status_code == 200
    dead = api.http.post("/u/api/refresh/", json={"refresh_token": body["refresh_token"]})
    assert dead.status_code == 400


def test_logout_by_bearer_needs_no_csrf(api: Api) -> None:
    _user(api)
    tokens = _tokens(api)
    response = api.http.post("/u/api/logout/", headers=_bearer(tokens["access_token"]))
    assert response.status_code == 200
    ended = api.http.get("/u/api/secure_test/", headers=_bearer(tokens["access_token"]))
    assert ended.status_code == 401
    assert api.http.post("/u/api/logout/").status_code == 200  # nobody: still 200
