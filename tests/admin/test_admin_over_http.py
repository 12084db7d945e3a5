"""Issue 12, item 6: the admin over plain HTTP says why a login fails, and works in dev from
this machine.

With AUTHGATE_COOKIE_SECURE on (the default), the login form's cookie is Secure: over plain
HTTP to any host but localhost, browsers drop it, and the login said "The form expired; please
try again.", which sends one looking at clocks. Now, a form whose cookie did not come back over
plain HTTP names the reason and the setting (admin/auth.py). Elsewhere (HTTPS, here from
uvicorn's trusted X-Forwarded-Proto; or cookies that are not Secure) a missing or wrong cookie
is still an expired form. The server is a dev one with the default Secure cookies, reached
as http://127.0.0.1 (a direct local request, whose cookies dev leaves plain:
http/secure_cookies.py) and by another name for the same address.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from authgate.admin.auth import BAD_FORM, COOKIE_NOT_RETURNED
from tests.admin.helpers import PASSWORD, AdminClient, csrf_of, make_user
from tests.chromium import CHROMEDRIVER, CHROMIUM, chromium as chromium_browser
from tests.security.helpers import Server, module_server

OTHER_HOST = "admin.example.test"  # not localhost: browsers treat it as any remote site
ERROR = re.compile(r'<p class="error" id="error">([^<]*)</p>')


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A dev server with the default Secure cookies and a staff member."""
    with module_server(tmp_path_factory.mktemp("admin-http"), cookie_secure=True) as running:
        make_user(running.settings, "boss", staff=True)
        yield running


def _error(page: httpx.Response) -> str:
    found = ERROR.search(page.text)
    assert found, page.text
    return html.unescape(found.group(1))


def _login_form_round(http: httpx.Client) -> httpx.Response:
    """GET the login form, POST it back with whatever cookies the jar chooses to send."""
    form = http.get("/admin/login")
    assert form.status_code == 200, form.text
    fields = {"csrf_token": csrf_of(form), "username": "boss", "password": PASSWORD}
    return http.post("/admin/login", data=fields)


def test_over_plain_http_to_another_host_the_login_names_the_secure_cookie_setting(
    server: Server,
) -> None:
    with httpx.Client(base_url=server.base_url, headers={"Host": OTHER_HOST}) as http:
        answer = _login_form_round(http)
    assert answer.status_code == 403
    assert _error(answer) == COOKIE_NOT_RETURNED
    assert "AUTHGATE_COOKIE_SECURE=false" in COOKIE_NOT_RETURNED


def test_over_https_a_missing_cookie_is_still_an_expired_form(server: Server) -> None:
    # uvicorn takes the scheme from X-Forwarded-Proto of a trusted proxy (127.0.0.1 here).
    headers = {"Host": OTHER_HOST, "X-Forwarded-Proto": "https"}
    with httpx.Client(base_url=server.base_url, headers=headers) as http:
        answer = _login_form_round(http)  # the jar keeps the Secure cookie: it is missing
    assert answer.status_code == 403
    assert _error(answer) == BAD_FORM


def test_a_direct_local_request_logs_in_with_a_cookie_jar(server: Server) -> None:
    admin = AdminClient(server.base_url)
    answer = admin.login("boss")
    assert answer.status_code == 303, answer.text
    assert "authgate_session" in admin.http.cookies  # plain name: not Secure in dev, locally
    assert "boss" in admin.http.get("/admin/users").text


@pytest.mark.parametrize("cookie", [None, "not-the-form-token"], ids=["missing", "wrong"])
def test_a_plain_cookie_missing_or_wrong_is_an_expired_form(
    server: Server, cookie: str | None
) -> None:
    """The cookies of a direct local request are not Secure: the transport is no reason."""
    with httpx.Client(base_url=server.base_url) as http:
        form = http.get("/admin/login")
        http.cookies.clear()
        if cookie is not None:
            http.cookies.set("authgate_admin_login", cookie)
        fields = {"csrf_token": csrf_of(form), "username": "boss", "password": PASSWORD}
        answer = http.post("/admin/login", data=fields)
    assert answer.status_code == 403
    assert _error(answer) == BAD_FORM


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Headless Chromium that reaches OTHER_HOST at 127.0.0.1."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("headless Chromium is not installed (apt-get install chromium chromium-driver)")
    arguments = (
        f"--host-resolver-rules=MAP {OTHER_HOST} 127.0.0.1",
        "--disable-features=HttpsUpgrades",  # load the http:// URL as given, no https first
    )
    with chromium_browser(*arguments) as driver:
        yield driver


def _log_in_in_chromium(driver: Any, url: str) -> None:
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(f"{url}/admin/login")
    driver.find_element(By.ID, "username").send_keys("boss")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login").click()


def test_chromium_on_another_host_over_plain_http_sees_the_reason(
    server: Server, chromium: Any
) -> None:
    from selenium.webdriver.common.by import By

    port = urlsplit(server.base_url).port
    _log_in_in_chromium(chromium, f"http://{OTHER_HOST}:{port}")
    assert urlsplit(chromium.current_url).hostname == OTHER_HOST
    assert chromium.find_element(By.ID, "error").text == COOKIE_NOT_RETURNED


def test_chromium_on_127_0_0_1_logs_in_with_the_dev_cookies(server: Server, chromium: Any) -> None:
    from selenium.webdriver.common.by import By

    _log_in_in_chromium(chromium, server.base_url)
    assert chromium.find_element(By.ID, "me").text == "boss"
    names = {cookie["name"]: cookie for cookie in chromium.get_cookies()}
    assert "authgate_session" in names, names
    assert names["authgate_session"]["secure"] is False
