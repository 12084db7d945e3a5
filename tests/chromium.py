"""Headless Chromium (Debian's chromium and chromium-driver) driven by selenium, for the tests
that need a real browser: the admin pages, the docs, the cookie API behind nginx."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
MISSING = "headless Chromium is not installed (apt-get install chromium chromium-driver)"
# Every CSP violation of each page, recorded from before it renders (CDP's script is not the
# page's: the CSP does not apply to it); the test reads window.__violations.
RECORD_CSP_VIOLATIONS = (
    "window.__violations = [];"
    "document.addEventListener('securitypolicyviolation', e =>"
    " window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
)


@contextmanager
def chromium(
    *arguments: str,
    implicit_wait: float | None = 5,
    console_log: bool = False,
    record_csp_violations: bool = False,
) -> Iterator[Any]:
    """A headless Chromium with these command-line `arguments` besides the ones every test
    needs, quit on the way out."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    # --no-sandbox: CI runs as root in a container, where the sandbox cannot start.
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", *arguments):
        options.add_argument(argument)
    if console_log:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER or ""))
    try:
        if implicit_wait is not None:
            driver.implicitly_wait(implicit_wait)
        if record_csp_violations:
            driver.execute_cdp_cmd(
                "Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_CSP_VIOLATIONS}
            )
        yield driver
    finally:
        driver.quit()
