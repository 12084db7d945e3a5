"""The envelope dialect (/api/v1/ and /api/v1/accounts/) over HTTP: every answer is
`{"result": {"status", "message"}, "data"}`, in English or Russian."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from authgate.dialects.envelope.views import KEPT_LANGUAGE_HEADERS
from authgate.dialects.lane import PLAIN_JSON_TYPES, _is_plain_json
from authgate.http.fast_lane import MAX_BODY
from authgate.store import open_store
from tests.support import Api, run, run_cli

pytestmark = pytest.mark.in_process  # the answers of the views, not the wire

PREFIXES = ["/api/v1", "/api/v1/accounts"]
RU = {"Accept-Language": "ru"}
PASSWORD = "Correct-Horse-9"


def envelope(response: httpx.Response) -> tuple[int, int, str, Any]:
    """(HTTP status, result.status, result.message, data); the two statuses must agree."""
    body = response.json()
    assert set(body) == {"result", "data"}, body
    assert response.headers["content-type"] == "application/json"
    return response.status_code, body["result"]["status"], body["result"]["message"], body["data"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(api: Api, prefix: str, username: str, password: str = PASSWORD) -> str:
    response = api.http.post(f"{prefix}/login/", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["data"]["token"]
    return token


@pytest.mark.parametrize("prefix", PREFIXES)
def test_login_answers_token_username_and_role(api: Api, prefix: str) -> None:
    api.register("john")
    response = api.http.post(
        f"{prefix}/login/", json={"username": "john", "password": PASSWORD}, headers=RU
    )
    status, result, text, data = envelope(response)
    assert (status, result, text) == (200, 200, "Авторизация прошла успешно")
    assert list(data) == ["token", "username", "role"]
    assert (data["username"], data["role"]) == ("john", "no_role")
    assert response.headers["content-language"] == "ru"
    english = api.http.post(f"{prefix}/login", data={"username": "john", "password": PASSWORD})
    assert envelope(english)[:3] == (200, 200, "Login successful")
    assert english.headers["content-language"] == "en"


def test_login_takes_json_urlencoded_and_multipart(api: Api) -> None:
    api.register("john")
    fields = {"username": "john", "password": PASSWORD}
    for kwargs in ({"json": fields}, {"data": fields}, {"data": fields, "files": {"x": b"1"}}):
        response = api.http.post("/api/v1/login/", **kwargs)
        assert response.status_code == 200, kwargs


@pytest.mark.parametrize("prefix", PREFIXES)
def test_login_failures(api: Api, prefix: str) -> None:
    api.register("john")
    for body in (
        {"username": "john"},
        {"password": PASSWORD},
        {},
        {"username": "", "password": "x"},
    ):
        response = api.http.post(f"{prefix}/login/", json=body, headers=RU)
        assert envelope(response) == (400, 400, "Отсутствует логин или пароль", {}), body
    missing = api.http.post(f"{prefix}/login/", json=[1])
    assert envelope(missing) == (400, 400, "Login or password is missing", {})
    for body in (
        {"username": "john", "password": "wrong"},
        {"username": "nobody", "password": "x"},
    ):
        response = api.http.post(f"{prefix}/login/", json=body, headers=RU)
        assert envelope(response) == (401, 401, "Неверные учетные данные", {}), body
        english = api.http.post(f"{prefix}/login/", json=body)
        assert envelope(english) == (401, 401, "Invalid credentials", {})


def test_login_follows_the_login_field_setting(serve) -> None:
    api = serve(login_field="email")
    api.register("john", email="john@example.com")
    response = api.http.post(
        "/api/v1/login/", json={"email": "john@example.com", "password": PASSWORD}
    )
    assert envelope(response)[3]["username"] == "john"


def test_roles(api: Api, make_settings) -> None:
    api.register("john")
    api.register("mary")
    settings = make_settings()
    run_cli(settings, "createsuperuser", "--no-input", "--username", "root", password=PASSWORD)

    async def make_staff() -> None:
        store = open_store(settings.database_url)
        await store.connect()
        try:
            mary = await store.get_user_by_username_key("mary")
            assert mary is not None
            await store.update_user(mary.id, {"is_staff": True})
        finally:
            await store.close()

    run(make_staff())
    roles = {}
    for name in ("john", "mary", "root"):
        response = api.http.post("/api/v1/login/", json={"username": name, "password": PASSWORD})
        roles[name] = envelope(response)[3]["role"]
    assert roles == {"john": "no_role", "mary": "staff", "root": "superuser"}


@pytest.mark.parametrize("prefix", PREFIXES)
def test_check_token(api: Api, prefix: str) -> None:
    api.register("john")
    api.register("mary")
    token = login(api, prefix, "john")
    ok = api.http.post(f"{prefix}/check_token/", json={"username": "john"}, headers=bearer(token))
    assert envelope(ok) == (
        200,
        200,
        "The token is valid and belongs to the user",
        {"username": "john"},
    )
    ru = api.http.post(
        f"{prefix}/check_token", json={"username": "JOHN"}, headers=bearer(token) | RU
    )
    assert envelope(ru) == (
        200,
        200,
        "Токен валиден и принадлежит пользователю",
        {"username": "john"},
    )
    form = api.http.post(
        f"{prefix}/check_token/", data={"username": "john"}, headers=api.as_user(token)
    )
    assert envelope(form)[0] == 200
    mismatch = api.http.post(
        f"{prefix}/check_token/", json={"username": "mary"}, headers=bearer(token) | RU
    )
    assert envelope(mismatch) == (403, 403, "Имя пользователя не соответствует токену", {})
    assert envelope(
        api.http.post(f"{prefix}/check_token/", json={"username": "mary"}, headers=bearer(token))
    ) == (403, 403, "The username does not match the token", {})
    for body in ({}, {"username": ""}, {"username": 5}, {"name": "john"}):
        missing = api.http.post(f"{prefix}/check_token/", json=body, headers=bearer(token) | RU)
        assert envelope(missing) == (400, 400, "Не передано имя пользователя", {}), body
    english = api.http.post(f"{prefix}/check_token/", json={}, headers=bearer(token))
    assert envelope(english) == (400, 400, "Username is not provided", {})


@pytest.mark.parametrize("prefix", PREFIXES)
def test_check_token_without_a_valid_token_is_401(api: Api, prefix: str) -> None:
    body = {"username": "john"}
    none = api.http.post(f"{prefix}/check_token/", json=body, headers=RU)
    assert envelope(none) == (401, 401, "Учетные данные не были предоставлены.", {})
    assert none.headers["www-authenticate"] == "Bearer"
    english = api.http.post(f"{prefix}/check_token/", json=body)
    assert envelope(english) == (401, 401, "Authentication credentials were not provided.", {})
    for header in ("Bearer " + "0" * 40, "Bearer", "Bearer a b"):
        bad = api.http.post(
            f"{prefix}/check_token/", json=body, headers={"Authorization": header} | RU
        )
        assert envelope(bad) == (401, 401, "Недействительный токен.", {}), header
    # A token is checked before the body: no token and no username is still a 401.
    assert api.http.post(f"{prefix}/check_token/", json={}).status_code == 401


def test_token_is_shared_with_the_djoser_dialect(api: Api) -> None:
    api.register("john")
    from_djoser = api.login("john")
    checked = api.http.post(
        "/api/v1/check_token/", json={"username": "john"}, headers=api.as_user(from_djoser)
    )
    assert envelope(checked)[0] == 200
    from_envelope = login(api, "/api/v1/accounts", "john")
    me = api.http.get("/auth/users/me/", headers=api.as_user(from_envelope))
    assert me.json()["username"] == "john"
    assert api.http.get("/api/v1/auth/users/me/", headers=bearer(from_envelope)).status_code == 200


@pytest.mark.parametrize("prefix", PREFIXES)
def test_logout_revokes_the_presented_token_and_always_answers_200(api: Api, prefix: str) -> None:
    api.register("john")
    phone, laptop = login(api, prefix, "john"), login(api, prefix, "john")
    out = api.http.post(f"{prefix}/logout/", headers=bearer(phone) | RU)
    assert envelope(out) == (200, 200, "Выход выполнен успешно", {})
    check = {"username": "john"}
    assert (
        api.http.post(f"{prefix}/check_token/", json=check, headers=bearer(phone)).status_code
        == 401
    )
    assert api.http.get("/auth/users/me/", headers=api.as_user(phone)).status_code == 401
    assert (
        api.http.post(f"{prefix}/check_token/", json=check, headers=bearer(laptop)).status_code
        == 200
    )
    for headers in ({}, bearer(phone), {"Authorization": "Bearer"}, {"Authorization": "Basic x"}):
        again = api.http.post(f"{prefix}/logout", headers=headers)
        assert envelope(again) == (200, 200, "Logged out successfully", {}), headers


@pytest.mark.parametrize("prefix", PREFIXES)
def test_bad_bodies_unknown_paths_and_methods_answer_in_the_envelope(api: Api, prefix: str) -> None:
    text = api.http.post(
        f"{prefix}/login/", content=b"x", headers={"Content-Type": "text/plain"} | RU
    )
    assert envelope(text) == (415, 415, 'Неподдерживаемый тип данных "text/plain" в запросе.', {})
    broken = api.http.post(
        f"{prefix}/login/", content=b"{", headers={"Content-Type": "application/json"}
    )
    status, result, message, data = envelope(broken)
    assert (status, result, data) == (400, 400, {})
    assert message.startswith("The request body could not be parsed")
    missing = api.http.get(f"{prefix}/nothing/here/", headers=RU)
    assert envelope(missing) == (404, 404, "Не найдено.", {})
    assert envelope(api.http.get(f"{prefix}/nothing"))[:3] == (404, 404, "Not found.")
    wrong = api.http.get(f"{prefix}/check_token/")
    assert envelope(wrong) == (405, 405, 'Method "GET" not allowed.', {})
    assert wrong.headers["allow"] == "POST"
    put = api.http.put(f"{prefix}/login", headers=RU)
    assert envelope(put) == (405, 405, 'Метод "PUT" не разрешен.', {})


def test_djoser_keeps_its_prefix_under_api_v1(api: Api) -> None:
    response = api.http.get("/api/v1/auth/nothing/")
    assert (response.status_code, response.json()) == (404, {"detail": "Not found."})


def test_unexpected_error_is_an_envelope_500(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: object) -> object:
        raise RuntimeError("secret detail")

    monkeypatch.setattr("authgate.dialects.envelope.views.read_body", boom)
    response = api.http.post("/api/v1/login/", json={"username": "x", "password": "y"}, headers=RU)
    assert envelope(response) == (500, 500, "Внутренняя ошибка сервера", {})
    assert "secret" not in response.text


def test_fast_lane_answers_exactly_as_the_full_view(api: Api) -> None:
    """check_token's success is served by the fast lane, which reads a header sent twice as
    the full view does; a form body goes through the full view. Every answer is the same."""
    api.register("john")
    token = api.login("john")
    fast = api.http.post(
        "/api/v1/check_token/",
        json={"username": "john"},
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "ru"},
    )
    full = api.http.post(
        "/api/v1/check_token/",
        json={"username": "john"},
        headers=[
            ("Authorization", f"Bearer {token}"),
            ("Accept-Language", "ru"),
            ("X-Anything", "1"),
            ("Accept-Language", "ru"),
        ],
    )
    form = api.http.post(
        "/api/v1/check_token/",
        data={"username": "john"},
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "ru"},
    )
    for other in (full, form):
        assert fast.status_code == other.status_code == 200
        assert fast.content == other.content
        for name in ("content-type", "content-length", "vary", "content-language"):
            assert fast.headers.get(name) == other.headers.get(name), name


def test_fast_lane_serves_the_json_success_alone(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the full view broken, the lane still answers a plain JSON success, and leaves
    everything else (a form body, a mismatch) to the full view."""
    api.register("john")
    token = api.login("john")

    def boom(*_: object) -> object:
        raise RuntimeError("the full view was asked")

    monkeypatch.setattr("authgate.dialects.envelope.views.read_body", boom)
    url, headers = "/api/v1/accounts/check_token", bearer(token)
    lane = api.http.post(url, json={"username": "john"}, headers=headers)
    assert envelope(lane)[:2] == (200, 200)
    assert api.http.post(url, data={"username": "john"}, headers=headers).status_code == 500
    assert api.http.post(url, json={"username": "mary"}, headers=headers).status_code == 500


def test_openapi_describes_the_envelope_endpoints(api: Api) -> None:
    paths = api.http.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/login/", "/api/v1/logout/", "/api/v1/check_token/"):
        assert "post" in paths[path], path
    assert "security" in paths["/api/v1/check_token/"]["post"]
    assert "security" not in paths["/api/v1/login/"]["post"]


def test_fast_lane_reads_flat_json_objects_alone(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the full view broken, the lane answers a JSON object of plain values in UTF-8, in
    any spelling of its media type, and leaves every other body to the full view (a 500 here)."""
    api.register("john")
    token = api.login("john")

    def boom(*_: object) -> object:
        raise RuntimeError("the full view was asked")

    monkeypatch.setattr("authgate.dialects.envelope.views.read_body", boom)
    url = "/api/v1/check_token/"

    def status(body: bytes, content_type: str = "application/json") -> int:
        headers = bearer(token) | {"Content-Type": content_type}
        return api.http.post(url, content=body, headers=headers).status_code

    john = b'{"username": "john"}'
    # The spellings the lane knows without parsing them are among those it would parse.
    assert all(_is_plain_json(spelling) for spelling in PLAIN_JSON_TYPES)
    for spelling in (*PLAIN_JSON_TYPES, b"Application/JSON ; Charset=UTF-8"):
        assert status(john, spelling.decode()) == 200, spelling
    assert status(b'{"username": "john", "other": 1, "more": null}') == 200
    for content_type in ("application/json; charset=latin-1", "text/plain", "application/xml"):
        assert status(john, content_type) == 500, content_type
    for body in (
        b'{"username": "john", "other": [1]}',
        b'{"username": "john", "other": {}}',
        b'{"username": {"name": "john"}}',
        b'["john"]',
        b'"john"',
        b'{"username": "john"',
        b"",
        b'{"username": "john", "pad": "' + b"x" * MAX_BODY + b'"}',
    ):
        assert status(body) == 500, body


def test_fast_lane_answers_every_language_as_the_full_view(api: Api) -> None:
    """The lane keeps its rendering of a bounded number of Accept-Language headers: past them
    too, each answer is the full view's (a form body, which the lane leaves to it)."""
    api.register("john")
    token = api.login("john")
    url = "/api/v1/check_token/"
    headers = [f"x{i}, ru;q=0.5" if i % 2 else f"x{i}" for i in range(KEPT_LANGUAGE_HEADERS + 6)]
    for language in [*headers, "ru", "en", "*", "", "ru-RU"]:
        sent = bearer(token) | {"Accept-Language": language}
        fast = api.http.post(url, json={"username": "john"}, headers=sent)
        full = api.http.post(url, data={"username": "john"}, headers=sent)
        assert fast.status_code == full.status_code == 200, language
        assert fast.content == full.content, language
        for name in ("content-type", "content-length", "vary", "content-language"):
            assert fast.headers.get(name) == full.headers.get(name), (language, name)
