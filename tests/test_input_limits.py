"""Input limits (issue 5): body size, JSON depth, field lengths, content types and UTF-8, each
answered in the dialect's own error shape, with nothing changed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from authgate.app import create_app
from authgate.mailer import LogMailer
from authgate.settings import Settings
from authgate.store.migrate import upgrade
from tests.support import Api

PASSWORD = "Correct-Horse-9"
JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
LIMIT = 64 * 1024
LOGINS = {
    "djoser": ("/auth/token/login/", "username"),
    "simplejwt": ("/auth/jwt/create/", "username"),
    "envelope": ("/api/v1/login/", "username"),
    "cookie_jwt": ("/u/api/login/", "email"),
}


def _shape(dialect: str, body: object, status: int) -> str:
    """The message of an error answer, checking it has the dialect's shape."""
    assert isinstance(body, dict), body
    if dialect == "envelope":
        assert set(body) == {"result", "data"}, body
        assert body["result"]["status"] == status
        assert body["data"] == {}
        return str(body["result"]["message"])
    assert set(body) == {"detail"}, body
    return str(body["detail"])


def _login_body(dialect: str, login: str, password: str) -> dict[str, str]:
    return {LOGINS[dialect][1]: login, "password": password}


def _cannot_log_in(api: Api, username: str) -> None:
    response = api.http.post(
        "/auth/token/login/", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("dialect", list(LOGINS))
def test_an_oversized_body_is_413_in_the_dialects_shape(api: Api, dialect: str) -> None:
    path, _ = LOGINS[dialect]
    body = json.dumps(_login_body(dialect, "x", PASSWORD) | {"pad": "a" * LIMIT}).encode()
    response = api.http.post(path, content=body, headers=JSON)
    assert response.status_code == 413, response.text
    message = _shape(dialect, response.json(), 413)
    assert "65536" in message


def test_russian_413(api: Api) -> None:
    response = api.http.post(
        "/auth/users/", content=b"{" + b" " * LIMIT + b"}", headers=JSON | {"Accept-Language": "ru"}
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "Тело запроса слишком велико: предел 65536 байт."}
    assert response.headers["content-language"] == "ru"


def test_an_oversized_registration_creates_nothing(api: Api) -> None:
    body = {"username": "bigbody", "password": PASSWORD, "email": "a" * LIMIT + "@example.com"}
    response = api.http.post("/auth/users/", json=body)
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body is too large: the limit is 65536 bytes."}
    _cannot_log_in(api, "bigbody")


def test_a_chunked_body_is_counted_as_it_comes(api: Api) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"username": "chunky", "password": "' + PASSWORD.encode() + b'", "pad": "'
        for _ in range(20):
            yield b"a" * 4096
        yield b'"}'

    response = api.http.post("/auth/users/", content=chunks(), headers=JSON)
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    _cannot_log_in(api, "chunky")


def test_a_body_at_the_limit_is_read(api: Api) -> None:
    head = json.dumps({"username": "atlimit", "password": PASSWORD, "pad": ""}).encode()
    body = head[:-2] + b"a" * (LIMIT - len(head)) + b'"}'
    assert len(body) == LIMIT
    response = api.http.post("/auth/users/", content=body, headers=JSON)
    assert response.status_code == 201, response.text


def test_the_limit_is_a_setting(serve: Callable[..., Api]) -> None:
    api = serve(max_body_bytes=2048)
    body = {"username": "small", "password": PASSWORD, "pad": "a" * 2048}
    response = api.http.post("/auth/users/", json=body)
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body is too large: the limit is 2048 bytes."}


def test_the_fast_lane_does_not_answer_a_body_over_the_limit(serve: Callable[..., Api]) -> None:
    api = serve(max_body_bytes=2048)
    api.register("john")
    token = api.login("john")
    headers = JSON | api.as_user(token)
    small = api.http.post("/api/v1/check_token/", json={"username": "john"}, headers=headers)
    assert small.status_code == 200
    big = {"username": "john", "pad": "a" * 4096}
    response = api.http.post("/api/v1/check_token/", json=big, headers=headers)
    assert response.status_code == 413
    assert response.json() == {
        "result": {"status": 413, "message": "The request body is too large (at most 2048 bytes)"},
        "data": {},
    }


def _nested(depth: int) -> bytes:
    return b'{"username": ' + b"[" * (depth - 1) + b"1" + b"]" * (depth - 1) + b"}"


@pytest.mark.parametrize("dialect", list(LOGINS))
def test_json_nested_past_32_levels_is_a_parse_error(api: Api, dialect: str) -> None:
    path, _ = LOGINS[dialect]
    response = api.http.post(path, content=_nested(33), headers=JSON)
    assert response.status_code == 400, response.text
    message = _shape(dialect, response.json(), 400)
    if dialect in ("djoser", "simplejwt"):
        assert message == "JSON parse error - Maximum nesting depth exceeded"


def test_json_nested_32_levels_is_parsed(api: Api) -> None:
    response = api.http.post("/auth/jwt/create/", content=_nested(32), headers=JSON)
    assert response.status_code == 400
    assert response.json() == {
        "username": ["Not a valid string."],
        "password": ["This field is required."],
    }


TOO_LONG = "p" * 4097


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/auth/users/", {"username": "longpw", "password": TOO_LONG}, "password"),
        ("/auth/token/login/", {"username": "john", "password": TOO_LONG}, "password"),
        ("/auth/jwt/create/", {"username": "john", "password": TOO_LONG}, "password"),
    ],
)
def test_drf_dialects_refuse_passwords_over_4096_as_a_field_error(
    api: Api, path: str, body: dict[str, str], field: str
) -> None:
    api.register("john")
    response = api.http.post(path, json=body)
    assert response.status_code == 400
    assert response.json() == {field: ["Ensure this field has no more than 4096 characters."]}
    russian = api.http.post(path, json=body, headers={"Accept-Language": "ru"})
    assert russian.json() == {
        field: ["Убедитесь, что это значение содержит не более 4096 символов."]
    }
    _cannot_log_in(api, "longpw")


def test_a_password_of_4096_characters_works(api: Api) -> None:
    password = "Long-Horse-" + "x7" * 2042 + "z"
    assert len(password) == 4096
    api.register("longpw", password)
    assert api.login("longpw", password)


def test_password_change_refuses_an_oversized_new_password(api: Api) -> None:
    api.register("john")
    token = api.login("john")
    body = {"current_password": PASSWORD, "new_password": TOO_LONG}
    response = api.http.post("/auth/users/set_password/", json=body, headers=api.as_user(token))
    assert response.status_code == 400
    assert response.json() == {
        "new_password": ["Ensure this field has no more than 4096 characters."]
    }
    assert api.login("john")  # the old password still works


@pytest.mark.parametrize(
    ("dialect", "login", "password", "field", "limit"),
    [
        ("envelope", "john", TOO_LONG, "password", 4096),
        ("envelope", "j" * 151, PASSWORD, "username", 150),
        ("cookie_jwt", "john@example.com", TOO_LONG, "password", 4096),
        ("cookie_jwt", "j" * 250 + "@example.com", PASSWORD, "email", 254),
    ],
)
def test_envelope_and_cookie_jwt_logins_refuse_overlong_fields(
    api: Api, dialect: str, login: str, password: str, field: str, limit: int
) -> None:
    api.register("john", email="john@example.com")
    path, _ = LOGINS[dialect]
    response = api.http.post(path, json=_login_body(dialect, login, password))
    assert response.status_code == 400, response.text
    message = _shape(dialect, response.json(), 400)
    assert message == f"The field {field} is too long (at most {limit} characters)"


def test_registration_keeps_djangos_username_and_email_limits(api: Api) -> None:
    body = {"username": "u" * 151, "password": PASSWORD, "email": "e" * 250 + "@example.com"}
    response = api.http.post("/auth/users/", json=body)
    assert response.status_code == 400
    assert response.json() == {
        "email": ["Ensure this field has no more than 254 characters."],
        "username": ["Ensure this field has no more than 150 characters."],
    }


@pytest.mark.parametrize("dialect", list(LOGINS))
def test_unparsed_content_types_are_415_in_the_dialects_shape(api: Api, dialect: str) -> None:
    path, _ = LOGINS[dialect]
    response = api.http.post(path, content=b"<a/>", headers={"Content-Type": "application/xml"})
    assert response.status_code == 415
    assert _shape(dialect, response.json(), 415) == (
        'Unsupported media type "application/xml" in request.'
    )


@pytest.mark.parametrize("dialect", list(LOGINS))
def test_json_that_is_not_utf8_is_a_400(api: Api, dialect: str) -> None:
    path, field = LOGINS[dialect]
    body = b'{"' + field.encode() + b'": "\xff", "password": "x"}'
    response = api.http.post(path, content=body, headers=JSON)
    assert response.status_code == 400
    _shape(dialect, response.json(), 400)


@pytest.mark.parametrize(
    ("dialect", "body"),
    [
        ("envelope", b"username=\xff&password=x"),
        ("envelope", b"username=%ff&password=x"),
        ("cookie_jwt", b"email=a%C3%28@example.com&password=x"),
    ],
)
def test_envelope_and_cookie_jwt_refuse_forms_that_are_not_utf8(
    api: Api, dialect: str, body: bytes
) -> None:
    path, _ = LOGINS[dialect]
    response = api.http.post(path, content=body, headers=FORM)
    assert response.status_code == 400
    _shape(dialect, response.json(), 400)


def test_envelope_still_reads_utf8_forms(api: Api) -> None:
    api.register("jöhn")
    body = "username=j%C3%B6hn&password=" + PASSWORD
    response = api.http.post("/api/v1/login/", content=body.encode(), headers=FORM)
    assert response.status_code == 200, response.text


def test_a_view_that_reads_its_own_body_gets_a_plain_413(tmp_path: Path) -> None:
    """Outside the dialects (the admin's forms, say) an unhandled overflow is 413, not 500."""
    url = f"sqlite:///{tmp_path / 'authgate.sqlite3'}"
    upgrade(url)
    settings = Settings(database_url=url, secret_key="k" * 64, _env_file=None)
    app = create_app(settings, mailer=LogMailer())

    async def echo(request: Request) -> Response:
        return Response(await request.body())

    app.router.routes.insert(0, Route("/echo", echo, methods=["POST"]))

    async def call(body: bytes) -> httpx.Response:
        transport = httpx.ASGITransport(app, raise_app_exceptions=False)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://t") as client,
        ):
            return await client.post("/echo", content=body)

    assert asyncio.run(call(b"a" * LIMIT)).status_code == 200
    response = asyncio.run(call(b"a" * (LIMIT + 1)))
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body is too large: the limit is 65536 bytes."}
    assert response.headers["x-content-type-options"] == "nosniff"
