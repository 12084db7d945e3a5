"""The session cookie read from the scope (http/session_cookie.py), as the session scheme reads
it on the fast lane: the very value Starlette's HTTPConnection.cookies gives the full view."""

from __future__ import annotations

import random

import pytest
from starlette.requests import HTTPConnection

from authgate.http.session_cookie import session_cookie_name, session_value_in

HEADER_LISTS = [
    [(b"cookie", b"authgate_session=abc")],
    [(b"cookie", b"other=1; authgate_session=abc; more=2")],
    # Sent twice (HTTP/2 may split cookies over headers): a later one wins, in both readings.
    [(b"cookie", b"authgate_session=first"), (b"cookie", b"authgate_session=second")],
    [(b"cookie", b"__Host-authgate_session=secure; authgate_session=plain")],
    [(b"cookie", b"authgate_session=")],
    [(b"cookie", b"authgate_session=\xe9t\xe9")],
    [(b"host", b"example.com")],
    [],
    # The reading looks for the one name; these are the corners of Starlette's parser.
    [(b"cookie", b"authgate_session=first; authgate_session=second")],
    [(b"cookie", b"authgate_session=abc; authgate_session=")],
    [(b"cookie", b"authgate_session=abc"), (b"cookie", b"authgate_session=")],
    [(b"cookie", b"authgate_session=abc"), (b"cookie", b"other=1")],
    [(b"cookie", b" authgate_session = abc ;other")],
    [(b"cookie", b"authgate_session"), (b"cookie", b"x_authgate_session=1")],
    [(b"cookie", b'authgate_session="a\\"b\\073c"')],
    [(b"cookie", b'authgate_session="'), (b"cookie", b'authgate_session="x')],
    [(b"cookie", b"authgate_session=a=b=c;;")],
    [(b"cookie", b"authgate_session_2=1; authgate_session=ok; authgate_session_=2")],
]


@pytest.mark.parametrize("headers", HEADER_LISTS)
@pytest.mark.parametrize("secure", [False, True])
def test_the_scope_reading_is_starlettes(headers: list[tuple[bytes, bytes]], secure: bool) -> None:
    scope = {"type": "http", "headers": headers}
    expected = HTTPConnection(scope).cookies.get(session_cookie_name(secure)) or None
    assert session_value_in(scope, secure) == expected


def test_the_secure_name_reads_only_the_prefixed_cookie() -> None:
    scope = {"type": "http", "headers": HEADER_LISTS[3]}
    assert session_value_in(scope, True) == "secure"
    assert session_value_in(scope, False) == "plain"
    assert session_value_in({"type": "http", "headers": HEADER_LISTS[2]}, False) == "second"


# What random Cookie headers are made of: the names, and the characters the parser splits,
# strips or unquotes at.
PIECES = ["authgate_session", "__Host-authgate_session", "other", "=", ";", " ", '"', "\\", "a"]


@pytest.mark.parametrize("secure", [False, True])
def test_random_headers_read_as_starlette_reads_them(secure: bool) -> None:
    rng = random.Random(14)
    name = session_cookie_name(secure)
    for _ in range(3000):
        headers = [
            (b"cookie", "".join(rng.choices(PIECES, k=rng.randint(0, 12))).encode("latin-1"))
            for _ in range(rng.randint(0, 3))
        ]
        scope = {"type": "http", "headers": headers}
        expected = HTTPConnection(scope).cookies.get(name) or None
        assert session_value_in(scope, secure) == expected, headers
