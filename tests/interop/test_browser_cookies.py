"""Issue 12, item 1: a browser app runs /u/api/'s whole cookie flow from its own origin, in
real headless Chromium (Selenium), against a real `authgate serve`, through a real nginx.

The page (tests/interop/browser_app/) calls the API with `fetch(..., {credentials:
"include"})`: login, secure_test by the access cookie, refresh by the refresh cookie (refused
without `X-CSRF-Token`, then with the CSRF cookie echoed), secure_test, logout, and a last
secure_test answered 401. Chromium resolves every `*.example.test` and `*.other.test` name to
127.0.0.1 (`--host-resolver-rules`), so the origins are real sites:
- same origin behind nginx: the page and `/u/api/` both at `www.example.test:<nginx>`; nginx
  proxies with its default `Host $proxy_host` (authgate sees `Host: 127.0.0.1:<authgate>`) and
  sets `X-Forwarded-Host`/`-Proto`; authgate trusts 127.0.0.1 (AUTHGATE_TRUSTED_PROXIES);
- a sibling subdomain: the page at `app.example.test:<nginx>` (AUTHGATE_CORS_ALLOWED_ORIGINS),
  the API at `api.example.test:<authgate>`; with AUTHGATE_COOKIE_DOMAIN=example.test the page
  reads the CSRF cookie;
- a foreign site (`evil.other.test`) submitting a login form is refused (login CSRF), directly
  and through the proxy, with the reason, and no cookie is set.

Cookies are not Secure here (AUTHGATE_COOKIE_SECURE=false): the origins are plain HTTP and not
loopback names. One authgate and one nginx serve the module. Skipped, saying why, where
Chromium or nginx is missing (`.ci/run` installs both).
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.chromium import CHROMEDRIVER, CHROMIUM, chromium as chromium_browser
from tests.faults.support import start_node, stop
from tests.support import free_port

APP = Path(__file__).resolve().parent / "browser_app"
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
PASSWORD = "Correct-Horse-9"
CSRF_COOKIE = "csrf_token"  # its plain name: cookies are not Secure here
DOMAIN = "example.test"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None or CHROMEDRIVER is None,
        reason="headless Chromium is not installed (apt-get install -y chromium chromium-driver)",
    ),
    pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install -y nginx)"),
]

NGINX_CONF = """
daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    types {{ text/html html; text/javascript js; }}
    # Same origin: the app and the API on one host. Host is left as nginx's default
    # ($proxy_host, i.e. 127.0.0.1:<authgate>); the browser's host goes in X-Forwarded-Host.
    server {{
        listen 127.0.0.1:{port};
        server_name www.{domain};
        root {app};
        location /u/api/ {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
    # The sibling app's static files, and a foreign site's.
    server {{
        listen 127.0.0.1:{port};
        server_name app.{domain} evil.other.test;
        root {app};
    }}
}}
"""


@dataclass(frozen=True)
class Deployment:
    authgate: str  # authgate itself, http://127.0.0.1:<port>
    port: int  # authgate's port
    nginx_port: int

    @property
    def same_origin(self) -> str:
        """The app and the API behind nginx."""
        return f"http://www.{DOMAIN}:{self.nginx_port}"

    @property
    def sibling_app(self) -> str:
        return f"http://app.{DOMAIN}:{self.nginx_port}"

    @property
    def sibling_api(self) -> str:
        return f"http://api.{DOMAIN}:{self.port}"

    @property
    def foreign(self) -> str:
        return f"http://evil.other.test:{self.nginx_port}"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """`authgate serve` trusting 127.0.0.1 as its proxy, with the sibling app's origin allowed
    and the CSRF cookie on the parent domain; nginx in front of it."""
    workdir = tmp_path_factory.mktemp("browser")
    nginx_port = free_port()
    node = start_node(
        f"sqlite:///{workdir / 'authgate.sqlite3'}",
        workdir,
        1,
        trusted_proxies="127.0.0.1",
        cors_allowed_origins=f"http://app.{DOMAIN}:{nginx_port}",
        cookie_domain=DOMAIN,
        cookie_secure="false",
    )
    try:
        port = int(node.url.rsplit(":", 1)[1])
        with _nginx(workdir / "nginx", nginx_port, port):
            yield Deployment(node.url, port, nginx_port)
    finally:
        stop(node)


def _nginx(directory: Path, port: int, upstream: int) -> _Nginx:
    directory.mkdir()
    conf = directory / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(dir=directory, port=port, upstream=upstream, app=APP, domain=DOMAIN)
    )
    return _Nginx(directory, conf, port)


class _Nginx:
    """nginx in the foreground, a child of the test, until the block ends."""

    def __init__(self, directory: Path, conf: Path, port: int) -> None:
        self._directory, self._conf, self._port = directory, conf, port
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> None:
        log = (self._directory / "stderr.log").open("wb")
        self._proc = subprocess.Popen(
            # -e: the error log from the start (the packaged one is root's alone).
            [str(NGINX), "-c", str(self._conf), "-p", str(self._directory), "-e", "error.log"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {self._errors()}")
            try:
                httpx.get(f"http://127.0.0.1:{self._port}/", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError(f"nginx did not start: {self._errors()}")

    def _errors(self) -> str:
        texts = [(self._directory / name) for name in ("stderr.log", "error.log")]
        return " ".join(path.read_text() for path in texts if path.exists())

    def __exit__(self, *_: object) -> None:
        assert self._proc is not None
        self._proc.send_signal(signal.SIGQUIT)  # graceful: nginx finishes and exits
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=10)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Headless Chromium resolving the test's names to 127.0.0.1."""
    arguments = (
        "--disable-background-networking",
        "--disable-extensions",
        "--no-first-run",
        "--no-proxy-server",
        f"--host-resolver-rules=MAP *.{DOMAIN} 127.0.0.1, MAP *.other.test 127.0.0.1",
    )
    with chromium_browser(*arguments, implicit_wait=None) as driver:
        driver.set_script_timeout(30)
        yield driver


@pytest.fixture
def browser(chromium: Any) -> Any:
    """The module's Chromium with no cookies of an earlier test."""
    chromium.execute_cdp_cmd("Network.clearBrowserCookies", {})
    return chromium


def _user(deployment: Deployment, name: str) -> str:
    """A new account; its email."""
    email = f"{name}@example.com"
    created = httpx.post(
        deployment.authgate + "/auth/users/",
        json={"username": name, "email": email, "password": PASSWORD},
    )
    assert created.status_code == 201, created.text
    return email


def _run_flow(browser: Any, page: str, api: str, email: str) -> dict[str, Any]:
    browser.get(page + "/index.html")
    result: dict[str, Any] = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "window.cookieFlow(arguments[0], arguments[1], arguments[2], arguments[3])"
        "  .then(done, error => done({error: String(error)}));",
        api,
        email,
        PASSWORD,
        CSRF_COOKIE,
    )
    return result


def _cookies(browser: Any) -> list[dict[str, Any]]:
    cookies: list[dict[str, Any]] = browser.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]
    return cookies


def _assert_whole_flow(steps: dict[str, Any]) -> None:
    assert "error" not in steps, steps
    assert steps["login"]["status"] == 200, steps["login"]
    assert set(steps["login"]["body"]) == {"access_token", "refresh_token", "role"}
    assert steps["secure"] == {"status": 200, "body": {"message": "Successful secure test"}}
    assert steps["csrf"], "the page cannot read the CSRF cookie"
    assert steps["refreshWithoutCsrf"]["status"] == 403, steps["refreshWithoutCsrf"]
    assert steps["refresh"]["status"] == 200, steps["refresh"]
    assert steps["refresh"]["body"]["detail"] == "New tokens have been sent"
    assert steps["secureAfterRefresh"]["status"] == 200, steps["secureAfterRefresh"]
    assert steps["logout"] == {"status": 200, "body": {"detail": "Logged out"}}
    assert steps["secureAfterLogout"]["status"] == 401, steps["secureAfterLogout"]
    assert steps["csrfAfterLogout"] is None


def test_same_origin_app_behind_nginx_runs_the_cookie_flow(
    deployment: Deployment, browser: Any
) -> None:
    email = _user(deployment, "sameorigin")
    steps = _run_flow(browser, deployment.same_origin, deployment.same_origin, email)
    _assert_whole_flow(steps)


def test_app_on_a_sibling_subdomain_runs_the_cookie_flow_with_cors(
    deployment: Deployment, browser: Any
) -> None:
    email = _user(deployment, "sibling")
    steps = _run_flow(browser, deployment.sibling_app, deployment.sibling_api, email)
    _assert_whole_flow(steps)


def test_sibling_app_reads_the_csrf_cookie_of_the_parent_domain_only(
    deployment: Deployment, browser: Any
) -> None:
    """The CSRF cookie is on the parent domain, for the page to read; the HttpOnly token
    cookies stay on the API's host alone."""
    email = _user(deployment, "cookies")
    browser.get(deployment.sibling_app + "/index.html")
    browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0] + '/u/api/login/', {method: 'POST', credentials: 'include',"
        " headers: {'Content-Type': 'application/json'},"
        " body: JSON.stringify({email: arguments[1], password: arguments[2]})})"
        ".then(r => done(r.status), e => done(String(e)));",
        deployment.sibling_api,
        email,
        PASSWORD,
    )
    where = {cookie["name"]: (cookie["domain"], cookie["httpOnly"]) for cookie in _cookies(browser)}
    assert where == {
        "csrf_token": (f".{DOMAIN}", False),
        "access_token": (f"api.{DOMAIN}", True),
        "refresh_token": (f"api.{DOMAIN}", True),
    }


def _submit_foreign_login(browser: Any, deployment: Deployment, target: str, email: str) -> Any:
    """The foreign page's hidden form, posting the attacker's credentials to `target`'s login;
    the answer the browser then shows."""
    browser.get(deployment.foreign + "/evil.html")
    browser.execute_script(
        "const form = document.getElementById('attack');"
        "form.action = arguments[0] + '/u/api/login/';"
        "document.getElementById('email').value = arguments[1];"
        "document.getElementById('password').value = arguments[2];"
        "form.submit();",
        target,
        email,
        PASSWORD,
    )
    deadline = time.monotonic() + 10
    while not browser.current_url.startswith(target) and time.monotonic() < deadline:
        time.sleep(0.05)
    return json.loads(browser.find_element("tag name", "body").text)


def test_a_foreign_site_cannot_log_the_browser_in(deployment: Deployment, browser: Any) -> None:
    """Login CSRF, straight to the API and through the proxy: refused with the reason, and no
    cookie is set for any host."""
    attacker = _user(deployment, "attacker")
    for target in (deployment.sibling_api, deployment.same_origin):
        answer = _submit_foreign_login(browser, deployment, target, attacker)
        assert answer == {
            "detail": f"Cross-site request refused: its Origin ({deployment.foreign}) is "
            "neither this server's origin nor in AUTHGATE_CORS_ALLOWED_ORIGINS"
        }, target
        assert _cookies(browser) == []


def test_a_remote_client_behind_nginx_is_addressed_by_the_forwarded_host(
    deployment: Deployment,
) -> None:
    """A browser elsewhere on the network (its address in X-Forwarded-For, which nginx extends):
    `authgate serve` decides by AUTHGATE_TRUSTED_PROXIES alone, so the peer it judges is nginx
    and the forwarded host counts (uvicorn's own proxy handling would have put the remote
    client in the peer's place, and the same-origin login would be refused)."""
    email = _user(deployment, "remote")
    answer = httpx.post(
        deployment.same_origin.replace(f"www.{DOMAIN}", "127.0.0.1") + "/u/api/login/",
        json={"email": email, "password": PASSWORD},
        headers={
            "Host": f"www.{DOMAIN}:{deployment.nginx_port}",
            "Origin": deployment.same_origin,
            "Sec-Fetch-Site": "same-origin",
            "X-Forwarded-For": "198.51.100.7",
        },
    )
    assert answer.status_code == 200, answer.text
