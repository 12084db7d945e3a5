"""CSRF on the cookie-authenticated /u/api/ writes (refresh and logout by cookie, and login,
which sets the cookies): without the double-submit header, with a wrong one, or from another
site, the write is refused with 403 and nothing happens: no token is spent, no session ends,
no cookie is set or cleared."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.security.helpers import PASSWORD, Account, Server, answer

CSRF_FAILED = {
    "detail": "CSRF check failed: the X-CSRF-Token header does not match the csrf_token cookie"
}
SECURE_OK = (200, {"message": "Successful secure test"})


def _cross_site(origin: str | None = None, fetch_site: str | None = None) -> dict[str, str]:
    """The refusal of a login or refresh from another site, saying why (issue 12)."""
    if origin is not None:
        return {
            "detail": f"Cross-site request refused: its Origin ({origin}) is neither this "
            "server's origin nor in AUTHGATE_CORS_ALLOWED_ORIGINS"
        }
    return {
        "detail": "Cross-site request refused: the browser sent it from another site "
        f"(Sec-Fetch-Site: {fetch_site}) without an allowed Origin"
    }


# What a refresh by cookie with the right CSRF value, from another site, is told.
CROSS_SITE_REFUSALS = {
    "right value from another site (Origin)": _cross_site(origin="https://evil.example"),
    "right value from another site (Sec-Fetch-Site)": _cross_site(fetch_site="cross-site"),
    "right value from a sibling site": _cross_site(fetch_site="same-site"),
    "right value from an opaque origin": _cross_site(origin="null"),
}


@contextmanager
def _browser(server: Server, account: Account) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    """A client holding the account's /u/api/ cookies, and the tokens of its login."""
    with server.client() as client:
        login = client.post("/u/api/login/", json={"email": account.email, "password": PASSWORD})
        assert login.status_code == 200
        assert set(client.cookies.keys()) == {"access_token", "refresh_token", "csrf_token"}
        yield client, dict(login.json())


def _csrf(client: httpx.Client) -> str:
    return str(client.cookies["csrf_token"])


def _header_cases(client: httpx.Client, other_csrf: str) -> dict[str, dict[str, str]]:
    csrf = _csrf(client)
    return {
        "no header": {},
        "empty header": {"X-CSRF-Token": ""},
        "wrong value": {"X-CSRF-Token": "guess"},
        "value with a suffix": {"X-CSRF-Token": csrf + "x"},
        "value of another session": {"X-CSRF-Token": other_csrf},
        "the cookie's name as header": {"Cookie-csrf_token": csrf},
        "right value from another site (Origin)": {
            "X-CSRF-Token": csrf,
            "Origin": "https://evil.example",
        },
        "right value from another site (Sec-Fetch-Site)": {
            "X-CSRF-Token": csrf,
            "Sec-Fetch-Site": "cross-site",
        },
        "right value from a sibling site": {"X-CSRF-Token": csrf, "Sec-Fetch-Site": "same-site"},
        "right value from an opaque origin": {"X-CSRF-Token": csrf, "Origin": "null"},
    }


REFRESH_CASES = [
    "no header",
    "empty header",
    "wrong value",
    "value with a suffix",
    "value of another session",
    "the cookie's name as header",
    "right value from another site (Origin)",
    "right value from another site (Sec-Fetch-Site)",
    "right value from a sibling site",
    "right value from an opaque origin",
]


@pytest.mark.parametrize("case", REFRESH_CASES)
def test_refresh_by_cookie_without_a_good_csrf_token_is_refused(server: Server, case: str) -> None:
    account, other = server.user("csrf"), server.user("csrfother")
    with _browser(server, other) as (other_client, _):
        other_csrf = _csrf(other_client)
    with _browser(server, account) as (client, tokens):
        headers = _header_cases(client, other_csrf)[case]
        refused = client.post("/u/api/refresh/", headers=headers)
        assert answer(refused) == (403, CROSS_SITE_REFUSALS.get(case, CSRF_FAILED))
        assert "set-cookie" not in refused.headers
        # Nothing was spent: the browser still refreshes, with its own token, once.
        ok = client.post("/u/api/refresh/", headers={"X-CSRF-Token": _csrf(client)})
        assert ok.status_code == 200
        assert ok.json()["refresh_token"] != tokens["refresh_token"]


def test_a_header_without_the_cookie_is_no_good(server: Server) -> None:
    """An attacker who can set the header but whose victim's csrf cookie is gone."""
    account = server.user("csrfnocookie")
    with _browser(server, account) as (client, _):
        csrf = _csrf(client)
        client.cookies.delete("csrf_token")
        refused = client.post("/u/api/refresh/", headers={"X-CSRF-Token": csrf})
        assert answer(refused) == (403, CSRF_FAILED)
        refused_empty = client.post("/u/api/refresh/", headers={"X-CSRF-Token": ""})
        assert answer(refused_empty) == (403, CSRF_FAILED)


@pytest.mark.parametrize(
    "case", ["no header", "wrong value", "value of another session", "empty header"]
)
def test_logout_by_cookie_without_a_good_csrf_token_is_refused(server: Server, case: str) -> None:
    account, other = server.user("csrfout"), server.user("csrfoutother")
    with _browser(server, other) as (other_client, _):
        other_csrf = _csrf(other_client)
    with _browser(server, account) as (client, tokens):
        headers = _header_cases(client, other_csrf)[case]
        refused = client.post("/u/api/logout/", headers=headers)
        assert answer(refused) == (403, CSRF_FAILED)
        assert "set-cookie" not in refused.headers
        # No session ended: the access token and the cookies still work.
        assert answer(client.get("/u/api/secure_test/")) == SECURE_OK
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert answer(server.http.get("/u/api/secure_test/", headers=bearer)) == SECURE_OK


def test_logout_by_cookie_from_another_site_is_refused(server: Server) -> None:
    account = server.user("csrfoutx")
    with _browser(server, account) as (client, _):
        for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
            refused = client.post("/u/api/logout/", headers=headers)
            assert answer(refused) == (403, CSRF_FAILED)
        assert answer(client.get("/u/api/secure_test/")) == SECURE_OK


@pytest.mark.parametrize(
    ("headers", "refusal"),
    [
        ({"Origin": "https://evil.example"}, _cross_site(origin="https://evil.example")),
        ({"Origin": "null"}, _cross_site(origin="null")),
        ({"Sec-Fetch-Site": "cross-site"}, _cross_site(fetch_site="cross-site")),
        ({"Sec-Fetch-Site": "same-site"}, _cross_site(fetch_site="same-site")),
    ],
    ids=["origin", "null origin", "cross-site", "same-site"],
)
def test_login_from_another_site_sets_no_cookies(
    server: Server, headers: dict[str, str], refusal: dict[str, str]
) -> None:
    """Login CSRF: an auto-submitted form must not log the victim's browser into the
    attacker's account."""
    attacker = server.user("logincsrf")
    with server.client() as client:
        response = client.post(
            "/u/api/login/",
            data={"email": attacker.email, "password": PASSWORD},
            headers=headers,
        )
        assert answer(response) == (403, refusal)
        assert "set-cookie" not in response.headers
        assert not client.cookies
