"""The admin UI in real headless Chromium (Selenium): a staff member logs in, creates a user,
revokes a token and finds the audit entry, gives a user a group and a permission; a user who
is not staff is refused. Every page
visited is saved as a screenshot in tests/artifacts/admin/<backend>/, for review."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from authgate.settings import Settings
from tests.admin.helpers import PASSWORD, make_user
from tests.chromium import CHROMEDRIVER, CHROMIUM, chromium
from tests.support import Api

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "admin"

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="headless Chromium is not installed (apt-get install -y chromium chromium-driver)",
)


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    with chromium("--window-size=1280,1000") as driver:
        yield driver


class Visit:
    """Opens pages and saves a screenshot of each, numbered in the order seen."""

    def __init__(self, driver: WebDriver, base_url: str, folder: Path) -> None:
        self.driver = driver
        self.base_url = base_url
        self.folder = folder
        self.count = 0
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)

    def open(self, path: str, name: str) -> None:
        self.driver.get(self.base_url + path)
        self.shot(name)

    def shot(self, name: str) -> None:
        self.count += 1
        self.driver.save_screenshot(str(self.folder / f"{self.count:02d}-{name}.png"))

    def text(self, element_id: str) -> str:
        return self.driver.find_element(By.ID, element_id).text

    def fill(self, **fields: str) -> None:
        for name, value in fields.items():
            box = self.driver.find_element(By.ID, name)
            box.clear()
            box.send_keys(value)

    def click(self, element_id: str, then: str) -> None:
        self.driver.find_element(By.ID, element_id).click()
        self.shot(then)


def test_staff_work_in_the_admin_and_others_are_refused(
    serve: Callable[..., Api],
    make_settings: Callable[..., Settings],
    browser: WebDriver,
    database_url: str,
) -> None:
    # Secure cookies as in production: Chromium treats http://127.0.0.1 as a secure origin
    # (dev would except this direct local HTTP, http/secure_cookies.py).
    api = serve(env="prod")
    settings = make_settings()
    make_user(settings, "boss", staff=True)
    john = make_user(settings, "john")
    token = api.login("john")
    backend = "sqlite" if database_url.startswith("sqlite") else "postgres"
    visit = Visit(browser, str(api.http.base_url), ARTIFACTS / backend)

    visit.open("/admin/", "login")
    visit.fill(username="boss", password=PASSWORD)
    visit.click("login", "users")
    assert visit.text("me") == "boss"
    assert "john" in visit.text("users")

    visit.click("new-user", "user-new")
    visit.fill(username="jane", email="jane@example.com")
    visit.fill(password="Quite-Long-Pass-77", password_retype="Quite-Long-Pass-77")
    visit.click("create", "user-created")
    assert visit.text("title") == "jane"
    assert visit.text("notice") == "User created."

    visit.open("/admin/users?q=jo", "users-search")
    assert "john" in visit.text("users")
    assert "jane" not in visit.text("users")
    browser.find_element(By.LINK_TEXT, "john").click()
    visit.shot("user-john")
    assert "No token." not in visit.text("tokens")
    browser.find_element(By.CSS_SELECTOR, "button.revoke-token").click()
    visit.shot("token-revoked")
    assert visit.text("notice") == "Token revoked."
    assert "No token." in visit.text("tokens")
    assert api.http.get("/auth/users/me/", headers=api.as_user(token)).status_code == 401

    visit.click("user-audit", "audit-john")
    rows = visit.text("audit")
    assert "token_revoked" in rows
    assert "by boss" in rows
    visit.open("/admin/audit?event=register", "audit-register")
    assert "jane" in visit.text("audit")

    visit.open("/admin/towns", "towns")
    visit.fill(**{"town-name": "Lyon"})
    visit.click("add-town", "town-added")
    assert "Lyon" in browser.page_source
    visit.open("/admin/groups", "groups")
    visit.fill(**{"group-name": "editors"})
    visit.click("add-group", "group-added")
    assert "editors" in visit.text("groups")
    visit.open("/admin/permissions", "permissions")
    visit.fill(**{"permission-name": "Can change town", "permission-codename": "change_town"})
    visit.click("add-permission", "permission-added")
    assert "change_town" in visit.text("permissions")
    visit.open("/admin/lockouts", "lockouts")
    # Give john the group and the permission by ticking their boxes.
    visit.open(f"/admin/users/{john.id}", "user-john-rights")
    browser.find_element(By.CSS_SELECTOR, 'input[name="groups"]').click()
    browser.find_element(By.CSS_SELECTOR, 'input[name="user_permissions"]').click()
    visit.click("save-rights", "rights-saved")
    assert visit.text("notice") == "Groups and permissions saved."
    assert browser.find_element(By.CSS_SELECTOR, 'input[name="groups"]').is_selected()
    record = api.http.get(f"/user/{john.id}/", headers=api.as_user(api.login("john"))).json()
    assert (len(record["groups"]), len(record["user_permissions"])) == (1, 1)
    visit.open(f"/admin/users/{john.id}", "user-john-after")
    visit.click("logout", "logged-out")
    assert browser.find_element(By.ID, "login")

    # A user who is not staff logs in and is refused; no page opens to them.
    visit.fill(username="john", password=PASSWORD)
    visit.click("login", "refused")
    assert "no access" in visit.text("error")
    visit.open("/admin/users", "refused-users")
    assert browser.find_element(By.ID, "login")
    assert browser.current_url.endswith("/admin/login")
