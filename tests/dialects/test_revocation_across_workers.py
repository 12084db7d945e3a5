"""Two servers over one database stand in for two workers or nodes: what one revokes, the other
refuses within the revocation poll interval, although it cached the token."""

from __future__ import annotations

import time

from tests.support import Api


def _until(check, timeout: float = 2.0) -> float:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout, "not propagated in time"
        time.sleep(0.01)
    return time.monotonic() - started


def test_logout_on_one_worker_is_refused_by_the_other(serve) -> None:
    first: Api = serve()
    second: Api = serve()
    first.register("john", email="john@example.com")
    token = first.login("john")
    headers = first.as_user(token)
    for _ in range(3):  # now cached by the second server
        assert second.http.get("/auth/users/me/", headers=headers).status_code == 200
    assert first.http.post("/auth/token/logout/", headers=headers).status_code == 204
    elapsed = _until(lambda: second.http.get("/auth/users/me/", headers=headers).status_code == 401)
    assert elapsed < 0.5


def test_profile_change_on_one_worker_shows_on_the_other(serve) -> None:
    first: Api = serve()
    second: Api = serve()
    first.register("john", email="john@example.com")
    headers = first.as_user(first.login("john"))
    assert second.http.get("/auth/users/me/", headers=headers).json()["email"] == "john@example.com"
    first.http.patch("/auth/users/me/", json={"email": "new@example.com"}, headers=headers)
    _until(
        lambda: (
            second.http.get("/auth/users/me/", headers=headers).json()["email"] == "new@example.com"
        )
    )


def test_password_change_from_the_cli_ends_cached_sessions(serve, make_settings) -> None:
    from tests.support import run_cli

    api: Api = serve()
    api.register("john")
    headers = api.as_user(api.login("john"))
    assert api.http.get("/auth/users/me/", headers=headers).status_code == 200
    run_cli(make_settings(), "changepassword", "john", stdin="New-Horse-Pass-1\nNew-Horse-Pass-1\n")
    _until(lambda: api.http.get("/auth/users/me/", headers=headers).status_code == 401)
