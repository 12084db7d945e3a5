"""Issue 12, item 1, at the HTTP level: the headers a browser and a reverse proxy send, and what
the same-site check (http/same_site.py) makes of them, for /u/api/ and Djoser's session login
alike; the cookie Domain (AUTHGATE_COOKIE_DOMAIN) on the CSRF cookies alone.

In process (httpx over ASGI), which lets each request come from a chosen peer address: the
app trusts 10.0.0.0/8 as its proxies and allows `https://spa.example.com`. A real browser
and a real nginx run the same flows in test_browser_cookies.py.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from authgate.app import create_app
from authgate.settings import ConfigurationError, Settings, load_settings
from tests.conftest import TEST_SECRET

PASSWORD = "Correct-Horse-9"
PROXY = "10.1.2.3"  # in AUTHGATE_TRUSTED_PROXIES
STRANGER = "203.0.113.9"  # not
ALLOWED = "https://spa.example.com"
BEHIND = {"Host": "authgate.internal:8000"}  # what a proxy that rewrites Host sends on


def _origin_refusal(origin: str) -> dict[str, str]:
    return {
        "detail": f"Cross-site request refused: its Origin ({origin}) is neither this "
        "server's origin nor in AUTHGATE_CORS_ALLOWED_ORIGINS"
    }


class Site:
    """The app in process; requests from any peer address, run on one event loop."""

    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings)
        self.loop = asyncio.new_event_loop()
        self._count = 0
        self._lifespan = self.app.router.lifespan_context(self.app)
        self.loop.run_until_complete(self._lifespan.__aenter__())

    def close(self) -> None:
        self.loop.run_until_complete(self._lifespan.__aexit__(None, None, None))
        self.loop.close()

    def post(
        self, path: str, peer: str = STRANGER, headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(self.app, client=(peer, 40000))
            async with httpx.AsyncClient(
                transport=transport, base_url="http://auth.example.com"
            ) as client:
                return await client.post(path, headers=headers or {}, **kw)

        return self.loop.run_until_complete(send())

    def user(self, name: str) -> dict[str, str]:
        """A new account's /u/api/ login body (`name` and a number: one database serves the
        module)."""
        self._count += 1
        name = f"{name}{self._count}"
        email = f"{name}@example.com"
        body = {"username": name, "email": email, "password": PASSWORD}
        assert self.post("/auth/users/", json=body).status_code == 201
        return {"email": email, "password": PASSWORD}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Site]:
    path = tmp_path_factory.mktemp("same_site") / "authgate.sqlite3"
    shutil.copy(sqlite_template, path)
    settings = Settings(
        database_url=f"sqlite:///{path}",
        secret_key=TEST_SECRET,
        trusted_proxies=("10.0.0.0/8",),
        cors_allowed_origins=(ALLOWED,),
        cookie_domain="example.com",
        create_session_on_login=True,
        throttle_enabled=False,
    )
    running = Site(settings)
    try:
        yield running
    finally:
        running.close()


def test_a_trusted_proxys_forwarded_host_is_the_origin_and_a_strangers_is_not(
    site: Site,
) -> None:
    login = site.user("proxied")
    browser = {
        **BEHIND,
        "Origin": "https://app.example.com",
        "Sec-Fetch-Site": "same-origin",
        "X-Forwarded-Host": "app.example.com",
        "X-Forwarded-Proto": "https",
    }
    through_proxy = site.post("/u/api/login/", PROXY, browser, json=login)
    assert through_proxy.status_code == 200, through_proxy.text
    # The same headers from a peer that is no proxy of ours: anyone can write them.
    forged = site.post("/u/api/login/", STRANGER, browser, json=login)
    assert forged.status_code == 403
    assert forged.json() == _origin_refusal("https://app.example.com")
    assert "set-cookie" not in forged.headers


@pytest.mark.parametrize(
    ("origin", "forwarded_host", "accepted"),
    [
        ("https://app.example.com", "app.example.com", True),
        ("http://app.example.com", "app.example.com", False),  # the proxy said https
        ("https://app.example.com:8443", "app.example.com:8443", True),
        ("https://app.example.com:8443", "app.example.com", False),
        ("https://other.example.com", "app.example.com", False),
        ("null", "app.example.com", False),
    ],
)
def test_scheme_host_and_port_are_compared(
    site: Site, origin: str, forwarded_host: str, accepted: bool
) -> None:
    headers = {
        **BEHIND,
        "Origin": origin,
        "X-Forwarded-Host": forwarded_host,
        "X-Forwarded-Proto": "https",
    }
    answer = site.post("/u/api/login/", PROXY, headers, json=site.user("compared"))
    assert answer.status_code == (200 if accepted else 403), answer.text
    if not accepted:
        assert answer.json() == _origin_refusal(origin)


def test_without_a_trusted_proxy_the_host_header_is_the_origin(site: Site) -> None:
    """A proxy that passes Host on (`proxy_set_header Host $host`), not listed: the scheme is
    unknown on a plain-HTTP hop, so only host and port count."""
    login = site.user("direct")
    host = {"Host": "auth.example.com", "Origin": "https://auth.example.com"}
    assert site.post("/u/api/login/", STRANGER, host, json=login).status_code == 200
    other_port = {"Host": "auth.example.com", "Origin": "https://auth.example.com:8443"}
    assert site.post("/u/api/login/", STRANGER, other_port, json=login).status_code == 403


@pytest.mark.parametrize("fetch_site", ["same-site", "cross-site", None])
def test_an_allowed_origin_logs_in_and_refreshes_from_anywhere(
    site: Site, fetch_site: str | None
) -> None:
    headers = {"Origin": ALLOWED} | ({"Sec-Fetch-Site": fetch_site} if fetch_site else {})
    login = site.post("/u/api/login/", STRANGER, headers, json=site.user("allowed"))
    assert login.status_code == 200, login.text
    refresh = {"refresh_token": login.json()["refresh_token"]}
    refreshed = site.post("/u/api/refresh/", STRANGER, headers, json=refresh)
    assert refreshed.status_code == 200, refreshed.text


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        (
            {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
            _origin_refusal("https://evil.example")["detail"],
        ),
        (  # a sibling subdomain that is not listed may be hostile
            {"Origin": "https://blog.example.com", "Sec-Fetch-Site": "same-site"},
            _origin_refusal("https://blog.example.com")["detail"],
        ),
        (
            {"Sec-Fetch-Site": "cross-site"},
            "Cross-site request refused: the browser sent it from another site "
            "(Sec-Fetch-Site: cross-site) without an allowed Origin",
        ),
        (  # an allowed origin's name does not pass in another header
            {"Origin": "https://evil.example", "Referer": ALLOWED + "/"},
            _origin_refusal("https://evil.example")["detail"],
        ),
    ],
    ids=["foreign", "unlisted sibling", "no origin", "referer"],
)
def test_other_sites_are_refused_saying_why(
    site: Site, headers: dict[str, str], detail: str
) -> None:
    login = site.user("foreign")
    for path, body in (("/u/api/login/", login), ("/u/api/refresh/", {"refresh_token": "x"})):
        answer = site.post(path, STRANGER, headers, json=body)
        assert (answer.status_code, answer.json()) == (403, {"detail": detail}), path
        assert "set-cookie" not in answer.headers


def test_the_refusal_speaks_the_callers_language(site: Site) -> None:
    headers = {"Origin": "https://evil.example", "Accept-Language": "ru"}
    answer = site.post("/u/api/login/", STRANGER, headers, json=site.user("russian"))
    assert answer.status_code == 403
    assert answer.json() == {
        "detail": "Межсайтовый запрос отклонен: его Origin (https://evil.example) не совпадает "
        "с origin этого сервера и не указан в AUTHGATE_CORS_ALLOWED_ORIGINS"
    }


def test_djosers_session_login_takes_the_same_decision_in_its_own_shape(site: Site) -> None:
    name = site.user("djoser")["email"].split("@")[0]
    login = {"username": name, "password": PASSWORD}
    foreign = site.post(
        "/auth/token/login/", STRANGER, {"Origin": "https://evil.example"}, json=login
    )
    assert foreign.status_code == 403
    assert foreign.json() == {
        "detail": "CSRF Failed: Origin checking failed - https://evil.example does not match "
        "any trusted origins."
    }
    no_origin = site.post(
        "/auth/token/login/", STRANGER, {"Sec-Fetch-Site": "cross-site"}, json=login
    )
    assert no_origin.json() == {
        "detail": "CSRF Failed: Origin checking failed - the request is cross-site."
    }
    for peer, headers in (
        (STRANGER, {"Origin": ALLOWED, "Sec-Fetch-Site": "same-site"}),
        (
            PROXY,
            {**BEHIND, "Origin": "https://app.example.com", "X-Forwarded-Host": "app.example.com"},
        ),
    ):
        answer = site.post("/auth/token/login/", peer, headers, json=login)
        assert answer.status_code == 200, (headers, answer.text)
        assert "auth_token" in answer.json()


def _set_cookies(response: httpx.Response) -> dict[str, str]:
    """Each Set-Cookie by its cookie's name, the attributes in lower case."""
    found = {}
    for line in response.headers.get_list("set-cookie"):
        name = line.split("=", 1)[0]
        found[name] = line.lower()
    return found


def test_only_the_csrf_cookies_carry_the_cookie_domain(site: Site) -> None:
    """The page on a sibling subdomain reads the CSRF cookie; the token and session cookies
    stay host-only (a same-site fetch sends them to the API's host anyway)."""
    login = site.post("/u/api/login/", json=site.user("domain"))
    cookies = _set_cookies(login)
    assert set(cookies) == {
        "__Secure-access_token",
        "__Secure-refresh_token",
        "__Secure-csrf_token",
    }
    assert "domain=example.com" in cookies["__Secure-csrf_token"]
    assert "httponly" not in cookies["__Secure-csrf_token"]
    for name in ("__Secure-access_token", "__Secure-refresh_token"):
        assert "domain=" not in cookies[name]
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    cleared = _set_cookies(site.post("/u/api/logout/", STRANGER, bearer))
    assert "domain=example.com" in cleared["__Secure-csrf_token"]
    assert "max-age=0" in cleared["__Secure-csrf_token"]

    name = site.user("session")["email"].split("@")[0]
    session = site.post("/auth/token/login/", json={"username": name, "password": PASSWORD})
    cookies = _set_cookies(session)
    assert session.status_code == 200, session.text
    assert set(cookies) == {"__Host-authgate_session", "__Secure-csrftoken"}
    assert "domain=example.com" in cookies["__Secure-csrftoken"]
    assert "domain=" not in cookies["__Host-authgate_session"]


@pytest.mark.parametrize(
    "value",
    [".example.com", "https://example.com", "example.com:443", "example.com/", "com", "10.0.0.1"],
)
def test_a_cookie_domain_that_is_no_domain_is_one_line(value: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        load_settings(cookie_domain=value, secret_key=TEST_SECRET)
    message = str(refused.value)
    assert message == (
        "AUTHGATE_COOKIE_DOMAIN: not a domain such as example.com (no scheme, port, path or "
        "leading dot, nor an IP address)"
    )
    assert load_settings(cookie_domain="Example.COM", secret_key=TEST_SECRET).cookie_domain == (
        "example.com"
    )


def test_an_unlisted_proxys_forwarded_for_is_ignored_and_said_once(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    """Behind a proxy that is not in AUTHGATE_TRUSTED_PROXIES (which `authgate serve` no longer
    papers over with uvicorn's own trust of 127.0.0.1), the operator is told, once."""
    forwarded = {"X-Forwarded-For": "198.51.100.7"}
    with caplog.at_level("WARNING", logger="authgate.http.callers"):
        for _ in range(3):
            site.post("/u/api/refresh/", STRANGER, forwarded, json={"refresh_token": "x"})
    said = [r.getMessage() for r in caplog.records if r.name == "authgate.http.callers"]
    assert said == [
        f"X-Forwarded-For from {STRANGER} is ignored: it is not in AUTHGATE_TRUSTED_PROXIES. "
        f"If it is your reverse proxy, list it there, or every client behind it counts as "
        f"{STRANGER} (throttling, audit log). Said once."
    ]
