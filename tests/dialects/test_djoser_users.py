"""Registration, profile, password and username changes and deletion over HTTP."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support import Api, run_cli

pytestmark = pytest.mark.in_process  # the views' answers, not the wire's

PASSWORD = "Correct-Horse-9"


def test_registration_answers_201_with_djoser_key_order(api: Api) -> None:
    response = api.http.post(
        "/auth/users/", json={"username": "john", "password": PASSWORD, "email": "john@example.com"}
    )
    assert response.status_code == 201
    assert list(response.json().items()) == [
        ("email", "john@example.com"),
        ("username", "john"),
        ("id", 1),
    ]


def test_registration_accepts_form_and_multipart_bodies(api: Api) -> None:
    form = api.http.post("/auth/users/", data={"username": "form", "password": PASSWORD})
    multipart = api.http.post(
        "/auth/users/", files={"username": (None, "multi"), "password": (None, PASSWORD)}
    )
    assert (form.status_code, multipart.status_code) == (201, 201)
    assert multipart.json()["username"] == "multi"


def test_registration_field_errors(api: Api) -> None:
    cases = [
        ({}, {"username": ["This field is required."], "password": ["This field is required."]}),
        (
            {"username": "", "password": None},
            {
                "username": ["This field may not be blank."],
                "password": ["This field may not be null."],
            },
        ),
        (
            {"username": "x" * 151, "password": PASSWORD},
            {"username": ["Ensure this field has no more than 150 characters."]},
        ),
        (
            {"username": "bad name!", "password": PASSWORD},
            {
                "username": [
                    "Enter a valid username. This value may contain only letters, numbers,"
                    " and @/./+/-/_ characters."
                ]
            },
        ),
        (
            {"username": "john", "password": PASSWORD, "email": "not-an-email"},
            {"email": ["Enter a valid email address."]},
        ),
    ]
    for body, expected in cases:
        response = api.http.post("/auth/users/", json=body)
        assert (response.status_code, response.json()) == (400, expected), body
    assert (
        api.http.post(
            "/auth/token/login/", json={"username": "john", "password": PASSWORD}
        ).status_code
        == 400
    )


def test_password_validators_report_every_failure_in_djangos_words(api: Api) -> None:
    response = api.http.post("/auth/users/", json={"username": "bob", "password": "bob"})
    assert response.status_code == 400
    assert response.json() == {
        "password": [
            "The password is too similar to the username.",
            "This password is too short. It must contain at least 8 characters.",
            "This password is too common.",
        ]
    }
    response = api.http.post("/auth/users/", json={"username": "bob", "password": "12345678"})
    assert response.json() == {
        "password": ["This password is too common.", "This password is entirely numeric."]
    }
    response = api.http.post(
        "/auth/users/",
        json={"username": "bob", "password": "bob"},
        headers={"Accept-Language": "ru"},
    )
    assert response.json()["password"][1] == (
        "Введённый пароль слишком короткий. Он должен состоять из как минимум 8 символов."
    )


def test_usernames_and_emails_are_unique_ignoring_case_and_unicode_forms(api: Api) -> None:
    api.register("Admin", email="admin@example.com")
    taken = {"username": ["A user with that username already exists."]}
    for name in ("admin", "ADMIN", "Ａｄｍｉｎ"):  # the last is fullwidth, equal after NFKC
        response = api.http.post("/auth/users/", json={"username": name, "password": PASSWORD})
        assert (response.status_code, response.json()) == (400, taken), name
    response = api.http.post(
        "/auth/users/",
        json={"username": "other", "password": PASSWORD, "email": "ADMIN@example.com"},
    )
    assert response.status_code == 400
    assert list(response.json()) == ["email"]


def test_fields_a_client_may_not_set_are_ignored(api: Api) -> None:
    body = {
        "username": "mallory",
        "password": PASSWORD,
        "is_staff": True,
        "is_superuser": True,
        "is_active": False,
        "role": "ADMIN",
        "id": 999,
    }
    response = api.http.post("/auth/users/", json=body)
    assert response.status_code == 201
    assert response.json()["id"] == 1
    token = api.login("mallory")
    assert api.http.get("/auth/users/", headers=api.as_user(token)).json() == [
        {"email": "", "id": 1, "username": "mallory"}
    ]
    patched = api.http.patch(
        "/auth/users/me/", json={"is_staff": True, "username": "x"}, headers=api.as_user(token)
    )
    assert patched.json() == {"email": "", "id": 1, "username": "mallory"}


def test_me_get_put_patch(api: Api) -> None:
    api.register("john", email="john@example.com")
    headers = api.as_user(api.login("john"))
    assert api.http.get("/auth/users/me/", headers=headers).json() == {
        "email": "john@example.com",
        "id": 1,
        "username": "john",
    }
    put = api.http.put("/auth/users/me/", json={"email": "new@example.com"}, headers=headers)
    assert (put.status_code, put.json()["email"]) == (200, "new@example.com")
    bad = api.http.patch("/auth/users/me/", json={"email": "nope"}, headers=headers)
    assert (bad.status_code, bad.json()) == (400, {"email": ["Enter a valid email address."]})
    assert api.http.get("/auth/users/me", headers=headers).json()["email"] == "new@example.com"


def test_delete_me_needs_the_current_password(api: Api) -> None:
    api.register("john")
    headers = api.as_user(api.login("john"))
    missing = api.http.request("DELETE", "/auth/users/me/", json={}, headers=headers)
    assert (missing.status_code, missing.json()) == (
        400,
        {"current_password": ["This field is required."]},
    )
    wrong = api.http.request(
        "DELETE", "/auth/users/me/", json={"current_password": "nope"}, headers=headers
    )
    assert (wrong.status_code, wrong.json()) == (400, {"current_password": ["Invalid password."]})
    gone = api.http.request(
        "DELETE", "/auth/users/me/", json={"current_password": PASSWORD}, headers=headers
    )
    assert gone.status_code == 204
    assert api.http.get("/auth/users/me/", headers=headers).status_code == 401
    assert (
        api.http.post(
            "/auth/token/login/", json={"username": "john", "password": PASSWORD}
        ).status_code
        == 400
    )


def test_other_users_are_hidden_but_deleting_them_is_forbidden(api: Api) -> None:
    api.register("john")
    api.register("mary")
    headers = api.as_user(api.login("john"))
    for method in ("GET", "PUT", "PATCH"):
        response = api.http.request(method, "/auth/users/2/", json={}, headers=headers)
        assert (response.status_code, response.json()) == (404, {"detail": "Not found."}), method
    for missing in ("/auth/users/99/", "/auth/users/abc/"):
        response = api.http.get(missing, headers=headers)
        assert (response.status_code, response.json()) == (404, {"detail": "Not found."})
    response = api.http.request(
        "DELETE", "/auth/users/2/", json={"current_password": PASSWORD}, headers=headers
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}
    assert api.http.get("/auth/users/1/", headers=headers).json()["username"] == "john"
    assert api.http.get("/auth/users/2/").status_code == 401


def test_method_not_allowed_needs_authentication_first_on_protected_paths(api: Api) -> None:
    anonymous = api.http.post("/auth/users/me/")
    assert anonymous.status_code == 401
    api.register("john")
    response = api.http.post("/auth/users/me/", headers=api.as_user(api.login("john")))
    assert (response.status_code, response.json()) == (
        405,
        {"detail": 'Method "POST" not allowed.'},
    )
    login_get = api.http.get("/auth/token/login/")
    assert (login_get.status_code, login_get.json()) == (
        405,
        {"detail": 'Method "GET" not allowed.'},
    )


def test_set_password_checks_then_revokes_tokens(api: Api) -> None:
    api.register("john")
    token = api.login("john")
    headers = api.as_user(token)
    empty = api.http.post("/auth/users/set_password/", json={}, headers=headers)
    assert list(empty.json().items()) == [
        ("new_password", ["This field is required."]),
        ("current_password", ["This field is required."]),
    ]
    wrong = api.http.post(
        "/auth/users/set_password/",
        json={"new_password": "Another-Horse-7", "current_password": "nope"},
        headers=headers,
    )
    assert wrong.json() == {"current_password": ["Invalid password."]}
    weak = api.http.post(
        "/auth/users/set_password/",
        json={"new_password": "123", "current_password": PASSWORD},
        headers=headers,
    )
    assert weak.status_code == 400
    assert list(weak.json()) == ["new_password"]
    ok = api.http.post(
        "/auth/users/set_password/",
        json={"new_password": "Another-Horse-7", "current_password": PASSWORD},
        headers=headers,
    )
    assert ok.status_code == 204
    assert api.http.get("/auth/users/me/", headers=headers).status_code == 401
    assert api.login("john", "Another-Horse-7")


def test_set_password_retype_mismatch(serve) -> None:
    api = serve(set_password_retype=True)
    api.register("john")
    headers = api.as_user(api.login("john"))
    response = api.http.post(
        "/auth/users/set_password/",
        json={
            "new_password": "Another-Horse-7",
            "re_new_password": "Other-Horse-7",
            "current_password": PASSWORD,
        },
        headers=headers,
    )
    assert response.json() == {"non_field_errors": ["The two password fields didn't match."]}


def test_set_username(api: Api) -> None:
    api.register("john")
    api.register("mary")
    headers = api.as_user(api.login("john"))
    for new_username in ("john", "MARY"):
        response = api.http.post(
            "/auth/users/set_username/",
            json={"new_username": new_username, "current_password": PASSWORD},
            headers=headers,
        )
        assert response.json() == {"new_username": ["A user with that username already exists."]}
    ok = api.http.post(
        "/auth/users/set_username/",
        json={"new_username": "johnny", "current_password": PASSWORD},
        headers=headers,
    )
    assert ok.status_code == 204
    assert api.http.get("/auth/users/me/", headers=headers).json()["username"] == "johnny"


def test_staff_see_and_manage_everyone(api: Api, make_settings) -> None:
    api.register("john")
    settings = make_settings()
    run_cli(
        settings, "createsuperuser", "--no-input", "--username", "root", password="Root-Pass-123"
    )
    root = api.as_user(api.login("root", "Root-Pass-123"))
    assert [u["username"] for u in api.http.get("/auth/users/", headers=root).json()] == [
        "john",
        "root",
    ]
    assert api.http.get("/auth/users/1/", headers=root).json()["username"] == "john"
    patched = api.http.patch("/auth/users/1/", json={"email": "j@example.com"}, headers=root)
    assert patched.json() == {"email": "j@example.com", "id": 1, "username": "john"}
    deleted = api.http.request(
        "DELETE", "/auth/users/1/", json={"current_password": "Root-Pass-123"}, headers=root
    )
    assert deleted.status_code == 204
    assert api.http.get("/auth/users/1/", headers=root).status_code == 404


def test_bad_bodies(api: Api) -> None:
    text = api.http.post("/auth/users/", content=b"x", headers={"Content-Type": "text/plain"})
    assert (text.status_code, text.json()) == (
        415,
        {"detail": 'Unsupported media type "text/plain" in request.'},
    )
    broken = api.http.post(
        "/auth/users/", content=b"{x", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    assert broken.json()["detail"].startswith("JSON parse error - ")
    listed = api.http.post("/auth/users/", json=[1])
    assert listed.json() == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]
    }
    nan = api.http.post(
        "/auth/users/", content=b'{"username": NaN}', headers={"Content-Type": "application/json"}
    )
    assert nan.status_code == 400


def test_current_password_checks_cannot_be_skipped_by_the_json_type(
    serve: Callable[..., Api],
) -> None:
    # Eight wrong guesses: past the default lockout, which current-password checks count
    # towards as logins do (issue 11, item 6), and the login below must still pass.
    api = serve(lockout_free_failures=20)
    api.register("john")
    headers = api.as_user(api.login("john"))
    for wrong in (1.5, 0, "1.5", " nope "):
        changed = api.http.post(
            "/auth/users/set_password/",
            json={"new_password": "Another-Horse-7", "current_password": wrong},
            headers=headers,
        )
        assert changed.json() == {"current_password": ["Invalid password."]}, wrong
        deleted = api.http.request(
            "DELETE", "/auth/users/me/", json={"current_password": wrong}, headers=headers
        )
        assert deleted.status_code == 400, wrong
    assert api.login("john")
