"""Issue 11, item 16: login CSRF through Djoser's `token/login/` with
AUTHGATE_CREATE_SESSION_ON_LOGIN.

With the setting on, `token/login/` also sets the browser's session cookie: an auto-submitted
form on another site, carrying the attacker's credentials, would log the victim's browser into
the attacker's account. Such a request is refused as `/u/api/login/` refuses it (one check,
http/same_site.py), in DRF's shape, with no cookie and no token; API clients that send no
Origin, and the browser's own same-origin requests, log in as before.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.security.helpers import PASSWORD, unique
from tests.support import Api

pytestmark = pytest.mark.in_process  # the answers of the views, not the wire

CROSS_SITE_HEADERS = [
    {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    {"Origin": "https://evil.example"},  # a browser without Fetch Metadata
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain may be hostile
    {"Origin": "null"},  # a sandboxed frame's form
]
LOGIN_PATHS = ["/auth/token/login/", "/api/v1/auth/token/login/"]


def _victim(api: Api) -> str:
    name = unique("csrf")
    api.register(name)
    return name


def test_cross_site_form_cannot_log_a_browser_into_the_attackers_session(
    serve: Callable[..., Api],
) -> None:
    api = serve(create_session_on_login=True, cookie_secure=False)
    attacker = _victim(api)
    form = {"username": attacker, "password": PASSWORD}
    for path in LOGIN_PATHS:
        for headers in CROSS_SITE_HEADERS:
            # What a hidden, auto-submitted form on the attacker's site sends.
            response = api.http.post(path, data=form, headers=headers)
            assert response.status_code == 403, (path, headers, response.text)
            body = response.json()
            assert list(body) == ["detail"]
            assert body["detail"].startswith("CSRF Failed: "), body
            assert "set-cookie" not in response.headers
            assert "auth_token" not in response.text


def test_cross_site_json_login_is_refused_too(serve: Callable[..., Api]) -> None:
    api = serve(create_session_on_login=True, cookie_secure=False)
    attacker = _victim(api)
    response = api.http.post(
        "/auth/token/login/",
        json={"username": attacker, "password": PASSWORD},
        headers=CROSS_SITE_HEADERS[0],
    )
    assert response.status_code == 403, response.text
    assert "set-cookie" not in response.headers


def test_same_origin_browser_login_still_opens_the_session(serve: Callable[..., Api]) -> None:
    api = serve(create_session_on_login=True, cookie_secure=False)
    name = _victim(api)
    origin = str(api.http.base_url).rstrip("/")
    response = api.http.post(
        "/auth/token/login/",
        json={"username": name, "password": PASSWORD},
        headers={"Origin": origin, "Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 200, response.text
    assert "auth_token" in response.json()
    assert "authgate_session" in response.headers.get("set-cookie", "")


def test_api_client_without_origin_still_logs_in(serve: Callable[..., Api]) -> None:
    api = serve(create_session_on_login=True, cookie_secure=False)
    name = _victim(api)
    response = api.http.post("/auth/token/login/", json={"username": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    assert "auth_token" in response.json()


def test_cross_site_login_without_sessions_is_not_refused(serve: Callable[..., Api]) -> None:
    """Without session-on-login nothing is set in the browser (the token is only in a body
    that CORS keeps from the other site), so there is no login CSRF to refuse."""
    api = serve(create_session_on_login=False, cookie_secure=False)
    name = _victim(api)
    response = api.http.post(
        "/auth/token/login/",
        json={"username": name, "password": PASSWORD},
        headers=CROSS_SITE_HEADERS[0],
    )
    assert response.status_code == 200, response.text
    assert "set-cookie" not in response.headers
