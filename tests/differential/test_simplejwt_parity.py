"""The SimpleJWT dialect (`/auth/jwt/*`) against the real SimpleJWT 5.5 behind Djoser's
`djoser.urls.jwt` (bench/reference/).

The same requests go to both, and the answers must match as in test_djoser_parity.py: status,
JSON body (key order included), `WWW-Authenticate`, `Allow`, `Vary`, `Content-Language`. JWTs
are compared by shape (parity.jwt_shape): header, claim names in order, `token_type`,
lifetime, the user of `user_id` and a 32-hex `jti`; never by value (each side signs with its
own key and clock).

Two pairs of servers: SimpleJWT's defaults (no rotation), and rotation with the blacklist
(`ROTATE_REFRESH_TOKENS` and `BLACKLIST_AFTER_ROTATION`, via REFERENCE_SIMPLE_JWT_JSON) with
activation emails on, so that inactive accounts exist.

Where authgate deliberately differs, answers are NOT compared; the tests after the parity
tests assert each side's own behaviour instead:

| case                                         | reference (SimpleJWT 5.5) | authgate             |
|----------------------------------------------|---------------------------|----------------------|
| verify/ a token of a password-changed user   | 200 `{}`                  | 401 token_not_valid  |
| verify/ a token of a deleted user            | 200 `{}`                  | 401 token_not_valid  |
| verify/ a token of an inactive user          | 200 `{}`                  | 401 token_not_valid  |
| refresh/ a token of a password-changed user  | 200, a new access token   | 401 no active account|
| refresh/ a token of a deleted user           | 500 (User.DoesNotExist)   | 401 no active account|
| a reused rotated refresh token (CONTRACT 7.8)| 401 token_not_valid       | 401 token_reused;    |
|                                              | "Token is blacklisted";   | that login's tokens  |
|                                              | the rotated one lives     | end, others live     |
| create/ as `JWT-MO` for `jwt-mo` (G1)        | 401                       | 200                  |
| BLACKLIST_AFTER_ROTATION default             | False                     | True                 |
| the `ver` claim (per-user generation)        | absent                    | an integer           |
| the `sid` claim (the login's id)             | absent                    | 32 hex digits        |
| Accept-Language: ru, SimpleJWT's own messages| English (app not          | Russian where its    |
|                                              | installed, see below)     | ru_RU catalogue has  |

The blacklist default is configuration, not wire behaviour: the rotation pair sets both sides
alike, and test_blacklist_after_rotation_is_on_by_default checks authgate's default. Not
compared either, and not replicated: djoser.urls.jwt's patterns are unanchored
(`^jwt/create/?`), so the reference also answers `/auth/jwt/createfoo` and
`/auth/jwt/create//` as create/; authgate answers only the path with and without its slash.

The Russian case: SimpleJWT ships a
ru_RU catalogue, used only when `rest_framework_simplejwt` is in INSTALLED_APPS, which Djoser's
setup (and the reference) leaves out. authgate answers as a project that installs it: Russian
for "No active account found with the given credentials", "Token has wrong type" and "Token
is blacklisted"; English for the catalogue's fuzzy (uncompiled) "Token is invalid", "Token is
expired" and "No active account found for the given token.". DRF's own field errors are
translated on both sides and compared.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest

from authgate.settings import Settings
from tests.conftest import TEST_SECRET
from tests.differential.conftest import REFERENCE_SECRET
from tests.differential.parity import PASSWORD, Each, Exchange, Pair, Parity, Person, jwt_parts
from tests.differential.test_djoser_parity import multipart

pytestmark = [pytest.mark.reference, pytest.mark.slow]

CREATE, REFRESH, VERIFY = "/auth/jwt/create/", "/auth/jwt/refresh/", "/auth/jwt/verify/"
KEYS = {"reference": REFERENCE_SECRET, "authgate": TEST_SECRET}
RU = {"Accept-Language": "ru"}
JSON = {"Content-Type": "application/json"}
TEXT = {"Content-Type": "text/plain"}
XML = {"Accept": "application/xml"}
GARBAGE = "not-a-token"
HOUR = 3600
INTEGER_USER_ID = "user_id as an integer (SimpleJWT < 5.5.1)"


def credentials(person: Person) -> dict[str, str]:
    """The body of create/ for `person`."""
    return {"username": person.username, "password": person.password}


def tokens(exchange: Exchange, key: str) -> Each:
    """The `key` token ("refresh"/"access") each side answered; both must have answered 200."""
    assert exchange.statuses() == (200, 200), (exchange.reference.text, exchange.authgate.text)
    return Each(
        {"reference": exchange.reference.json()[key], "authgate": exchange.authgate.json()[key]}
    )


def body(field: str, values: Each) -> Each:
    """`{field: value}` with each side's value."""
    return Each({side: {field: value} for side, value in values.items()})


def tampered(token: str) -> str:
    """`token` with its signature changed (its first character, which carries 6 full bits)."""
    head, payload, signature = token.split(".")
    first = "A" if signature[0] != "A" else "B"
    return f"{head}.{payload}.{first}{signature[1:]}"


def minted(
    person: Person,
    kind: str,
    /,
    *,
    expires_in: int,
    algorithm: str = "HS256",
    integer_user_id: bool = False,
    **changes: object,
) -> Each:
    """A token of `person` each side signs with its own key, as SimpleJWT writes it (no `ver`:
    generation 0 for authgate) of type `kind`, expiring `expires_in` seconds from now;
    `changes` replace claims (None drops one)."""
    now = int(time.time())
    result = Each()
    for side, key in KEYS.items():
        claims: dict[str, Any] = {
            "token_type": kind,
            "exp": now + expires_in,
            "iat": now - 2 * HOUR,
            "jti": uuid.uuid4().hex,
            "user_id": person.ids[side] if integer_user_id else str(person.ids[side]),
        }
        claims |= changes
        claims = {name: value for name, value in claims.items() if value is not None}
        result[side] = jwt.encode(claims, key, algorithm=algorithm)
    return result


def odd_tokens(person: Person, token_type: str) -> dict[str, Each]:
    """Tokens of `person`, authentic but each missing something or odd in one way."""
    return {
        "a blank token_type": minted(person, "", expires_in=HOUR),
        "no token_type": minted(person, token_type, expires_in=HOUR, token_type=None),
        "no jti": minted(person, token_type, expires_in=HOUR, jti=None),
        "no exp": minted(person, token_type, expires_in=HOUR, exp=None),
        INTEGER_USER_ID: minted(person, token_type, expires_in=HOUR, integer_user_id=True),
        "signed with HS384": minted(person, token_type, expires_in=HOUR, algorithm="HS384"),
    }


def activate(p: Parity, person: Person) -> Person:
    """Register `person` (with an email) and follow the activation link on each side."""
    p.register(person)
    uids, link_tokens = p.mail_links(person.email, count=1)
    sent = Each({side: {"uid": uids[side], "token": link_tokens[side]} for side in uids})
    exchange = p.send("POST", "/auth/users/activation/", json=sent)
    assert exchange.statuses() == (204, 204), (exchange.reference.text, exchange.authgate.text)
    return person


def answer(response: httpx.Response) -> tuple[int, object]:
    """(status, JSON body) of one side's answer."""
    return response.status_code, response.json() if response.content else None


# Defaults (no rotation), compared


CREATE_ERRORS: dict[str, object] = {
    "wrong password": {"username": "jwt-ada", "password": "Wrong-Horse-1"},
    "unknown user": {"username": "nobody-here", "password": PASSWORD},
    "empty object": {},
    "no password": {"username": "jwt-ada"},
    "no username": {"password": PASSWORD},
    "blank": {"username": "", "password": ""},
    "whitespace only": {"username": "  ", "password": "   "},
    "null": {"username": None, "password": None},
    "not strings": {"username": 5, "password": ["x"]},
    "a list": [{"username": "jwt-ada", "password": PASSWORD}],
    "a string": "jwt-ada",
}


def test_create(pair: Pair) -> None:
    with Parity.session(pair) as p:
        ada = p.register(Person("jwt-ada"))
        form, form_headers = multipart(credentials(ada))
        p.same("ok", "POST", CREATE, json=credentials(ada))
        p.same("ok, as a form", "POST", CREATE, data=credentials(ada))
        p.same(
            "ok, password with spaces around",
            "POST",
            CREATE,
            json=credentials(ada) | {"password": f" {PASSWORD} "},
        )
        p.same(
            "ok, a stale Authorization header",
            "POST",
            CREATE,
            json=credentials(ada),
            headers={"Authorization": f"Bearer {GARBAGE}"},
        )
        p.same("ok, without the trailing slash", "POST", CREATE.rstrip("/"), json=credentials(ada))
        for label, sent in CREATE_ERRORS.items():
            p.same(label, "POST", CREATE, json=sent)
        p.same("form, no password", "POST", CREATE, data={"username": "jwt-ada"})
        p.same("blank, in Russian", "POST", CREATE, json=CREATE_ERRORS["blank"], headers=RU)
        p.same("ok, multipart", "POST", CREATE, content=form, headers=form_headers)
        p.same("Accept: application/xml", "POST", CREATE, json=credentials(ada), headers=XML)
        p.same("malformed JSON", "POST", CREATE, content=b"{", headers=JSON)
        p.same("text/plain", "POST", CREATE, content=b"x", headers=TEXT)
        p.same("GET", "GET", CREATE)
        p.same("HEAD", "HEAD", CREATE)
        p.same("PUT", "PUT", CREATE, json={})
        p.same("GET, in Russian", "GET", CREATE, headers=RU)
        p.same("OPTIONS", "OPTIONS", CREATE)
        p.same("OPTIONS, in Russian", "OPTIONS", CREATE, headers=RU)


def test_refresh(pair: Pair) -> None:
    with Parity.session(pair) as p:
        bea = p.register(Person("jwt-bea"))
        issued = p.send("POST", CREATE, json=credentials(bea))
        refresh, access = tokens(issued, "refresh"), tokens(issued, "access")
        p.same("ok: an access token only", "POST", REFRESH, json=body("refresh", refresh))
        p.same("ok, again: no rotation", "POST", REFRESH, json=body("refresh", refresh))
        p.same("ok, as a form", "POST", REFRESH, data=body("refresh", refresh))
        p.same(
            "ok, without the trailing slash",
            "POST",
            REFRESH.rstrip("/"),
            json=body("refresh", refresh),
        )
        p.same("an access token", "POST", REFRESH, json=body("refresh", access))
        p.same("garbage", "POST", REFRESH, json={"refresh": GARBAGE})
        p.same("garbage, in Russian", "POST", REFRESH, json={"refresh": GARBAGE}, headers=RU)
        p.same(
            "tampered signature",
            "POST",
            REFRESH,
            json=body("refresh", Each({s: tampered(t) for s, t in refresh.items()})),
        )
        p.same(
            "expired",
            "POST",
            REFRESH,
            json=body("refresh", minted(bea, "refresh", expires_in=-HOUR)),
        )
        p.same(
            "expired, in Russian",
            "POST",
            REFRESH,
            json=body("refresh", minted(bea, "refresh", expires_in=-HOUR)),
            headers=RU,
        )
        p.same(
            "minted as SimpleJWT writes it",
            "POST",
            REFRESH,
            json=body("refresh", minted(bea, "refresh", expires_in=HOUR)),
        )
        for label, token in odd_tokens(bea, "refresh").items():
            if label != INTEGER_USER_ID:  # test_refresh_copies_the_user_id_claim_as_it_is
                p.same(label, "POST", REFRESH, json=body("refresh", token))
        p.same(
            "the other side's token",
            "POST",
            REFRESH,
            json=body(
                "refresh",
                Each({"reference": refresh["authgate"], "authgate": refresh["reference"]}),
            ),
        )
        p.same("empty object", "POST", REFRESH, json={})
        p.same("blank", "POST", REFRESH, json={"refresh": ""})
        p.same("null", "POST", REFRESH, json={"refresh": None})
        p.same("empty object, in Russian", "POST", REFRESH, json={}, headers=RU)
        p.same("malformed JSON", "POST", REFRESH, content=b"{", headers=JSON)
        p.same("text/plain", "POST", REFRESH, content=b"x", headers=TEXT)
        p.same("GET", "GET", REFRESH)
        p.same("OPTIONS", "OPTIONS", REFRESH)


def test_verify(pair: Pair) -> None:
    with Parity.session(pair) as p:
        cleo = p.register(Person("jwt-cleo"))
        issued = p.send("POST", CREATE, json=credentials(cleo))
        refresh, access = tokens(issued, "refresh"), tokens(issued, "access")
        p.same("an access token", "POST", VERIFY, json=body("token", access))
        p.same("a refresh token", "POST", VERIFY, json=body("token", refresh))
        p.same("ok, as a form", "POST", VERIFY, data=body("token", access))
        p.same(
            "ok, without the trailing slash", "POST", VERIFY.rstrip("/"), json=body("token", access)
        )
        p.same(
            "a refreshed access token",
            "POST",
            VERIFY,
            json=body(
                "token", tokens(p.send("POST", REFRESH, json=body("refresh", refresh)), "access")
            ),
        )
        p.same("garbage", "POST", VERIFY, json={"token": GARBAGE})
        p.same("garbage, in Russian", "POST", VERIFY, json={"token": GARBAGE}, headers=RU)
        p.same(
            "tampered signature",
            "POST",
            VERIFY,
            json=body("token", Each({s: tampered(t) for s, t in access.items()})),
        )
        p.same(
            "expired", "POST", VERIFY, json=body("token", minted(cleo, "access", expires_in=-HOUR))
        )
        for label, token in odd_tokens(cleo, "access").items():
            p.same(label, "POST", VERIFY, json=body("token", token))
        p.same("empty object", "POST", VERIFY, json={})
        p.same("a number", "POST", VERIFY, json={"token": 123})
        p.same("Accept: application/xml", "POST", VERIFY, json={}, headers=XML)
        p.same("HEAD", "HEAD", VERIFY)
        p.same("blank", "POST", VERIFY, json={"token": ""})
        p.same("the refresh field", "POST", VERIFY, json=body("refresh", access))
        p.same("malformed JSON", "POST", VERIFY, content=b"{", headers=JSON)
        p.same("GET", "GET", VERIFY)
        p.same("PUT", "PUT", VERIFY, json={})
        p.same("OPTIONS", "OPTIONS", VERIFY)
        p.same("OPTIONS, in Russian", "OPTIONS", VERIFY, headers=RU)


# Rotation with the blacklist, compared


def test_rotation(rotation_pair: Pair) -> None:
    with Parity.session(rotation_pair) as p:
        dina = p.register(Person("jwt-dina", email="dina@example.com"))
        p.same("create: an inactive user", "POST", CREATE, json=credentials(dina))
        p.same(
            "refresh: a token of an inactive user",
            "POST",
            REFRESH,
            json=body("refresh", minted(dina, "refresh", expires_in=HOUR)),
        )
        eve = activate(p, Person("jwt-eve", email="eve@example.com"))
        issued = p.same("create", "POST", CREATE, json=credentials(eve))
        first = tokens(issued, "refresh")
        rotated = p.same("refresh: a rotated pair", "POST", REFRESH, json=body("refresh", first))
        second = tokens(rotated, "refresh")
        p.same("verify: the rotated refresh token", "POST", VERIFY, json=body("token", second))
        p.same(
            "verify: the new access token",
            "POST",
            VERIFY,
            json=body("token", tokens(rotated, "access")),
        )
        p.same("verify: the used refresh token", "POST", VERIFY, json=body("token", first))
        # Refreshing with the used one: test_reused_refresh_token_ends_its_login.


# Deliberate differences, asserted per side


def _issue(p: Parity, person: Person) -> tuple[Each, Each]:
    issued = p.send("POST", CREATE, json=credentials(person))
    return tokens(issued, "refresh"), tokens(issued, "access")


def test_tokens_carry_the_user_generation(pair: Pair) -> None:
    p = Parity(pair)
    refresh, access = _issue(p, p.register(Person("jwt-fay")))
    for token in (refresh, access):
        assert "ver" not in jwt_parts(token["reference"])[1]
        assert jwt_parts(token["authgate"])[1]["ver"] == 0
        assert "sid" not in jwt_parts(token["reference"])[1]
        assert re.fullmatch(r"[0-9a-f]{32}", jwt_parts(token["authgate"])[1]["sid"])


def test_username_is_matched_whatever_its_case(pair: Pair) -> None:
    """security.md G1, as for token/login/ (test_djoser_parity.py)."""
    p = Parity(pair)
    mo = p.register(Person("jwt-mo"))
    shouted = p.send("POST", CREATE, json=credentials(mo) | {"username": "JWT-MO"})
    assert shouted.statuses() == (401, 200)


def test_blacklist_after_rotation_is_on_by_default() -> None:
    """SimpleJWT's BLACKLIST_AFTER_ROTATION defaults to False: a used refresh token keeps
    working. authgate's rotation is single-use unless told otherwise."""
    assert Settings.model_fields["jwt_blacklist_after_rotation"].default is True
    assert Settings.model_fields["jwt_rotate_refresh_tokens"].default is False


def test_password_change_ends_the_users_jwts(pair: Pair) -> None:
    p = Parity(pair)
    gus = p.login(p.register(Person("jwt-gus")))
    refresh, access = _issue(p, gus)
    change = {"current_password": PASSWORD, "new_password": "Other-Horse-77"}
    assert p.send("POST", "/auth/users/set_password/", user=gus, json=change).statuses() == (
        204,
        204,
    )
    verified = p.send("POST", VERIFY, json=body("token", access))
    assert answer(verified.reference) == (200, {})
    assert answer(verified.authgate) == (
        401,
        {"detail": "Token is invalid", "code": "token_not_valid"},
    )
    assert verified.authgate.headers["www-authenticate"] == 'Bearer realm="api"'
    refreshed = p.send("POST", REFRESH, json=body("refresh", refresh))
    assert refreshed.reference.status_code == 200
    assert answer(refreshed.authgate) == (
        401,
        {"detail": "No active account found for the given token."},
    )


def test_tokens_of_a_deleted_user_end(pair: Pair) -> None:
    p = Parity(pair)
    hal = p.login(p.register(Person("jwt-hal")))
    refresh, access = _issue(p, hal)
    gone = p.send("DELETE", "/auth/users/me/", user=hal, json={"current_password": PASSWORD})
    assert gone.statuses() == (204, 204)
    verified = p.send("POST", VERIFY, json=body("token", access))
    assert answer(verified.reference) == (200, {})
    assert answer(verified.authgate) == (
        401,
        {"detail": "Token is invalid", "code": "token_not_valid"},
    )
    refreshed = p.send("POST", REFRESH, json=body("refresh", refresh))
    assert refreshed.reference.status_code == 500  # SimpleJWT 5.5.1: User.DoesNotExist
    assert answer(refreshed.authgate) == (
        401,
        {"detail": "No active account found for the given token."},
    )


def test_verify_refuses_tokens_of_inactive_users(rotation_pair: Pair) -> None:
    p = Parity(rotation_pair)
    ivy = p.register(Person("jwt-ivy", email="ivy@example.com"))
    verified = p.send("POST", VERIFY, json=body("token", minted(ivy, "access", expires_in=HOUR)))
    assert answer(verified.reference) == (200, {})
    assert answer(verified.authgate) == (
        401,
        {"detail": "Token is invalid", "code": "token_not_valid"},
    )


def test_reused_refresh_token_ends_its_login(rotation_pair: Pair) -> None:
    p = Parity(rotation_pair)
    jo = activate(p, Person("jwt-jo", email="jo@example.com"))
    first, _ = _issue(p, jo)
    _, other_access = _issue(p, jo)  # another device
    rotated = p.send("POST", REFRESH, json=body("refresh", first))
    second, access = tokens(rotated, "refresh"), tokens(rotated, "access")
    reused = p.send("POST", REFRESH, json=body("refresh", first))
    blacklisted = {"detail": "Token is blacklisted", "code": "token_not_valid"}
    assert answer(reused.reference) == (401, blacklisted)
    assert answer(reused.authgate) == (
        401,
        {
            "detail": "This refresh token was already used; the session it belonged to has"
            " been ended for safety. Please log in again.",
            "code": "token_reused",
        },
    )
    # The reference keeps the rotated token alive; authgate ends that login's tokens ...
    assert p.send("POST", REFRESH, json=body("refresh", second)).statuses() == (200, 401)
    assert p.send("POST", VERIFY, json=body("token", access)).statuses() == (200, 401)
    # ... and only those: the other device's login lives on both.
    assert p.send("POST", VERIFY, json=body("token", other_access)).statuses() == (200, 200)
    # Logging in again works on both.
    assert p.send("POST", CREATE, json=credentials(jo)).statuses() == (200, 200)


def test_russian_where_simplejwt_ships_it(rotation_pair: Pair) -> None:
    p = Parity(rotation_pair)
    kim = activate(p, Person("jwt-kim", email="kim@example.com"))
    refresh, access = _issue(p, kim)
    wrong = p.send(
        "POST", CREATE, json=credentials(kim) | {"password": "Wrong-Horse-1"}, headers=RU
    )
    assert answer(wrong.reference) == (
        401,
        {"detail": "No active account found with the given credentials"},
    )
    assert answer(wrong.authgate) == (
        401,
        {"detail": "Не найдено активной учетной записи с указанными данными"},
    )
    wrong_type = p.send("POST", REFRESH, json=body("refresh", access), headers=RU)
    assert answer(wrong_type.reference) == (
        401,
        {"detail": "Token has wrong type", "code": "token_not_valid"},
    )
    assert answer(wrong_type.authgate) == (
        401,
        {"detail": "Токен имеет неправильный тип", "code": "token_not_valid"},
    )
    assert p.send("POST", REFRESH, json=body("refresh", refresh)).statuses() == (200, 200)
    used = p.send("POST", VERIFY, json=body("token", refresh), headers=RU)
    assert answer(used.reference) == (400, {"non_field_errors": ["Token is blacklisted"]})
    assert answer(used.authgate) == (400, {"non_field_errors": ["Токен занесен в черный список"]})
    for exchange in (wrong, wrong_type, used):
        assert exchange.reference.headers["content-language"] == "ru"
        assert exchange.authgate.headers["content-language"] == "ru"


# Known gaps whose fix belongs to the core (src/authgate/core/jwt.py)


def test_refresh_copies_the_user_id_claim_as_it_is(pair: Pair) -> None:
    with Parity.session(pair) as p:
        lea = p.register(Person("jwt-lea"))
        token = odd_tokens(lea, "refresh")[INTEGER_USER_ID]
        p.same(INTEGER_USER_ID, "POST", REFRESH, json=body("refresh", token))
