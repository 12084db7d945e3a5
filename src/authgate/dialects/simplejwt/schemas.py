"""Request and response bodies of the SimpleJWT dialect, field for field as its serializers.

Field order matters: DRF reports field errors in declaration order.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from authgate.dialects.fields import Password, Text


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ObtainIn(_In):
    """POST create/ with the username login field. Both fields are required (401 is only for
    credentials that do not match), and the password is trimmed: SimpleJWT's PasswordField is
    a CharField that keeps DRF's trim_whitespace default."""

    username: Text
    password: Password


class ObtainByEmailIn(_In):
    """POST create/ when users log in by email (the user model's USERNAME_FIELD)."""

    email: Text
    password: Password


class RefreshIn(_In):
    """POST refresh/."""

    refresh: Text


class VerifyIn(_In):
    """POST verify/."""

    token: Text


class PairOut(BaseModel):
    """create/: a refresh and an access token, in this order."""

    refresh: str
    access: str


class RefreshedOut(BaseModel):
    """refresh/: a new access token, and a new refresh token when rotation is on."""

    access: str
    refresh: str | None = None


class VerifiedOut(BaseModel):
    """verify/: an empty object."""


def _field(label: str, *, read_only: bool = False) -> dict[str, object]:
    """A string field as DRF's SimpleMetadata describes it; `label` is a message code."""
    return {"type": "string", "required": not read_only, "read_only": read_only, "label": label}


def obtain_fields(login_field: str) -> dict[str, dict[str, object]]:
    """OPTIONS create/: the login field, then the password."""
    return {
        login_field: _field(f"label_plain_{login_field}"),
        "password": _field("label_plain_password"),
    }


REFRESH_FIELDS = {
    "refresh": _field("label_plain_refresh"),
    "access": _field("label_plain_access", read_only=True),
}
VERIFY_FIELDS = {"token": _field("label_plain_token")}
