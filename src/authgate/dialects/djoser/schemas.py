"""Request and response bodies of the Djoser dialect, field for field as Djoser's serializers.

Field order matters: DRF reports field errors in declaration order.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from authgate.core.models import User
from authgate.dialects.fields import BlankableEmail, Email, OptionalText, Text, Username


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class UserCreateIn(_In):
    """POST users/. Fields a client may not set (is_staff, id, role...) are ignored."""

    email: BlankableEmail = None
    username: Username
    password: Text


class UserCreateRetypeIn(UserCreateIn):
    """POST users/ with USER_CREATE_PASSWORD_RETYPE."""

    re_password: Text


class UserUpdateIn(_In):
    """PUT/PATCH users/me/ and users/<id>/: only the email is writable (username is read-only)."""

    email: BlankableEmail = None


class CurrentPasswordIn(_In):
    """DELETE users/me/ and users/<id>/."""

    current_password: Text


class SetPasswordIn(_In):
    """POST users/set_password/."""

    new_password: Text
    current_password: Text


class SetPasswordRetypeIn(SetPasswordIn):
    """POST users/set_password/ with SET_PASSWORD_RETYPE."""

    re_new_password: Text


class SetUsernameIn(_In):
    """POST users/set_username/."""

    new_username: Username
    current_password: Text


class SetUsernameRetypeIn(SetUsernameIn):
    """POST users/set_username/ with SET_USERNAME_RETYPE."""

    re_new_username: Username


class EmailIn(_In):
    """reset_password/, reset_username/, resend_activation/."""

    email: Email


class UidAndTokenIn(_In):
    """activation/."""

    uid: Text
    token: Text


class PasswordResetConfirmIn(UidAndTokenIn):
    """reset_password_confirm/."""

    new_password: Text


class PasswordResetConfirmRetypeIn(PasswordResetConfirmIn):
    """reset_password_confirm/ with PASSWORD_RESET_CONFIRM_RETYPE."""

    re_new_password: Text


class UsernameResetConfirmIn(UidAndTokenIn):
    """reset_username_confirm/."""

    new_username: Username


class UsernameResetConfirmRetypeIn(UsernameResetConfirmIn):
    """reset_username_confirm/ with USERNAME_RESET_CONFIRM_RETYPE."""

    re_new_username: Username


class TokenLoginBase(_In):
    """token/login/: the password and a login field, both optional, as in Djoser."""

    password: OptionalText = None


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
