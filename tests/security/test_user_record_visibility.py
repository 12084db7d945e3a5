"""Other users' records at GET /user/<id>/ (issue 11, item 20): by default (users/towns API) any
signed-in user reads any record; AUTHGATE_USER_RECORDS_VISIBILITY=limited keeps others'
email, last login, flags, groups and own permissions from non-staff, and staff_only answers
non-staff 404 for anyone but themselves. Staff and the user themselves see the whole record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from authgate.settings import Settings
from tests.admin.helpers import make_user
from tests.security.helpers import NO_THROTTLE, NOT_FOUND, answer
from tests.support import Api

pytestmark = pytest.mark.in_process  # the answers of the views, not the wire

WHOLE = {
    "id",
    "last_login",
    "is_superuser",
    "username",
    "first_name",
    "last_name",
    "email",
    "is_staff",
    "is_active",
    "date_joined",
    "days_count",
    "groups",
    "user_permissions",
    "towns",
}
PUBLIC = {"id", "username", "first_name", "last_name", "date_joined", "days_count", "towns"}


def _people(
    serve: Callable[..., Api], make_settings: Callable[..., Settings], visibility: str | None
) -> tuple[Api, dict[str, int], dict[str, str]]:
    """A server, and the ids and tokens of root (a superuser), boss (staff) and two users."""
    overrides: dict[str, Any] = dict(NO_THROTTLE)
    if visibility is not None:
        overrides["user_records_visibility"] = visibility
    api, settings = serve(**overrides), make_settings(**overrides)
    ids = {
        "root": make_user(settings, "root", staff=True, superuser=True).id,
        "boss": make_user(settings, "boss", staff=True).id,
        "eve": make_user(settings, "eve").id,
        "john": make_user(settings, "john").id,
    }
    return api, ids, {name: api.login(name) for name in ids}


def _read(api: Api, token: str, user_id: int) -> tuple[int, Any]:
    return answer(api.http.get(f"/user/{user_id}/", headers=api.as_user(token)))


def test_by_default_any_signed_in_user_reads_every_record_whole(
    serve: Callable[..., Api], make_settings: Callable[..., Settings]
) -> None:
    """The users/towns API's compatibility: kept as the default."""
    api, ids, tokens = _people(serve, make_settings, None)
    status, record = _read(api, tokens["eve"], ids["root"])
    assert status == 200
    assert set(record) == WHOLE
    assert (record["email"], record["is_superuser"]) == ("root@example.com", True)


def test_limited_records_hide_other_users_email_flags_and_last_login_from_non_staff(
    serve: Callable[..., Api], make_settings: Callable[..., Settings]
) -> None:
    api, ids, tokens = _people(serve, make_settings, "limited")
    for target in ("root", "boss", "john"):
        status, record = _read(api, tokens["eve"], ids[target])
        assert status == 200
        assert set(record) == PUBLIC, target
        assert record["username"] == target
    # Her own record, and anyone's to staff, stay whole.
    assert set(_read(api, tokens["eve"], ids["eve"])[1]) == WHOLE
    status, record = _read(api, tokens["boss"], ids["john"])
    assert (status, set(record), record["email"]) == (200, WHOLE, "john@example.com")
    assert set(_read(api, tokens["root"], ids["boss"])[1]) == WHOLE


@pytest.mark.parametrize("target", ["root", "john", "nobody"])
def test_staff_only_records_answer_non_staff_404_for_anyone_but_themselves(
    serve: Callable[..., Api], make_settings: Callable[..., Settings], target: str
) -> None:
    """404 alike for an existing and a missing id: no way to learn which ids exist."""
    api, ids, tokens = _people(serve, make_settings, "staff_only")
    user_id = ids.get(target, max(ids.values()) + 1000)
    assert _read(api, tokens["eve"], user_id) == (404, NOT_FOUND)
    assert set(_read(api, tokens["eve"], ids["eve"])[1]) == WHOLE
    status, record = _read(api, tokens["boss"], ids["john"])
    assert (status, set(record)) == (200, WHOLE)
