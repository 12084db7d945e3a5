"""The OpenAPI document as tools read it: valid OpenAPI 3.1 (openapi-spec-validator) whatever
the settings, request bodies described as JSON only (a generator sends every listed type at
once), each operation naming the credentials it really takes, and response schemas that hold
under the settings that leave fields out. tests/interop/test_generated_client.py drives a
client generated from it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from openapi_schema_validator import validate as validate_schema
from openapi_spec_validator import validate

from authgate.settings import Settings
from tests.support import Api, run_cli

PASSWORD = "Correct-Horse-9"
EVERY_OPTION: dict[str, Any] = {
    "authentication": {"djoser": ["session", "jwt", "token"], "directory": ["jwt"]},
    "user_records_visibility": "limited",
    "user_create_password_retype": True,
    "set_password_retype": True,
    "set_username_retype": True,
    "password_reset_confirm_retype": True,
    "login_field": "email",
    "token_keywords": ("Token",),
    "cookie_secure": False,
}
PUBLIC_FIELDS = {"id", "username", "first_name", "last_name", "date_joined", "days_count", "towns"}
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _document(api: Api) -> dict[str, Any]:
    response = api.http.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


@pytest.mark.parametrize("overrides", [{}, EVERY_OPTION], ids=["defaults", "every-option"])
def test_the_served_document_is_valid_openapi(
    serve: Callable[..., Api], overrides: dict[str, Any]
) -> None:
    validate(_document(serve(**overrides)))  # raises, saying where, on an invalid document


def test_request_bodies_are_described_as_json_only(api: Api) -> None:
    """One media type per body, so that a generated client sends JSON (openapi-python-client
    given three sends all three, multipart last); the description says forms are read too."""
    bodies = [
        operation["requestBody"]
        for _, _, operation in _operations(_document(api))
        if "requestBody" in operation
    ]
    assert len(bodies) > 20
    for body in bodies:
        assert list(body["content"]) == ["application/json"]
        assert "multipart/form-data" in body["description"]


def _credentials(api: Api, settings: Settings) -> dict[str, tuple[str, str]]:
    """One credential of every kind for one staff ADMIN user: scheme name -> (where, value)."""
    api.register("alice", email="alice@example.com")
    run_cli(settings, "users", "set-role", "alice", "--role", "ADMIN", "--staff")
    login = {"username": "alice", "password": PASSWORD}
    token_login = api.http.post("/auth/token/login/", json=login)
    jwt_login = api.http.post("/auth/jwt/create/", json=login)
    cookie_jwt = api.http.post(
        "/u/api/login/", json={"email": "alice@example.com", "password": PASSWORD}
    )
    for answer in (token_login, jwt_login, cookie_jwt):
        assert answer.status_code == 200, answer.text
    return {
        "token": ("header", "Token " + token_login.json()["auth_token"]),
        "session": ("cookie", token_login.cookies["authgate_session"]),
        "jwt": ("bearer", jwt_login.json()["access"]),
        "cookie_jwt_bearer": ("bearer", cookie_jwt.json()["access_token"]),
        "cookie_jwt_cookie": ("cookie", cookie_jwt.json()["access_token"]),
    }


def test_each_operation_names_the_schemes_it_really_takes(
    serve: Callable[..., Api], make_settings: Callable[..., Settings]
) -> None:
    """Every GET that takes credentials, with each kind of credential the way the document
    describes it: the ones it names are accepted, every other one is refused. /u/api/ takes
    its own access token (header or cookie), not the opaque token; `AUTHGATE_AUTHENTICATION`
    decides what the DRF dialects take."""
    overrides: dict[str, Any] = {
        "authentication": {"djoser": ["jwt", "token"], "directory": ["session", "token"]},
        "create_session_on_login": True,
        "cookie_secure": False,
        "throttle_enabled": False,
    }
    api = serve(**overrides)
    credentials = _credentials(api, make_settings(**overrides))
    document = _document(api)
    schemes = document["components"]["securitySchemes"]
    assert set(schemes) == set(credentials)
    checked = []
    for method, path, operation in _operations(document):
        if method != "get" or "{" in path or "security" not in operation:
            continue
        named = {name for choice in operation["security"] for name in choice}
        for name, (where, value) in credentials.items():
            definition = schemes[name]
            assert where == definition.get("in", definition.get("scheme")), name
            if where == "bearer":
                headers = {"Authorization": f"Bearer {value}"}
            elif where == "header":
                headers = {definition["name"]: value}
            else:
                headers = {"Cookie": f"{definition['name']}={value}"}
            status = httpx.get(api.http.base_url.join(path), headers=headers).status_code
            assert (status == 200) == (name in named), (path, name, status)
        checked.append(path)
    assert {"/auth/users/me/", "/u/api/secure_test/", "/api/groups/", "/api/audit/"} <= set(checked)
    assert document["paths"]["/u/api/secure_test/"]["get"]["security"] == [
        {"cookie_jwt_bearer": []},
        {"cookie_jwt_cookie": []},
    ]


def test_a_limited_record_holds_to_its_schema(serve: Callable[..., Api]) -> None:
    """AUTHGATE_USER_RECORDS_VISIBILITY=limited leaves the private fields out of another's
    record: the schema requires only the public ones, and the answer validates against it."""
    api = serve(user_records_visibility="limited")
    bob = api.register("bob")
    api.register("carol")
    answer = api.http.get(f"/user/{bob['id']}/", headers=api.as_user(api.login("carol")))
    assert answer.status_code == 200
    assert set(answer.json()) == PUBLIC_FIELDS
    document = _document(api)
    reference = document["paths"]["/user/{id}/"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]["$ref"]
    schema = document["components"]["schemas"][reference.rsplit("/", 1)[1]]
    assert set(schema["required"]) == PUBLIC_FIELDS
    validate_schema(answer.json(), schema)
    # Their own record is whole, and holds to it too.
    whole = api.http.get(f"/user/{bob['id']}/", headers=api.as_user(api.login("bob"))).json()
    validate_schema(whole, schema)
    assert set(whole) == set(schema["properties"])


def test_by_default_a_record_has_every_field(api: Api) -> None:
    document = _document(api)
    schema = document["components"]["schemas"]["UserRecordOut"]
    assert set(schema["required"]) == set(schema["properties"]) > PUBLIC_FIELDS
