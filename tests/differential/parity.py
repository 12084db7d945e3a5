"""Sending one request to both stacks and comparing what they answer, normalised.

What legitimately differs is normalised before comparing: opaque tokens (random on each
side) are compared by shape, and so are the token halves of emailed links. User ids are
compared through the user they were issued to: each side remembers which username each id
was registered for, so a difference in id allocation (test_user_ids_are_never_reused) shows
up once, not in every later answer. Everything else must be equal: the status, the JSON body
(values and key order; each side must also render it compactly, as DRF does), and the
headers a client acts on: `WWW-Authenticate` on a 401; `Allow`, `Vary`, `Content-Language`
and the media type on every answer. JWTs (`refresh`, `access`) are compared by shape too:
header, claim names, type, lifetime and user (jwt_shape).
"""

from __future__ import annotations

import base64
import re
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from json import dumps, loads
from typing import Any

import httpx
from bench.reference.env import server_log

from tests.support import Mailbox

TOKEN = re.compile(r"[0-9a-f]{40}")
"""DRF's authtoken key and authgate's opaque token: 40 lowercase hex."""
JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
JWT_KEYS = ("refresh", "access")
JWT_EXTRA_CLAIMS = frozenset({"ver", "sid"})
"""authgate's claims beyond SimpleJWT's (the per-user generation and the login's id, CONTRACT
7.8), left out of the shape and asserted in tests/differential/test_simplejwt_parity.py."""
LINK = re.compile(r"https?://[^/\s]+(/\S*)/([A-Za-z0-9_-]+)/([0-9a-z]+-[0-9a-f]+)\s")
"""A link in an email: its path up to `/<uid>/<token>`, the uid and the token."""
LINK_TOKEN = re.compile(r"[0-9a-z]{1,13}-[0-9a-f]{32}")
"""Django's default_token_generator shape: base36 timestamp, a dash, 32 hex."""
PASSWORD = "Correct-Horse-9"


@dataclass(frozen=True)
class Side:
    """One server under test: a client for it and the mailbox its emails land in."""

    name: str
    http: httpx.Client
    mailbox: Mailbox
    ids: dict[int, str] = field(default_factory=dict)
    """Which username each user id was registered for."""

    def learn_ids(self, method: str, path: str, response: httpx.Response) -> None:
        """Remember the id of a user this request registered."""
        if method == "POST" and path.endswith("/users/") and response.status_code == 201:
            created = response.json()
            self.ids[created["id"]] = created["username"]

    def ids_of(self, username: str) -> int:
        """The id this side gave the user registered as `username`."""
        return next(user_id for user_id, name in self.ids.items() if name == username)

    def label(self, user_id: object) -> object:
        """A user id as the user it belongs to (unknown ids stay as they are)."""
        if isinstance(user_id, int) and user_id in self.ids:
            return f"<id of {self.ids[user_id]}>"
        return user_id

    def uid_label(self, uid: str) -> object:
        """The uid of an emailed link (base64 of the id) as the user it belongs to."""
        user_id = base64.urlsafe_b64decode(uid + "=" * (-len(uid) % 4)).decode()
        return self.label(int(user_id))


@dataclass(frozen=True)
class Pair:
    """The reference stack and authgate, configured alike, over empty databases."""

    reference: Side
    authgate: Side
    process: subprocess.Popen[Any]

    @property
    def sides(self) -> tuple[Side, Side]:
        """Both sides, reference first."""
        return self.reference, self.authgate

    def reference_log(self) -> str:
        """What gunicorn printed (5xx tracebacks), for failure messages."""
        return server_log(self.process)


class Each(dict[str, Any]):
    """A request value that differs per side, keyed by side name: a path with a user id, a
    body with the token each side mailed."""


def _for(value: Any, side: Side) -> Any:
    """The value to send to `side`."""
    return value[side.name] if isinstance(value, Each) else value


@dataclass
class Person:
    """A user registered on both sides, with each side's id and token."""

    username: str
    password: str = PASSWORD
    email: str = ""
    ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def authorization(self, side: Side) -> dict[str, str]:
        """The Authorization header of this person on `side`."""
        return {"Authorization": f"Token {self.tokens[side.name]}"}

    def url(self, prefix: str = "/auth/users/") -> Each:
        """users/<id>/ of this person, on each side."""
        return Each({side: f"{prefix}{user_id}/" for side, user_id in self.ids.items()})


@dataclass(frozen=True)
class Exchange:
    """The two answers to one request."""

    reference: httpx.Response
    authgate: httpx.Response

    def statuses(self) -> tuple[int, int]:
        """(reference status, authgate status)."""
        return self.reference.status_code, self.authgate.status_code


def _normalise(data: Any, side: Side) -> Any:
    """Random values replaced by their shape and ids by their user, so equal shapes compare
    equal."""
    if isinstance(data, dict):
        since = _pair_moment(data)
        return {key: _normalise_item(key, value, side, since) for key, value in data.items()}
    if isinstance(data, list):
        return [_normalise(item, side) for item in data]
    return data


def _pair_moment(data: dict[str, Any]) -> int | None:
    """The `iat` of a pair's refresh token (a body with `refresh` and `access` JWTs), from which
    the pair's access token lifetime is counted. SimpleJWT sets that token's `exp` from the
    refresh token's creation time but its `iat` from its own, a moment later: when a second
    ticks in between, its `exp - iat` is 299 for a lifetime of 300. Counted from the pair's
    moment, it is exactly the lifetime on both sides."""
    refresh, access = data.get("refresh"), data.get("access")
    if not (isinstance(refresh, str) and isinstance(access, str)):
        return None
    if not (JWT.fullmatch(refresh) and JWT.fullmatch(access)):
        return None
    try:
        iat = jwt_parts(refresh)[1].get("iat")
    except ValueError:
        return None
    return iat if isinstance(iat, int) else None


def _normalise_item(key: str, value: Any, side: Side, since: int | None = None) -> Any:
    if key == "auth_token" and isinstance(value, str) and TOKEN.fullmatch(value):
        return "<40-hex token>"
    if key == "id":
        return side.label(value)
    if key in JWT_KEYS and isinstance(value, str) and JWT.fullmatch(value):
        return jwt_shape(value, side, since=since if key == "access" else None)
    return _normalise(value, side)


def _compact(data: Any) -> bytes:
    """JSON as DRF's JSONRenderer writes it: no spaces, UTF-8 unescaped."""
    return dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def view(response: httpx.Response, side: Side) -> dict[str, object]:
    """What must match of an answer. The body is re-serialised after normalisation, so key
    order counts (Djoser's create and me answers order their keys differently)."""
    seen: dict[str, object] = {"status": response.status_code}
    if response.content:
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        seen["content-type"] = media_type
        try:
            data = response.json()
        except ValueError:
            seen["body"] = response.text[:300]
        else:
            seen["body"] = dumps(_normalise(data, side), ensure_ascii=False)
            seen["rendered as DRF does"] = response.content == _compact(data)
    else:
        seen["body"] = ""
    if response.status_code == 401:
        seen["www-authenticate"] = response.headers.get("www-authenticate")
    for header in ("allow", "vary", "content-language"):
        seen[header] = response.headers.get(header)
    return seen


class Parity:
    """Sends each request to both sides and collects every mismatch, so one run reports all
    of them rather than the first; leaving `Parity.session` fails on any."""

    def __init__(self, pair: Pair) -> None:
        self.pair = pair
        self.mismatches: list[str] = []

    @classmethod
    @contextmanager
    def session(cls, pair: Pair) -> Iterator[Parity]:
        """A Parity that fails the test at the end if anything differed."""
        parity = cls(pair)
        try:
            yield parity
        except Exception as error:
            # A step that must succeed failed: still report what differed before it.
            if parity.mismatches:
                error.add_note(parity.report())
            raise
        parity.verify()

    def send(
        self,
        method: str,
        path: str | Each,
        *,
        user: Person | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        **kwargs: Any,
    ) -> Exchange:
        """The same request to both sides (`path`, `json` and the other arguments of httpx's
        request, e.g. `data`, may be given per side with `Each`); `user` adds that user's token
        on each side."""
        answers = []
        for side in self.pair.sides:
            sent = dict(headers or {})
            if user is not None:
                sent |= user.authorization(side)
            url = _for(path, side)
            body = _for(json, side)
            extra = {name: _for(value, side) for name, value in kwargs.items()}
            answer = side.http.request(method, url, headers=sent, json=body, **extra)
            side.learn_ids(method, url, answer)
            answers.append(answer)
        return Exchange(*answers)

    def same(self, label: str, method: str, path: str | Each, **kwargs: Any) -> Exchange:
        """Send to both and record a mismatch if the answers differ."""
        exchange = self.send(method, path, **kwargs)
        self.compare(f"{label}: {method} {_for(path, self.pair.reference)}", exchange)
        return exchange

    def compare(self, label: str, exchange: Exchange) -> None:
        """Record a mismatch between the two answers of `exchange`."""
        reference = view(exchange.reference, self.pair.reference)
        authgate = view(exchange.authgate, self.pair.authgate)
        if reference != authgate:
            message = f"{label}\n  reference: {reference}\n  authgate:  {authgate}"
            if exchange.reference.status_code >= 500:
                message += "\n" + self.pair.reference_log()[-3000:]
            self.mismatches.append(message)

    def expect(self, label: str, condition: bool, detail: object = "") -> None:
        """Record a failed expectation (for what is compared by shape, e.g. emailed links)."""
        if not condition:
            self.mismatches.append(f"{label}: {detail}")

    def report(self) -> str:
        """Every mismatch recorded so far."""
        count = len(self.mismatches)
        return f"{count} mismatch(es):\n\n" + "\n\n".join(self.mismatches)

    def verify(self) -> None:
        """Fail with every mismatch recorded so far."""
        if self.mismatches:
            raise AssertionError(self.report())

    # Steps a scenario builds on: each must succeed on both sides alike, or the test stops.

    def register(self, person: Person) -> Person:
        """Register `person` on both sides; both must answer 201 with the same body."""
        body = {"username": person.username, "password": person.password}
        if person.email:
            body["email"] = person.email
        exchange = self.send("POST", "/auth/users/", json=body)
        assert exchange.statuses() == (201, 201), (exchange.reference.text, exchange.authgate.text)
        self.compare(f"register {person.username}", exchange)
        self.verify()
        person.ids = {
            "reference": exchange.reference.json()["id"],
            "authgate": exchange.authgate.json()["id"],
        }
        return person

    def login(self, person: Person) -> Person:
        """Log `person` in on both sides and keep each side's token."""
        body = {"username": person.username, "password": person.password}
        exchange = self.send("POST", "/auth/token/login/", json=body)
        assert exchange.statuses() == (200, 200), (exchange.reference.text, exchange.authgate.text)
        self.compare(f"log {person.username} in", exchange)
        person.tokens = {
            "reference": exchange.reference.json()["auth_token"],
            "authgate": exchange.authgate.json()["auth_token"],
        }
        return person

    def mail_links(self, to: str, *, count: int) -> tuple[Each, Each]:
        """(uids, tokens), per side, of the link in the `count`-th email to `to`: the links'
        paths must be equal, their uids name the same user, their tokens have Django's shape."""
        paths, uids, tokens = Each(), Each(), Each()
        for side in self.pair.sides:
            messages = side.mailbox.wait_for(to, count=count)
            assert len(messages) >= count, f"{side.name} sent {len(messages)} mails to {to}"
            paths[side.name], uids[side.name], tokens[side.name] = link_of(messages[count - 1])
        reference, authgate = self.pair.sides
        self.expect(f"path of the link to {to}", len(set(paths.values())) == 1, paths)
        self.expect(
            f"uid of the link to {to}",
            reference.uid_label(uids["reference"]) == authgate.uid_label(uids["authgate"]),
            uids,
        )
        self.expect(
            f"token shape of the link to {to}",
            all(LINK_TOKEN.fullmatch(token) for token in tokens.values()),
            tokens,
        )
        return uids, tokens

    def mail_count(self, to: str) -> tuple[int, int]:
        """How many emails each side has sent to `to` so far."""
        reference, authgate = self.pair.sides
        return (
            len([m for m in reference.mailbox.messages if m["To"] == to]),
            len([m for m in authgate.mailbox.messages if m["To"] == to]),
        )


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, claims) of a JWT, unverified."""

    def part(text: str) -> dict[str, Any]:
        decoded: dict[str, Any] = loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        return decoded

    header, claims, _ = token.split(".")
    return part(header), part(claims)


def jwt_shape(token: str, side: Side, *, since: int | None = None) -> str:
    """A JWT by what must match: its header, its claim names in order, its type, lifetime
    (from `since` when given, else from its `iat`), user and the shape of its id (the values
    of `exp`, `iat`, `jti` and the signature differ on each side)."""
    try:
        header, claims = jwt_parts(token)
    except ValueError:
        return f"<undecodable JWT {token[:20]}...>"
    user_id = claims.get("user_id")
    user = side.label(int(user_id)) if isinstance(user_id, str) and user_id.isdigit() else user_id
    shape = {
        "header": header,
        "claims": [name for name in claims if name not in JWT_EXTRA_CLAIMS],
        "token_type": claims.get("token_type"),
        "lifetime": claims.get("exp", 0) - (claims.get("iat", 0) if since is None else since),
        "user_id": user,
        "jti is 32 hex": bool(re.fullmatch(r"[0-9a-f]{32}", str(claims.get("jti")))),
    }
    return f"<JWT {dumps(shape)}>"


def uid_of(user_id: int) -> str:
    """The uid Djoser puts in links: urlsafe base64 of the id, unpadded."""
    return base64.urlsafe_b64encode(str(user_id).encode()).decode().rstrip("=")


def text_of(message: Message) -> str:
    """The plain-text part of an email (Djoser sends text and HTML alternatives)."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"no text part in {message['Subject']!r}")


def link_of(message: Message) -> tuple[str, str, str]:
    """(path, uid, token) of the link in an activation or reset email; the path is the part
    before the uid (the host differs by design: CONTRACT 7.7)."""
    match = LINK.search(text_of(message) + "\n")
    assert match, text_of(message)
    return match.group(1), match.group(2), match.group(3)
