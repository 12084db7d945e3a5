"""Issue 11 item 7: text no store can hold, and numbers no key can hold, never make a 500.

One table, discovered from the app rather than listed by hand: every operation of the OpenAPI
document (its body fields, path ids and query filters) and every form and link of the admin
(crawled from its pages), reached anonymously, as a plain user and as staff. Each field in
turn gets each hostile value while the others hold ordinary ones. Every answer must be no 5xx,
in its dialect's error shape, with no error logged; NUL or a lone surrogate in a field the
operation takes is never accepted, and an open operation refuses it with a 400.

In process (httpx over ASGI), with throttling off and argon2 at its least cost, so that the
few thousand requests take seconds. Passwords that are checked (`current_password`, a
login's) get a wrong one: the hostile value must be refused whatever the password, and the
callers' own credentials survive most requests (when one ends them, the caller gets new ones
and the request is sent again).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
from argon2 import PasswordHasher, Type
from starlette.applications import Starlette
from starlette.routing import Mount

from authgate.app import create_app
from authgate.core import Core
from authgate.core.models import User
from authgate.mailer import LogMailer
from authgate.settings import Settings
from tests.conftest import TEST_SECRET
from tests.log_capture import SessionLog
from tests.security.helpers import NO_THROTTLE, PASSWORD

SURROGATE = "a\ud800"
NUL = "a\x00b"
HOSTILE: dict[str, object] = {
    "lone surrogate": SURROGATE,
    "NUL": NUL,
    "2**63": 2**63,
    "-2**63-1": -(2**63) - 1,
    "10**30": 10**30,
    "-10**30": -(10**30),
    "superscript two": "²",  # a digit to str.isdigit(), which int() cannot read
}
# Where a lone surrogate arrives as one: a JSON string, or a form (whose bytes are then no
# UTF-8). In a path or a query string those bytes read as U+FFFD, as Django reads them.
WHOLE_TEXT = ("body", "form")
WRONG_PASSWORD = "Not-The-Password-1"
ENVELOPE = ("/api/v1/login/", "/api/v1/logout/", "/api/v1/check_token/")
COOKIE_JWT = "/u/api/"
ADMIN = "/admin/"
IDENTITIES = ("anonymous", "user", "staff")
# Bodies that log a caller in: their login fields name an existing user.
LOGINS = ("LoginIn", "ObtainIn", "TokenLoginIn", "CookieJwtLoginIn", "EmailIn", "CheckTokenIn")
_names = itertools.count()


def wire(value: object) -> str:
    """A value as it travels in a path, query or form: percent-encoded UTF-8 (a lone
    surrogate as the bytes its UTF-8 encoding would have, which are no valid UTF-8)."""
    return quote(str(value).encode("utf-8", "surrogatepass"), safe="")


def fresh(prefix: str) -> str:
    return f"{prefix}{next(_names)}hostile"


@dataclass
class Callers:
    """The users of the run, their credentials, and the record each kind of path id names."""

    user: User
    staff: User
    victim: User
    ids: dict[str, int]
    tokens: dict[str, str] = field(default_factory=dict)
    jwts: dict[str, str] = field(default_factory=dict)

    def of(self, identity: str) -> User:
        return self.staff if identity == "staff" else self.user


@dataclass(frozen=True)
class Case:
    """One request of the table: who sends which value where."""

    identity: str
    method: str
    path: str
    where: str  # "body", "path", "query" or "form"
    name: str
    value: object
    public: bool  # the operation takes anonymous callers
    declared: bool  # the operation reads this field (it is not one made up)

    def describe(self) -> str:
        return f"{self.identity} {self.method} {self.path} {self.where}:{self.name}={self.value!r}"


# the app, in process


@asynccontextmanager
async def running(database_url: str) -> AsyncIterator[tuple[Starlette, Core]]:
    """The app over `database_url`, started, with its core (taken from the admin's state)."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "cookie_secure": False,
        **NO_THROTTLE,
    }
    app = create_app(Settings(**values, _env_file=None), mailer=LogMailer())
    admin = next(r for r in app.routes if isinstance(r, Mount) and r.path == ADMIN.rstrip("/"))
    assert isinstance(admin.app, Starlette)
    core: Core = admin.app.state.admin.core
    # What is tested is how input is read, not how passwords are hashed: a few hundred
    # checks at the real cost would take most of the run.
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)
    core.passwords._hasher = hasher
    core.passwords._dummy_hash = hasher.hash("dummy")
    async with app.router.lifespan_context(app):
        yield app, core


def client_of(app: Starlette) -> httpx.AsyncClient:
    """A client of the app in process, with cookies of its own."""
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def make_callers(core: Core) -> Callers:
    """A plain user, a staff member (no superuser) and a victim; a record of each kind."""
    made: dict[str, User] = {}
    for name in ("user", "staff", "victim"):
        made[name] = await core.users.register(
            username=fresh(name),
            email=f"{fresh(name)}@example.com",
            password=PASSWORD,
            is_staff=name == "staff",
        )
    staff, victim = made["staff"], made["victim"]
    town = await core.directory.towns.create(staff, fresh("town"))
    group = await core.directory.groups.create_group(staff, fresh("group"))
    permission = await core.directory.groups.create_permission(staff, fresh("p"), fresh("p"))
    ids = {
        "users": victim.id,
        "user": victim.id,
        "towns": town.id,
        "groups": group.id,
        "permissions": permission.id,
    }
    return Callers(made["user"], staff, victim, ids)


async def renew_credentials(
    client: httpx.AsyncClient, core: Core, callers: Callers, identity: str
) -> None:
    """An opaque token (issued by the core, no password hashed) and a /u/api/ access token."""
    user = callers.of(identity)
    callers.tokens[identity] = await core.tokens.issue(user)
    login = await client.post(
        f"{COOKIE_JWT}login/", json={"email": user.email, "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    callers.jwts[identity] = login.json()["access_token"]


def credentials(path: str, identity: str, callers: Callers) -> dict[str, str]:
    if identity == "anonymous":
        return {}
    if path.startswith(COOKIE_JWT):
        return {"Authorization": f"Bearer {callers.jwts[identity]}"}
    return {"Authorization": f"Token {callers.tokens[identity]}"}


# the table, from the OpenAPI document


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    found: dict[str, Any] = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return found


def _is_list(schema: dict[str, Any]) -> bool:
    options = [schema, *schema.get("anyOf", [])]
    return any(option.get("type") == "array" for option in options)


def _filler(name: str, schema: dict[str, Any], body: str, callers: Callers) -> object:
    """An ordinary value for a field that is not the one under attack."""
    if _is_list(schema):
        return []
    if "password" in name:
        return "Fresh-Horse-Battery-7" if name.startswith(("new", "re_new")) else WRONG_PASSWORD
    if name == "email":
        return callers.user.email if body in LOGINS else f"{fresh('e')}@example.com"
    if name in ("username", "new_username"):
        return callers.user.username if body in LOGINS else fresh("n")
    return fresh("v")


def _concrete(path: str, callers: Callers) -> str:
    """The path with its `{id}` naming an existing record of its kind."""
    kind = re.search(r"/(\w+)/\{id\}", path)
    return path.replace("{id}", str(callers.ids[kind.group(1)])) if kind else path


def _query_names(operation: dict[str, Any], document: dict[str, Any]) -> dict[str, bool]:
    """An operation's query filters, each with whether it is documented: those it documents,
    and (for a listing) the fields of what it lists, as filters are often named."""
    names = {p["name"]: True for p in operation.get("parameters", []) if p["in"] == "query"}
    listed = operation.get("responses", {}).get("200", {}).get("content", {})
    schema = listed.get("application/json", {}).get("schema", {})
    if schema.get("type") == "array":
        for name in _resolve(schema["items"], document).get("properties", {}):
            names.setdefault(name, False)
    return names


@dataclass(frozen=True)
class ApiOperation:
    """One method of one path of the document, and the fields it reads."""

    method: str
    template: str
    public: bool
    body: str  # the name of its request body's schema ("" for none)
    fields: dict[str, Any]
    queries: dict[str, bool]

    def case(self, identity: str, where: str, name: str, value: object, declared: bool) -> Case:
        return Case(identity, self.method, self.template, where, name, value, self.public, declared)

    def cases(
        self, identity: str, value: object, callers: Callers
    ) -> Iterator[tuple[Case, str, Any]]:
        """(case, path to request, JSON body or None) for `value` in each of its fields."""
        path = _concrete(self.template, callers)
        filled = {n: _filler(n, s, self.body, callers) for n, s in self.fields.items()}
        for name, schema in self.fields.items():
            for sent in [value, [value]] if _is_list(schema) else [value]:
                yield self.case(identity, "body", name, sent, True), path, filled | {name: sent}
        if not self.fields:  # some read a body all the same
            yield self.case(identity, "body", "unknown", value, False), path, {"unknown": value}
        body = filled if self.body else None
        if "{id}" in self.template:
            hostile = self.template.replace("{id}", wire(value))
            yield self.case(identity, "path", "id", value, True), hostile, body
        for name, documented in sorted(self.queries.items()):
            query = f"{path}?{name}={wire(value)}"
            yield self.case(identity, "query", name, value, documented), query, body


def api_operations(document: dict[str, Any]) -> Iterator[ApiOperation]:
    for template, item in document["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            yield ApiOperation(
                method,
                template,
                public="security" not in operation,
                body=schema["$ref"].rsplit("/", 1)[1] if schema else "",
                fields=_resolve(schema, document).get("properties", {}) if schema else {},
                queries=_query_names(operation, document),
            )


def api_cases(document: dict[str, Any], callers: Callers) -> Iterator[tuple[Case, str, Any]]:
    """(case, path to request, JSON body or None) for every operation, field and value."""
    for operation in api_operations(document):
        identities = ("anonymous",) if operation.public else IDENTITIES
        for identity, value in itertools.product(identities, HOSTILE.values()):
            yield from operation.cases(identity, value, callers)


# error shapes and verdicts


def shape_problem(path: str, response: httpx.Response) -> str | None:
    """What is wrong with an error answer's shape for its dialect, if anything."""
    status, kind = response.status_code, response.headers.get("content-type", "")
    if status == 404 and kind.startswith("text/plain"):
        return None  # a path no route matches: the web server's plain Not Found
    if path.startswith(ADMIN):
        return None if kind.startswith("text/html") else f"not an admin page: {kind}"
    try:
        body: Any = response.json()
    except ValueError:
        return "not JSON"
    if path.startswith(ENVELOPE):
        result: Any = body.get("result") if isinstance(body, dict) else None
        good = isinstance(result, dict) and body.get("data") == {}
        good = good and result.get("status") == status and isinstance(result.get("message"), str)
        return None if good else "not an envelope"
    if path.startswith(COOKIE_JWT):
        good = isinstance(body, dict) and isinstance(body.get("detail"), str)
        return None if good else "not a /u/api/ detail"
    if isinstance(body, list):  # Djoser's "Unable to create account."
        return None if all(isinstance(m, str) for m in body) else "not DRF's error list"
    if not isinstance(body, dict) or not body:
        return "not DRF's error object"
    for value in body.values():
        messages = value if isinstance(value, list) else [value]
        if not all(isinstance(m, str | dict) for m in messages):
            return "not DRF's field errors"
    return None


def judge(case: Case, response: httpx.Response) -> str | None:
    """The failure of one answer, if any."""
    status = response.status_code
    if status >= 500:
        return f"{status}: {response.text[:200]}"
    if status >= 400 and (problem := shape_problem(case.path, response)):
        return f"{status} {problem}: {response.text[:200]}"
    unstorable = case.value == NUL or (case.value == SURROGATE and case.where in WHOLE_TEXT)
    if not (unstorable and case.declared):
        return None
    # The admin answers a form it took with See Other.
    if 200 <= status < 300 or (case.where == "form" and status == 303):
        return f"{status}: accepted unstorable text"
    if case.public and case.where == "body" and status != 400:
        return f"{status} where 400 was due: {response.text[:200]}"
    return None


# the admin, crawled


class AdminPage(HTMLParser):
    """The forms (method, action, fields with the values a browser would send) and links of an
    admin page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, dict[str, str]]] = []
        self.links: list[str] = []
        self._select: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((found.get("method", "get").upper(), found.get("action", ""), {}))
        elif tag in ("input", "select", "textarea") and self.forms and "name" in found:
            self.forms[-1][2].setdefault(found["name"], found.get("value", ""))
            self._select = found["name"] if tag == "select" else None
        elif tag == "option" and self.forms and self._select is not None:
            self.forms[-1][2][self._select] = found.get("value", "")  # its first option
            self._select = None
        elif tag == "a" and found.get("href", "").startswith(ADMIN.rstrip("/")):
            self.links.append(found["href"])

    def targets(self) -> list[tuple[str, str, dict[str, str]]]:
        """(method, action, fields) of its forms (but logging out) and of its links' queries."""
        found = [(m, a, f) for m, a, f in self.forms if not a.endswith("/logout")]
        for link in self.links:
            parts = urlsplit(link)
            if parts.query:
                query = dict(parse_qsl(parts.query, keep_blank_values=True))
                found.append(("GET", parts.path, query))
        return found


def _kind_of(link: str) -> str:
    """A page's path with its ids as `{id}`, and the names of its query's parameters."""
    parts = urlsplit(link)
    names = sorted(name for name, _ in parse_qsl(parts.query, keep_blank_values=True))
    return re.sub(r"/\d+", "/{id}", parts.path) + (f"?{'&'.join(names)}" if names else "")


async def admin_login(client: httpx.AsyncClient, user: User) -> None:
    form = AdminPage((await client.get(f"{ADMIN}login")).text).forms[0][2]
    answer = await client.post(
        f"{ADMIN}login", data=form | {"username": user.username, "password": PASSWORD}
    )
    assert answer.status_code == 303, answer.text


async def crawl(client: httpx.AsyncClient, callers: Callers) -> dict[str, AdminPage]:
    """One page of each kind staff reach from the users list and the victim's page (their
    own page is left alone: its forms would end their session)."""
    pages: dict[str, AdminPage] = {}
    waiting = [f"{ADMIN}users", f"{ADMIN}users/{callers.victim.id}"]
    while waiting:
        link = waiting.pop()
        kind = _kind_of(link)
        if kind in pages or urlsplit(link).path == f"{ADMIN}users/{callers.staff.id}":
            continue
        answer = await client.get(link)
        if answer.status_code == 200 and "text/html" in answer.headers["content-type"]:
            pages[kind] = AdminPage(answer.text)
            waiting += pages[kind].links
    return pages


async def submit(
    client: httpx.AsyncClient, method: str, action: str, fields: dict[str, str]
) -> httpx.Response:
    encoded = "&".join(f"{wire(k)}={wire(v)}" for k, v in fields.items())
    if method == "GET":
        return await client.get(f"{action}?{encoded}")
    form = {"content-type": "application/x-www-form-urlencoded"}
    return await client.post(action, content=encoded.encode(), headers=form)


async def admin_cases(
    client: httpx.AsyncClient, callers: Callers
) -> AsyncIterator[tuple[Case, httpx.Response]]:
    """Every field of every admin form and link, and every id of its paths, as staff; then
    the login form's fields, anonymously."""
    await admin_login(client, callers.staff)
    pages = await crawl(client, callers)
    assert {f"{ADMIN}users", f"{ADMIN}users/{{id}}", f"{ADMIN}audit"} <= set(pages), pages
    for kind, page in sorted(pages.items()):
        for (method, action, fields), value in itertools.product(page.targets(), HOSTILE.values()):
            where = "query" if method == "GET" else "form"
            for name in fields.keys() - {"csrf_token"}:
                response = await submit(client, method, action, fields | {name: str(value)})
                yield Case("staff", method, action, where, name, value, False, True), response
        if "{id}" in kind:
            for value in HOSTILE.values():
                response = await client.get(kind.split("?")[0].replace("{id}", wire(value)))
                yield Case("staff", "GET", kind, "path", "id", value, False, True), response
    client.cookies.clear()
    login = f"{ADMIN}login"
    for value, name in itertools.product(HOSTILE.values(), ("username", "password")):
        form = AdminPage((await client.get(login)).text).forms[0][2]
        form |= {"username": callers.user.username, "password": WRONG_PASSWORD, name: str(value)}
        response = await submit(client, "POST", login, form)
        yield Case("anonymous", "POST", login, "form", name, value, True, True), response


# the test


async def attack(database_url: str) -> list[str]:
    """Every case of the table; the failures."""
    failures: list[str] = []
    async with running(database_url) as (app, core), client_of(app) as client:
        callers = await make_callers(core)
        for identity in ("user", "staff"):
            await renew_credentials(client, core, callers, identity)
        document = (await client.get("/openapi.json")).json()
        for case, path, body in api_cases(document, callers):
            content = None if body is None else json.dumps(body).encode()
            kind = {} if body is None else {"content-type": "application/json"}
            for attempt in (1, 2):
                headers = credentials(case.path, case.identity, callers) | kind
                response = await client.request(case.method, path, content=content, headers=headers)
                if attempt == 2 or response.status_code != 401 or case.identity == "anonymous":
                    break
                # A logout, or a password change, ended the caller's credentials: new ones.
                await renew_credentials(client, core, callers, case.identity)
            if problem := judge(case, response):
                failures.append(f"{case.describe()}: {problem}")
        async with client_of(app) as browser:
            async for case, response in admin_cases(browser, callers):
                if problem := judge(case, response):
                    failures.append(f"{case.describe()}: {problem}")
    return failures


def test_no_hostile_string_or_number_in_any_field_makes_a_5xx(
    database_url: str, session_log: SessionLog
) -> None:
    seen = len(session_log.records)
    failures = asyncio.run(attack(database_url))
    errors = [
        f"{r.name}: {r.getMessage()[:200]}"
        for r in session_log.records[seen:]
        if r.name.startswith("authgate") and (r.levelno >= logging.ERROR or r.exc_info)
    ]
    assert not failures, f"{len(failures)} bad answers:\n" + "\n".join(failures[:60])
    assert not errors, "errors logged:\n" + "\n".join(errors[:20])
