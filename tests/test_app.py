"""The service as a whole: OpenAPI document, docs page, mounts, concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support import Api


def test_openapi_describes_every_djoser_endpoint(api: Api) -> None:
    document = api.http.get("/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    paths = document["paths"]
    for path in (
        "/auth/users/",
        "/auth/users/me/",
        "/auth/users/{id}/",
        "/auth/users/set_password/",
        "/auth/users/reset_password_confirm/",
        "/auth/token/login/",
        "/auth/token/logout_all/",
    ):
        assert path in paths, path
    create = paths["/auth/users/"]["post"]
    schema_name = create["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[
        -1
    ]
    assert set(document["components"]["schemas"][schema_name]["required"]) == {
        "username",
        "password",
    }
    assert "201" in create["responses"]


def test_a_delete_that_reads_a_body_documents_the_bodys_errors(api: Api) -> None:
    """Djoser's user DELETE takes `current_password`: it may answer 400 (found by the fuzzer),
    where a DELETE without a body may not."""
    paths = api.http.get("/openapi.json").json()["paths"]
    for path in ("/auth/users/me/", "/auth/users/{id}/"):
        assert {"400", "413", "415"} <= set(paths[path]["delete"]["responses"]), path
    assert "400" not in paths["/api/towns/{id}/"]["delete"]["responses"]


def test_docs_page_points_at_the_document(api: Api) -> None:
    response = api.http.get("/docs")
    assert response.status_code == 200
    assert "/docs/assets/swagger-init.js" in response.text
    assert "/openapi.json" in api.http.get("/docs/assets/swagger-init.js").text


def test_second_mount_serves_the_same_api(api: Api) -> None:
    api.register("john")
    token = api.login("john")
    response = api.http.get("/api/v1/auth/users/me/", headers=api.as_user(token))
    assert response.json()["username"] == "john"


def test_unknown_path_inside_the_dialect_is_a_drf_404(api: Api) -> None:
    response = api.http.get("/auth/nothing/here/")
    assert (response.status_code, response.json()) == (404, {"detail": "Not found."})


@pytest.mark.production_argon2  # the racers overlap while they hash, as in production
def test_concurrent_registrations_of_one_username_create_one_account(api: Api) -> None:
    base_url = str(api.http.base_url)

    def register(index: int) -> int:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            body = {"username": "Racer" if index % 2 else "racer", "password": "Correct-Horse-9"}
            return client.post("/auth/users/", json=body).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(register, range(8)))
    assert sorted(statuses) == [201] + [400] * 7
