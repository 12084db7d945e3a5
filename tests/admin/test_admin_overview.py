"""The admin's overview: the audit log's counts per hour and per day in one aggregate query on
each store, the figures, the page (staff only) with its SVG charts, and throttled logins
recorded so that they can be counted."""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from authgate.admin.charts import PLOT_HEIGHT, Chart, bar_chart, top_of_scale
from authgate.app import create_app
from authgate.composition import build_core
from authgate.core import audit
from authgate.core.errors import InvalidCredentialsError, ThrottledError
from authgate.core.models import (
    AuditCounts,
    AuditEvent,
    NewUser,
    OverviewNumbers,
    SessionRecord,
    TokenRecord,
)
from authgate.mailer import LogMailer
from authgate.settings import Settings
from authgate.store import Store, open_store
from tests.admin.helpers import PASSWORD, csrf_of, make_user
from tests.chromium import CHROMEDRIVER, CHROMIUM, chromium as chromium_browser
from tests.support import run

NOW = datetime(2026, 3, 10, 14, 35, 12, 250_000, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


def entry(at: datetime, event: str, outcome: str = audit.SUCCESS, **extra: Any) -> AuditEvent:
    return AuditEvent(event=event, outcome=outcome, created_at=at, **extra)


def failed_login(at: datetime, reason: str = audit.WRONG_PASSWORD) -> AuditEvent:
    return entry(at, audit.LOGIN, audit.FAILURE, login="x", reason=reason)


# Entries at known times around NOW (14:35 UTC on 10 March): the hour and day of each matter.
ENTRIES = [
    entry(NOW, audit.LOGIN, user_id=1),
    entry(NOW - timedelta(minutes=35), audit.LOGIN, user_id=1),  # 14:00:12, same hour
    failed_login(NOW - timedelta(minutes=36)),  # 13:59:12, the hour before
    failed_login(NOW - timedelta(minutes=36), audit.THROTTLED),
    failed_login(NOW - timedelta(minutes=37), audit.THROTTLED),
    entry(NOW - timedelta(hours=2), audit.REGISTER, user_id=2),  # 12:35
    entry(NOW - timedelta(hours=2), audit.LOCKOUT, login="x"),
    entry(NOW - timedelta(hours=2), audit.LOGOUT, user_id=1),  # not counted
    entry(NOW - timedelta(days=1), audit.LOGIN, user_id=1),  # 9 March 14:35
    entry(NOW - timedelta(days=3, hours=15), audit.REGISTER, user_id=3),  # 6 March 23:35
    failed_login(NOW - timedelta(days=40)),  # before either period
]


def hour(h: int, day: int = 10) -> datetime:
    return datetime(2026, 3, day, h, tzinfo=UTC)


def test_the_store_counts_the_audit_log_per_hour_and_per_day(database_url: str) -> None:
    async def work(store: Store) -> None:
        await store.append_audit(*ENTRIES)
        per_hour = await store.audit_counts(hour(14) - timedelta(hours=23), "hour")
        assert per_hour == [
            AuditCounts(hour(12), registrations=1, lockouts=1),
            AuditCounts(hour(13), logins_failed=1, throttled=2),
            AuditCounts(hour(14), logins_succeeded=2),
        ]
        per_day = await store.audit_counts(hour(0) - timedelta(days=29), "day")
        assert per_day == [
            AuditCounts(hour(0, day=6), registrations=1),
            AuditCounts(hour(0, day=9), logins_succeeded=1),
            AuditCounts(
                hour(0),
                logins_succeeded=2,
                logins_failed=1,
                registrations=1,
                lockouts=1,
                throttled=2,
            ),
        ]
        # `since` is a boundary by the time, not by the bucket: 14:00:12 counts, 13:59 not.
        assert await store.audit_counts(hour(14), "hour") == [
            AuditCounts(hour(14), logins_succeeded=2)
        ]
        assert await store.audit_counts(NOW + timedelta(seconds=1), "day") == []

    _with_store(database_url, work)


def test_the_store_counts_users_live_tokens_and_sessions_and_recent_lockouts(
    database_url: str,
) -> None:
    async def work(store: Store) -> None:
        ann = await _new_user(store, "ann")
        bob = await _new_user(store, "bob", active=False)
        for digest, expires in (("a", None), ("b", NOW + timedelta(days=1)), ("c", NOW)):
            record = TokenRecord(digest * 64, ann.id, NOW, expires, None)
            assert await store.create_token_if_verified(record, ann.password_hash)
        for digest, expires in (("d", NOW + timedelta(hours=1)), ("e", NOW - timedelta(hours=1))):
            await store.create_session(
                SessionRecord(digest * 64, bob.id, NOW - timedelta(days=1), expires, NOW)
            )
        await store.append_audit(
            entry(NOW - timedelta(minutes=1), audit.LOCKOUT, user_id=ann.id, login="ann"),
            entry(NOW - timedelta(minutes=2), audit.LOCKOUT, user_id=ann.id, login="ann"),
            entry(NOW - timedelta(minutes=3), audit.LOCKOUT, login="ghost"),
            entry(NOW - timedelta(minutes=4), audit.LOCKOUT, login="ghost"),
            entry(NOW - timedelta(minutes=5), audit.LOCKOUT, login="1"),  # not user #1
            entry(NOW - timedelta(minutes=20), audit.LOCKOUT, user_id=bob.id),  # too old
        )
        found = await store.overview_numbers(NOW, NOW - timedelta(minutes=15))
        # Tokens: no expiry and a later one count, one that expires now does not.
        assert found == OverviewNumbers(
            users=2, active_users=1, tokens=2, sessions=1, locked_logins=3
        )

    _with_store(database_url, work)


def test_a_chart_has_a_bar_per_value_scaled_to_its_axis_and_escapes_its_text() -> None:
    values = [0, 3, 7, 1]
    svg = bar_chart(
        Chart(
            chart_id="c<1>",
            title='Logins & "friends" <script>',
            labels=["a</title>", "b", "c", "d"],
            ticks=["a", "", "c&d", ""],
            values=values,
            fill="#123456",
        )
    )
    root = ET.fromstring(str(svg))  # noqa: S314 our own SVG: well-formed, or this raises
    assert root.tag == f"{SVG}svg"
    assert root.findtext(f"{SVG}title") == 'Logins & "friends" <script>'
    assert "<script" not in str(svg)
    assert root.get("aria-labelledby") == "c<1>-title c<1>-desc"
    bars = root.findall(f"{SVG}rect")
    assert [int(b.get("data-count", "")) for b in bars] == values
    assert bars[0].findtext(f"{SVG}title") == "a</title>: 0"
    top = top_of_scale(7)
    assert top == 10
    heights = [float(b.get("height", "")) for b in bars]
    assert heights == pytest.approx([v / top * PLOT_HEIGHT for v in values], abs=0.01)
    bottoms = {round(float(b.get("y", "")) + h, 1) for b, h in zip(bars, heights, strict=True)}
    assert len(bottoms) == 1  # every bar stands on the axis
    assert not any("style" in element.attrib for element in root.iter())
    scale = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "scale"]
    assert scale == ["0", "5", "10"]
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "middle"]
    assert ticks == ["a", "c&d"]


def test_a_chart_scale_shows_whole_counts_only() -> None:
    svg = bar_chart(Chart("c", "t", ["a", "b"], ["", ""], [3, 1], "red"))
    root = ET.fromstring(str(svg))  # noqa: S314 our own SVG
    assert [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "scale"] == ["0", "5"]


@pytest.mark.parametrize(("peak", "top"), [(0, 1), (1, 1), (2, 2), (3, 5), (6, 10), (11, 20)])
def test_the_scale_tops_at_one_two_or_five_times_a_power_of_ten(peak: int, top: int) -> None:
    assert top_of_scale(peak) == top


def test_staff_see_the_charts_and_figures_others_are_refused(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(cookie_secure=False)
    make_user(settings, "boss", staff=True)
    make_user(settings, "john")
    mary = make_user(settings, "mary", staff=True)
    _with_store(settings.database_url, lambda store: store.append_audit(*ENTRIES))
    app = create_app(settings, clock=FixedClock(NOW))

    async def go() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as john:
                assert (await _log_in(john, "john")).status_code == 403
                away = await john.get("/admin/overview")
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as demoted:
                assert (await _log_in(demoted, "mary")).status_code == 303
                await _with_store_async(
                    settings.database_url, lambda s: s.update_user(mary.id, {"is_staff": False})
                )
                refused = await demoted.get("/admin/overview")
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as boss:
                assert (await _log_in(boss, "boss")).status_code == 303
                page = await boss.get("/admin/overview")
            return away, refused, page

    away, refused, page = asyncio.run(go())
    assert away.status_code == 303
    assert away.headers["location"] == "/admin/login"
    assert refused.status_code == 403
    assert "<svg" not in refused.text
    assert page.status_code == 200, page.text
    csp = page.headers["content-security-policy"]
    assert "script-src" not in csp
    assert "'unsafe-inline'" not in csp
    assert "<script" not in page.text
    assert " style=" not in page.text
    assert re.search(r'<a href="/admin/overview">Overview</a>\s*<a href="/admin/users">', page.text)
    assert _cell(page.text, "users-count") == "3"
    assert _cell(page.text, "tokens-count") == "0"
    assert _cell(page.text, "sessions-count") == "2"  # mary's and boss's admin sessions
    assert _cell(page.text, "locked-count") == "0"  # the lockout was 2 hours ago

    charts = _charts(page.text)
    assert len(charts) == 10
    hourly = charts["logins_succeeded-hour"]
    assert len(hourly) == 24
    # The 2 above, and john's, mary's and boss's logins here (john's password was right).
    assert hourly[-1] == ("2026-03-10 14:00 UTC", 5)
    assert hourly[0][0] == "2026-03-09 15:00 UTC"
    assert sum(count for _, count in hourly) == 5  # 9 March 14:35 is before the 24 hours
    assert dict(charts["logins_failed-hour"])["2026-03-10 13:00 UTC"] == 1
    assert dict(charts["throttled-hour"])["2026-03-10 13:00 UTC"] == 2
    assert dict(charts["lockouts-hour"])["2026-03-10 12:00 UTC"] == 1
    assert sum(c for _, c in charts["registrations-hour"]) == 1

    daily = charts["registrations-day"]
    assert len(daily) == 30
    assert daily[0][0] == "2026-02-09"
    assert [(d, c) for d, c in daily if c] == [("2026-03-06", 1), ("2026-03-10", 1)]
    assert dict(charts["logins_succeeded-day"]) == {
        **{d: 0 for d, _ in daily},
        "2026-03-09": 1,
        "2026-03-10": 5,
    }


def test_a_throttled_login_is_in_the_audit_log(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(throttle_login_per_account="2/minute")

    async def go() -> list[AuditEvent]:
        store = open_store(settings.database_url)
        await store.connect()
        core = build_core(settings, store, LogMailer(), FixedClock(NOW))
        try:
            for _ in range(2):
                with pytest.raises(InvalidCredentialsError):
                    await core.logins.authenticate(login="nobody", password="wrong")
            with pytest.raises(ThrottledError):
                await core.logins.authenticate(login="nobody", password="wrong")
            return await core.audit.events(event=audit.LOGIN)
        finally:
            await core.close()
            await store.close()

    found = run(go())
    assert [e.reason for e in found] == [audit.THROTTLED, audit.UNKNOWN_USER, audit.UNKNOWN_USER]
    assert found[0].outcome == audit.FAILURE
    assert found[0].login == "nobody"
    assert found[0].created_at == NOW


async def _log_in(client: httpx.AsyncClient, username: str) -> httpx.Response:
    form = await client.get("/admin/login")
    fields = {"csrf_token": csrf_of(form), "username": username, "password": PASSWORD}
    return await client.post("/admin/login", data=fields)


def _cell(page: str, element_id: str) -> str:
    found = re.search(rf'<td id="{element_id}">([^<]*)</td>', page)
    assert found, element_id
    return found.group(1)


def _charts(page: str) -> dict[str, list[tuple[str, int]]]:
    """Each chart of the page by id: its bars' labels and counts (each SVG parsed as XML)."""
    found: dict[str, list[tuple[str, int]]] = {}
    for svg in re.findall(r"<svg .*?</svg>", page, re.DOTALL):
        root = ET.fromstring(svg)  # noqa: S314 our own page's SVG
        bars = root.findall(f"{SVG}rect")
        found[root.get("id", "")] = [
            (b.get("data-label", ""), int(b.get("data-count", ""))) for b in bars
        ]
    return found


async def _new_user(store: Store, name: str, *, active: bool = True) -> Any:
    return await store.create_user(
        NewUser(
            username=name,
            username_key=name,
            email="",
            email_key="",
            password_hash="!",
            is_active=active,
            date_joined=NOW,
        )
    )


async def _with_store_async(url: str, work: Callable[[Store], Any]) -> None:
    store = open_store(url)
    await store.connect()
    try:
        await work(store)
    finally:
        await store.close()


def _with_store(url: str, work: Callable[[Store], Any]) -> None:
    run(_with_store_async(url, work))


# ------------------------------------------------------------------------- in a browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "admin"


@pytest.fixture
def chromium() -> Iterator[Any]:
    """Headless Chromium that records the page's CSP violations and its console."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("headless Chromium is not installed (apt-get install chromium chromium-driver)")
    with chromium_browser(
        "--window-size=1100,2200",  # the whole page in the screenshot
        console_log=True,
        record_csp_violations=True,
    ) as driver:
        yield driver


def test_the_overview_renders_in_chromium_without_csp_violations(
    serve: Callable[..., Any],
    make_settings: Callable[..., Settings],
    chromium: Any,
    database_url: str,
) -> None:
    from selenium.webdriver.common.by import By

    # Secure cookies as in production (dev would except this direct local HTTP): Chromium
    # trusts http://127.0.0.1.
    api = serve(env="prod")
    settings = make_settings()
    make_user(settings, "boss", staff=True)
    # A day and a month of activity, at times before now (the server's real clock).
    now = datetime.now(UTC)
    activity = [
        entry(now - timedelta(hours=h, minutes=m), audit.LOGIN, user_id=1)
        for h in range(24)
        for m in range(0, 60, 20 if 8 <= (now - timedelta(hours=h)).hour <= 18 else 30)
    ]
    activity += [failed_login(now - timedelta(hours=h, minutes=5)) for h in (1, 2, 2, 5, 9)]
    activity += [failed_login(now - timedelta(hours=2, minutes=s), audit.THROTTLED) for s in (1, 2)]
    activity += [entry(now - timedelta(hours=2), audit.LOCKOUT, login="x")]
    activity += [entry(now - timedelta(days=d), audit.REGISTER) for d in range(0, 30, 3)]
    activity += [entry(now - timedelta(days=d), audit.LOGIN, user_id=1) for d in range(1, 30)]
    _with_store(settings.database_url, lambda store: store.append_audit(*activity))

    chromium.get(f"{api.http.base_url}/admin/login")
    chromium.find_element(By.ID, "username").send_keys("boss")
    chromium.find_element(By.ID, "password").send_keys(PASSWORD)
    chromium.find_element(By.ID, "login").click()
    assert chromium.find_element(By.ID, "me").text == "boss"
    chromium.find_element(By.LINK_TEXT, "Overview").click()
    assert chromium.current_url.endswith("/admin/overview")
    assert chromium.find_element(By.TAG_NAME, "h1").text == "Overview"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    backend = "" if database_url.startswith("sqlite") else "-postgres"
    chromium.save_screenshot(str(ARTIFACTS / f"overview{backend}.png"))

    charts = chromium.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(charts) == 10
    # Drawn: each chart has a size on the page, and its bars too.
    assert all(chart.size["width"] > 200 and chart.size["height"] > 50 for chart in charts)
    hourly = chromium.find_element(By.ID, "logins_succeeded-hour")
    drawn = [bar.size["height"] for bar in hourly.find_elements(By.CSS_SELECTOR, "rect.bar")]
    assert len(drawn) == 24
    assert max(drawn) > 20
    assert chromium.execute_script("return window.__violations") == []
    console = chromium.get_log("browser")
    # Chromium asks for /favicon.ico, which authgate does not serve: its 404 is no fault.
    errors = [e for e in console if e["level"] == "SEVERE" and "/favicon.ico" not in e["message"]]
    assert errors == [], console
    assert not any("Content Security Policy" in e["message"] for e in console), console
    # The check can fail: an inline style attribute is refused by this page's CSP.
    chromium.execute_script("document.body.setAttribute('style', 'color: red')")
    assert chromium.execute_script("return window.__violations") != []
