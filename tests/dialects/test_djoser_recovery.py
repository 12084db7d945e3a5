"""Activation and resets through real emails: the tests read the link out of the mail that
arrived at a real SMTP server and use it."""

from __future__ import annotations

import pytest

from authgate.core.confirmations import encode_uid
from tests.support import Api, Mailbox, link_parts

pytestmark = pytest.mark.in_process  # the answers of the views, not the wire

PASSWORD = "Correct-Horse-9"


def test_password_reset_round_trip(api: Api, mail: Mailbox) -> None:
    api.register("john", email="john@example.com")
    old_token = api.login("john")
    response = api.http.post("/auth/users/reset_password/", json={"email": "john@example.com"})
    assert response.status_code == 204
    (message,) = mail.wait_for("john@example.com")
    assert "https://app.example.com/password/reset/confirm/" in message.get_payload()
    uid, token = link_parts(message)
    assert uid == encode_uid(1)
    weak = api.http.post(
        "/auth/users/reset_password_confirm/",
        json={"uid": uid, "token": token, "new_password": "123"},
    )
    assert weak.status_code == 400
    assert list(weak.json()) == ["new_password"]
    ok = api.http.post(
        "/auth/users/reset_password_confirm/",
        json={"uid": uid, "token": token, "new_password": "Brand-New-Horse-5"},
    )
    assert ok.status_code == 204
    assert api.login("john", "Brand-New-Horse-5")
    assert api.http.get("/auth/users/me/", headers=api.as_user(old_token)).status_code == 401
    reused = api.http.post(
        "/auth/users/reset_password_confirm/",
        json={"uid": uid, "token": token, "new_password": "Yet-Another-Horse-6"},
    )
    assert (reused.status_code, reused.json()) == (
        400,
        {"token": ["Invalid token for given user."]},
    )


def test_reset_password_does_not_tell_whether_an_email_exists(api: Api, mail: Mailbox) -> None:
    api.register("john", email="john@example.com")
    known = api.http.post("/auth/users/reset_password/", json={"email": "john@example.com"})
    unknown = api.http.post("/auth/users/reset_password/", json={"email": "nobody@example.com"})
    assert (
        (known.status_code, known.content) == (unknown.status_code, unknown.content) == (204, b"")
    )
    assert mail.wait_for("john@example.com")
    assert mail.wait_for("nobody@example.com", timeout=0.5) == []
    bad = api.http.post("/auth/users/reset_password/", json={"email": "nope"})
    assert (bad.status_code, bad.json()) == (400, {"email": ["Enter a valid email address."]})


def test_reset_confirm_with_bad_uid_or_token(api: Api) -> None:
    api.register("john", email="john@example.com")
    bad_uid = api.http.post(
        "/auth/users/reset_password_confirm/",
        json={"uid": "zz", "token": "1-2", "new_password": "X-horse-123"},
    )
    assert bad_uid.json() == {"uid": ["Invalid user id or user doesn't exist."]}
    bad_token = api.http.post(
        "/auth/users/reset_password_confirm/",
        json={"uid": encode_uid(1), "token": "abc-123", "new_password": "X-horse-123"},
    )
    assert bad_token.json() == {"token": ["Invalid token for given user."]}
    missing = api.http.post("/auth/users/reset_password_confirm/", json={})
    assert list(missing.json()) == ["uid", "token", "new_password"]


def test_username_reset_round_trip(api: Api, mail: Mailbox) -> None:
    api.register("john", email="john@example.com")
    assert (
        api.http.post("/auth/users/reset_username/", json={"email": "john@example.com"}).status_code
        == 204
    )
    uid, token = link_parts(mail.wait_for("john@example.com")[0])
    ok = api.http.post(
        "/auth/users/reset_username_confirm/",
        json={"uid": uid, "token": token, "new_username": "johnny"},
    )
    assert ok.status_code == 204
    assert api.login("johnny")


def test_activation_flow(serve, mail: Mailbox) -> None:
    api = serve(send_activation_email=True)
    api.register("john", email="john@example.com")
    assert (
        api.http.post(
            "/auth/token/login/", json={"username": "john", "password": PASSWORD}
        ).status_code
        == 400
    )
    uid, token = link_parts(mail.wait_for("john@example.com")[0])
    assert (
        api.http.post("/auth/users/activation/", json={"uid": uid, "token": token}).status_code
        == 204
    )
    stale = api.http.post("/auth/users/activation/", json={"uid": uid, "token": token})
    assert (stale.status_code, stale.json()) == (403, {"detail": "Stale token for given user."})
    assert api.login("john")
    # Logging in changes last_login, which every link covers: the link is now simply invalid.
    used = api.http.post("/auth/users/activation/", json={"uid": uid, "token": token})
    assert (used.status_code, used.json()) == (400, {"token": ["Invalid token for given user."]})


def test_resend_activation(serve, mail: Mailbox) -> None:
    api = serve(send_activation_email=True)
    api.register("john", email="john@example.com")
    assert (
        api.http.post(
            "/auth/users/resend_activation/", json={"email": "john@example.com"}
        ).status_code
        == 204
    )
    assert len(mail.wait_for("john@example.com", count=2)) == 2
    unknown = api.http.post("/auth/users/resend_activation/", json={"email": "nobody@example.com"})
    assert unknown.status_code == 204


def test_resend_activation_when_activation_is_off_is_an_empty_400(api: Api) -> None:
    response = api.http.post("/auth/users/resend_activation/", json={"email": "john@example.com"})
    assert (response.status_code, response.content) == (400, b"")
