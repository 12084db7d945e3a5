"""/docs serves a pinned Swagger UI from the package itself (issue 11, item 18).

The page loaded Swagger UI from a CDN at a floating version (`swagger-ui-dist@5`) with no
integrity check, on the API's own origin: whoever controls that CDN path runs script next to
the API, and without internet the page was blank. Now web/package.json pins swagger-ui-dist,
its lock fixes the bytes, scripts/update-swagger-ui.sh copies what the page needs into
src/authgate/static/swagger-ui/, and the page's CSP allows scripts and styles from this origin
only. The last test renders the page in headless Chromium (as tests/admin/test_admin_browser.py
does) with no way out to a CDN, and keeps a screenshot in tests/artifacts/docs/. The docs
read no database: one server over SQLite serves the module.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.chromium import CHROMEDRIVER, CHROMIUM, chromium
from tests.security.helpers import Server

ROOT = Path(__file__).resolve().parent.parent.parent
WEB = ROOT / "web"
STATIC = ROOT / "src" / "authgate" / "static" / "swagger-ui"
ARTIFACTS = ROOT / "tests" / "artifacts" / "docs"
PAGE_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-init.js", "favicon-32x32.png")


class _References(HTMLParser):
    """Every URL the page loads: scripts' src, links' href, and any inline script."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self._in_script_without_src = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("src", "href"):
            if values.get(name):
                self.urls.append(values[name] or "")
        self._in_script_without_src = tag == "script" and not values.get("src")

    def handle_data(self, data: str) -> None:
        if self._in_script_without_src and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        self._in_script_without_src = False


def _page(server: Server) -> tuple[Any, _References]:
    response = server.http.get("/docs")
    assert response.status_code == 200
    references = _References()
    references.feed(response.text)
    return response, references


def _policy(response: Any) -> dict[str, str]:
    (policy,) = response.headers.get_list("content-security-policy")
    return dict(d.strip().split(" ", 1) for d in policy.split(";"))


def test_docs_page_loads_nothing_from_another_origin(server: Server) -> None:
    _, references = _page(server)
    assert references.urls, "the page loads Swagger UI"
    for url in references.urls:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
    assert references.inline_scripts == 0  # the strict CSP allows none
    assert {url.rsplit("/", 1)[-1] for url in references.urls} == set(PAGE_FILES)


def test_docs_assets_are_served_from_the_package_with_their_types(server: Server) -> None:
    _, references = _page(server)
    expected = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
    for url in references.urls:
        response = server.http.get(url)
        assert response.status_code == 200, url
        media_type = response.headers["content-type"].split(";")[0]
        assert media_type == expected[Path(url).suffix], url
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.content == (STATIC / url.rsplit("/", 1)[-1]).read_bytes()
    assert server.http.get("/docs/assets/nothing.js").status_code == 404
    assert server.http.get("/docs/assets/%2e%2e/settings.py").status_code == 404


def test_docs_policy_names_no_cdn_and_allows_no_inline_script(server: Server) -> None:
    response, _ = _page(server)
    directives = _policy(response)
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    for value in directives.values():
        for allowed_nowhere in ("http", "*", "'unsafe-inline'", "'unsafe-eval'"):
            assert allowed_nowhere not in value, value


def test_swagger_ui_is_pinned_and_locked_and_the_copy_is_that_version() -> None:
    wanted = json.loads((WEB / "package.json").read_text())["dependencies"]["swagger-ui-dist"]
    assert re.fullmatch(r"5\.\d+\.\d+", wanted), "an exact 5.x version, no range"
    lock = json.loads((WEB / "package-lock.json").read_text())
    locked = lock["packages"]["node_modules/swagger-ui-dist"]
    assert locked["version"] == wanted
    assert locked["integrity"].startswith("sha512-")
    assert (STATIC / "VERSION").read_text().strip() == wanted
    bundle = (STATIC / "swagger-ui-bundle.js").read_text()
    assert f'"{wanted}"' in bundle  # the bundle's own version string
    for licence in ("LICENSE", "NOTICE", "swagger-ui-bundle.js.LICENSE.txt"):
        assert (STATIC / licence).exists(), licence


@pytest.mark.slow
def test_the_wheel_carries_the_swagger_ui_files(tmp_path: Path) -> None:
    """A bare `pip install` must serve them: build the wheel with the backend pip would call
    (hatchling, pyproject's build backend; uv's venv has no pip) and look inside."""
    pytest.importorskip("hatchling", reason="make install installs hatchling, the backend")
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "--target", "wheel", "-d", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("authgate-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in PAGE_FILES:
        assert f"authgate/static/swagger-ui/{name}" in names


# ------------------------------------------------------------------------- in a browser


@pytest.fixture
def browser() -> Iterator[Any]:
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("headless Chromium is not installed (apt-get install chromium chromium-driver)")
    with chromium(
        "--window-size=1280,1600",
        implicit_wait=None,
        console_log=True,
        record_csp_violations=True,
    ) as driver:
        yield driver


def test_docs_render_their_operations_in_chromium_without_csp_violations(
    server: Server, browser: Any
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server.base_url + "/docs")
    WebDriverWait(browser, 30).until(
        lambda driver: driver.find_elements(By.CSS_SELECTOR, ".opblock-summary")
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "swagger-ui.png"))
    # An operation opened: its schema and example, drawn with Swagger UI's highlighting.
    login = browser.find_element(By.CSS_SELECTOR, "#operations-djoser-post_auth_token_login_")
    login.click()
    WebDriverWait(browser, 30).until(
        lambda driver: driver.find_elements(By.CSS_SELECTOR, ".opblock.is-open .opblock-body")
    )
    browser.execute_script("arguments[0].scrollIntoView()", login)
    browser.save_screenshot(str(ARTIFACTS / "swagger-ui-operation.png"))

    operations = browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
    paths = {operation.get_attribute("data-path") for operation in operations}
    assert {"/auth/token/login/", "/auth/users/me/"} <= paths
    assert browser.find_element(By.CSS_SELECTOR, ".info .title").text.startswith("authgate")
    assert browser.execute_script("return window.__violations") == []
    console = browser.get_log("browser")
    assert [entry for entry in console if entry["level"] == "SEVERE"] == [], console
    loaded = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert loaded, "the page loaded its assets"
    for url in loaded:
        assert url.startswith(server.base_url + "/"), url
