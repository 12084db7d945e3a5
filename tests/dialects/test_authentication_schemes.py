"""Which schemes each DRF dialect accepts (AUTHGATE_AUTHENTICATION, dialects/schemes.py), over
HTTP: opaque tokens, SimpleJWT access tokens and the browser session, in DRF's order."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import ValidationError

from authgate.settings import Settings
from tests.support import Api

PASSWORD = "Correct-Horse-9"
ME = "/auth/users/me/"
NOT_PROVIDED = {"detail": "Authentication credentials were not provided."}


def _jwt(api: Api, username: str) -> str:
    response = api.http.post("/auth/jwt/create/", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    access: str = response.json()["access"]
    return access


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_by_default_djoser_takes_opaque_tokens_only(api: Api) -> None:
    api.register("john")
    response = api.http.get(ME, headers=_bearer(_jwt(api, "john")))
    assert (response.status_code, response.json()) == (401, {"detail": "Invalid token."})
    assert response.headers["www-authenticate"] == "Token"
    assert api.http.get(ME, headers=_bearer(api.login("john"))).status_code == 200


def test_token_and_jwt_side_by_side(serve: Callable[..., Api]) -> None:
    api = serve(authentication={"djoser": ["token", "jwt"]})
    john = api.register("john")
    for token in (api.login("john"), _jwt(api, "john")):
        response = api.http.get(ME, headers=_bearer(token))
        assert (response.status_code, response.json()["id"]) == (200, john["id"])
    # A bad JWT gets SimpleJWT's body; the challenge stays the first scheme's.
    tampered = _jwt(api, "john")[:-3] + "AAA"
    response = api.http.get(ME, headers=_bearer(tampered))
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
    assert response.json()["detail"] == "Given token not valid for any token type"
    assert response.headers["www-authenticate"] == "Token"
    # An opaque credential (no dot) is still the token scheme's.
    response = api.http.get(ME, headers=_bearer("0" * 40))
    assert (response.status_code, response.json()) == (401, {"detail": "Invalid token."})


def test_jwt_only_refuses_opaque_tokens_even_on_the_fast_lane(serve: Callable[..., Api]) -> None:
    api = serve(authentication={"djoser": ["jwt"]})
    api.register("john")
    token = api.login("john")  # a valid opaque token, of no scheme this dialect takes
    response = api.http.get(ME, headers={"Authorization": f"Token {token}"})
    assert (response.status_code, response.json()) == (401, NOT_PROVIDED)
    assert response.headers["www-authenticate"] == 'Bearer realm="api"'
    assert api.http.get(ME, headers=_bearer(_jwt(api, "john"))).status_code == 200


def test_a_jwt_logout_ends_the_users_jwts_and_a_password_change_too(
    serve: Callable[..., Api],
) -> None:
    api = serve(authentication={"djoser": ["jwt"]})
    api.register("john")
    first = _jwt(api, "john")
    assert api.http.post("/auth/token/logout/", headers=_bearer(first)).status_code == 204
    response = api.http.get(ME, headers=_bearer(first))
    assert (response.status_code, response.json()["code"]) == (401, "password_changed")
    second = _jwt(api, "john")
    change = {"current_password": PASSWORD, "new_password": "Brand-New-Horse-5"}
    response = api.http.post("/auth/users/set_password/", json=change, headers=_bearer(second))
    assert response.status_code == 204
    assert api.http.get(ME, headers=_bearer(second)).status_code == 401


def test_records_take_jwts_when_told(serve: Callable[..., Api]) -> None:
    api = serve(authentication={"directory": ["jwt"]})
    john = api.register("john")
    response = api.http.get(f"/user/{john['id']}/", headers=_bearer(_jwt(api, "john")))
    assert (response.status_code, response.json()["username"]) == (200, "john")
    response = api.http.get(f"/user/{john['id']}/", headers=_bearer(api.login("john")))
    assert response.status_code == 401


def _session_api(
    serve: Callable[..., Api], schemes: tuple[str, ...] = ("session", "token")
) -> tuple[Api, str, str]:
    """A server opening sessions at token/login/, logged in as john: (api, token, CSRF)."""
    api = serve(
        authentication={"djoser": list(schemes)},
        create_session_on_login=True,
        cookie_secure=False,  # plain HTTP here: httpx would keep a Secure cookie to itself
    )
    api.register("john")
    login = api.http.post("/auth/token/login/", json={"username": "john", "password": PASSWORD})
    assert login.status_code == 200
    assert "HttpOnly" in next(
        c for c in login.headers.get_list("set-cookie") if c.startswith("authgate_session=")
    )
    return api, login.json()["auth_token"], login.cookies["csrftoken"]


def test_a_session_from_token_login_authenticates_and_guards_writes_with_csrf(
    serve: Callable[..., Api],
) -> None:
    api, _, csrf = _session_api(serve)
    assert api.http.get(ME).json()["username"] == "john"  # the cookie alone
    rename = {"email": "johnny@example.com"}
    for headers, reason in (({}, "missing"), ({"X-CSRFToken": "0" * 64}, "incorrect")):
        response = api.http.patch(ME, json=rename, headers=headers)
        assert (response.status_code, response.json()) == (
            403,
            {"detail": f"CSRF Failed: CSRF token {reason}."},
        )
    assert api.http.get(ME).json()["email"] == ""  # nothing changed
    response = api.http.patch(ME, json=rename, headers={"X-CSRFToken": csrf})
    assert (response.status_code, response.json()["email"]) == (200, "johnny@example.com")


def test_a_session_logout_ends_it_and_session_first_answers_403(
    serve: Callable[..., Api],
) -> None:
    api, _, csrf = _session_api(serve)
    response = api.http.post("/auth/token/logout/", headers={"X-CSRFToken": csrf})
    assert response.status_code == 204
    assert "authgate_session" not in api.http.cookies
    # The session first has no challenge to send: DRF turns the 401 into a 403.
    response = api.http.get(ME)
    assert (response.status_code, response.json()) == (403, NOT_PROVIDED)
    assert "www-authenticate" not in response.headers


def test_a_token_logout_ends_the_session_it_opened(serve: Callable[..., Api]) -> None:
    api, token, _ = _session_api(serve, ("token", "session"))
    session = api.http.cookies["authgate_session"]
    response = api.http.post("/auth/token/logout/", headers={"Authorization": f"Token {token}"})
    assert response.status_code == 204
    assert "authgate_session" not in api.http.cookies  # told to forget it
    returning = Api(str(api.http.base_url))
    returning.http.cookies.set("authgate_session", session)
    response = returning.http.get(ME)  # the browser that kept it anyway: it has ended
    assert (response.status_code, response.json()) == (401, NOT_PROVIDED)


def test_the_csrf_token_of_another_session_is_refused(serve: Callable[..., Api]) -> None:
    api, _, csrf = _session_api(serve)
    other = Api(str(api.http.base_url))
    other.http.post("/auth/token/login/", json={"username": "john", "password": PASSWORD})
    response = other.http.patch(ME, json={"last_name": "X"}, headers={"X-CSRFToken": csrf})
    assert response.status_code == 403
    assert response.json() == {"detail": "CSRF Failed: CSRF token incorrect."}


def test_the_setting_refuses_unknown_dialects_and_empty_lists() -> None:
    refused: list[dict[str, list[str]]] = [
        {"envelope": ["token"]},
        {"djoser": []},
        {"djoser": ["token", "token"]},
        {"djoser": ["basic"]},
    ]
    for value in refused:
        with pytest.raises(ValidationError):
            Settings(authentication=value, _env_file=None)
