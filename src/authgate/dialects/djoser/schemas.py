"""Request and response bodies of the Djoser dialect, field for field as Djoser's serializers.

Field order matters: DRF reports field errors in declaration order.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from authgate.core.models import User
from authgate.dialects.fields import (
    BlankableEmail,
    Email,
    OptionalPassword,
    OptionalText,
    Password,
    Text,
    Username,
)
from authgate.dialects.towns_field import TownIds


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class UserCreateIn(_In):
    """POST users/. Fields a client may not set (is_staff, id, role...) are ignored; `towns`
    (the users/towns API) is optional and read apart (dialects/towns_field.py)."""

    email: BlankableEmail = None
    username: Username
    password: Password
    towns: TownIds = None


class UserCreateRetypeIn(UserCreateIn):
    """POST users/ with USER_CREATE_PASSWORD_RETYPE."""

    re_password: Password


class UserUpdateIn(_In):
    """PUT/PATCH users/me/ and users/<id>/: the email (username is read-only) and `towns`."""

    email: BlankableEmail = None
    towns: TownIds = None


class CurrentPasswordIn(_In):
    """DELETE users/me/ and users/<id>/."""

    current_password: Password


class SetPasswordBase(_In):
    """POST users/set_password/: what both forms share."""

    new_password: Password


class SetPasswordIn(SetPasswordBase):
    """POST users/set_password/."""

    current_password: Password


class SetPasswordRetypeIn(SetPasswordBase):
    """POST users/set_password/ with SET_PASSWORD_RETYPE: the retyped password comes before
    current_password in Djoser's serializer, so do its errors."""

    re_new_password: Password
    current_password: Password


class SetUsernameIn(_In):
    """POST users/set_username/. Djoser's serializer renames `username` to `new_username`
    after its fields are built, which moves it last: its errors follow current_password's."""

    current_password: Password
    new_username: Username


class SetUsernameRetypeIn(SetUsernameIn):
    """POST users/set_username/ with SET_USERNAME_RETYPE. The retyped name is a plain text
    field in Djoser: only compared with new_username, never checked as a username."""

    re_new_username: Text


class EmailIn(_In):
    """reset_password/, reset_username/, resend_activation/."""

    email: Email


class UidAndTokenIn(_In):
    """activation/."""

    uid: Text
    token: Text


class PasswordResetConfirmIn(UidAndTokenIn):
    """reset_password_confirm/."""

    new_password: Password


class PasswordResetConfirmRetypeIn(PasswordResetConfirmIn):
    """reset_password_confirm/ with PASSWORD_RESET_CONFIRM_RETYPE."""

    re_new_password: Password


class UsernameResetConfirmIn(_In):
    """reset_username_confirm/. Djoser's serializer here is a ModelSerializer, which keeps only
    its Meta.fields: the inherited uid and token are no fields, so they get no field errors
    (required, blank) and are read raw, then checked as a link (a missing one is invalid)."""

    new_username: Username
    uid: object = None
    token: object = None


class UsernameResetConfirmRetypeIn(UsernameResetConfirmIn):
    """reset_username_confirm/ with USERNAME_RESET_CONFIRM_RETYPE (plain text, as above)."""

    re_new_username: Text


class TokenLoginBase(_In):
    """token/login/: the password and a login field, both optional, as in Djoser."""

    password: OptionalPassword = None


class TokenLoginIn(TokenLoginBase):
    """token/login/ with LOGIN_FIELD = username."""

    username: OptionalText = None


class TokenLoginByEmailIn(TokenLoginBase):
    """token/login/ with LOGIN_FIELD = email."""

    email: OptionalText = None


class UserOut(BaseModel):
    """A user as users/me/ shows it."""

    email: str
    id: int
    username: str

    @classmethod
    def of(cls, user: User) -> dict[str, object]:
        """The JSON body for `user`."""
        return {"email": user.email, "id": user.id, "username": user.username}


class UserCreatedOut(BaseModel):
    """A user as registration shows it (Djoser's key order differs from users/me/)."""

    email: str
    username: str
    id: int

    @classmethod
    def of(cls, user: User) -> dict[str, object]:
        """The JSON body for `user`."""
        return {"email": user.email, "username": user.username, "id": user.id}


class TokenOut(BaseModel):
    """token/login/'s answer."""

    auth_token: str


# How DRF's OPTIONS metadata describes the fields of Djoser's serializers.
USER_FIELDS: dict[str, dict[str, object]] = {
    "email": {
        "type": "email",
        "required": False,
        "read_only": False,
        "label": "label_email_address",
        "max_length": 254,
    },
    "id": {"type": "integer", "required": False, "read_only": True, "label": "label_id"},
    "username": {
        "type": "string",
        "required": False,
        "read_only": True,
        "label": "label_username",
        "help_text": "help_username",
    },
}
"""UserSerializer: what Djoser's viewset describes for every POST and PUT, since an OPTIONS
request has no action to pick another serializer by."""


def token_login_fields(login_field: str) -> dict[str, dict[str, object]]:
    """TokenCreateSerializer: the password, then the login field (added in its __init__)."""
    plain = {"type": "string", "required": False, "read_only": False}
    return {
        "password": plain | {"label": "label_plain_password"},
        login_field: plain | {"label": f"label_plain_{login_field}"},
    }
