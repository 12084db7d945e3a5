"""The Djoser dialect's table of paths, and the routes built from it."""

from __future__ import annotations

from authgate.core import Core
from authgate.dialects.base import Dialect
from authgate.dialects.djoser import schemas as s
from authgate.dialects.djoser.views import DjoserViews
from authgate.dialects.drf.views import DrfViews
from authgate.dialects.endpoints import Endpoint, Metadata, Operation


def endpoints(views: DjoserViews) -> list[Endpoint]:
    """Every path of the dialect; users/ paths need a token for methods they lack, as
    Djoser's viewset does."""
    op = Operation
    user_out, created = s.UserOut, s.UserCreatedOut

    def action(name: str) -> Metadata:
        # An OPTIONS request has no action to choose a serializer by: Djoser's viewset
        # describes its default one (the user) for each of its POST routes.
        return Metadata(name, actions={"POST": s.USER_FIELDS})

    return [
        Endpoint(
            "/users/",
            {
                "GET": op(
                    views.list_users,
                    "List users (staff: all; others: themselves)",
                    response=user_out,
                    many=True,
                ),
                "POST": op(
                    views.create_user,
                    "Register",
                    public=True,
                    request=s.UserCreateIn,
                    response=created,
                    status=201,
                ),
            },
            metadata=Metadata("User List", actions={"POST": s.USER_FIELDS}),
        ),
        Endpoint(
            "/users/me/",
            {
                "GET": op(
                    views.me, "The current user", response=user_out, answer_of=views.me_answer
                ),
                "PUT": op(
                    views.update_me,
                    "Update the current user",
                    request=s.UserUpdateIn,
                    response=user_out,
                ),
                "PATCH": op(
                    views.update_me,
                    "Update the current user",
                    request=s.UserUpdateIn,
                    response=user_out,
                ),
                "DELETE": op(
                    views.delete_me,
                    "Delete the current user",
                    request=s.CurrentPasswordIn,
                    status=204,
                ),
            },
            metadata=Metadata("Me", actions={"PUT": s.USER_FIELDS}),
        ),
        Endpoint(
            "/users/set_password/",
            {
                "POST": op(
                    views.set_password, "Change password", request=s.SetPasswordIn, status=204
                ),
            },
            metadata=action("Set password"),
        ),
        Endpoint(
            "/users/set_username/",
            {
                "POST": op(
                    views.set_username, "Change username", request=s.SetUsernameIn, status=204
                ),
            },
            metadata=action("Set username"),
        ),
        Endpoint(
            "/users/reset_password/",
            {
                "POST": op(
                    views.reset_password,
                    "Mail a password reset link",
                    public=True,
                    request=s.EmailIn,
                    status=204,
                ),
            },
            metadata=action("Reset password"),
        ),
        Endpoint(
            "/users/reset_password_confirm/",
            {
                "POST": op(
                    views.reset_password_confirm,
                    "Set a password from a reset link",
                    public=True,
                    request=s.PasswordResetConfirmIn,
                    status=204,
                ),
            },
            metadata=action("Reset password confirm"),
        ),
        Endpoint(
            "/users/reset_username/",
            {
                "POST": op(
                    views.reset_username,
                    "Mail a username reset link",
                    public=True,
                    request=s.EmailIn,
                    status=204,
                ),
            },
            metadata=action("Reset username"),
        ),
        Endpoint(
            "/users/reset_username_confirm/",
            {
                "POST": op(
                    views.reset_username_confirm,
                    "Set a username from a reset link",
                    public=True,
                    request=s.UsernameResetConfirmIn,
                    status=204,
                ),
            },
            metadata=action("Reset username confirm"),
        ),
        Endpoint(
            "/users/activation/",
            {
                "POST": op(
                    views.activation,
                    "Activate an account",
                    public=True,
                    request=s.UidAndTokenIn,
                    status=204,
                ),
            },
            metadata=action("Activation"),
        ),
        Endpoint(
            "/users/resend_activation/",
            {
                "POST": op(
                    views.resend_activation,
                    "Mail a new activation link",
                    public=True,
                    request=s.EmailIn,
                    status=204,
                ),
            },
            metadata=action("Resend activation"),
        ),
        Endpoint(
            "/users/{id}/",
            {
                "GET": op(views.user_detail, "A user (owner or staff)", response=user_out),
                "PUT": op(
                    views.update_user, "Update a user", request=s.UserUpdateIn, response=user_out
                ),
                "PATCH": op(
                    views.update_user, "Update a user", request=s.UserUpdateIn, response=user_out
                ),
                "DELETE": op(
                    views.delete_user, "Delete a user", request=s.CurrentPasswordIn, status=204
                ),
            },
            metadata=Metadata(
                "User Instance",
                actions={"PUT": s.USER_FIELDS},
                shows_actions=views._changeable_target,
            ),
        ),
        Endpoint(
            "/token/login/",
            {
                "POST": op(
                    views.token_login,
                    "Log in: a new token for this device",
                    public=True,
                    request=s.TokenLoginIn,
                    response=s.TokenOut,
                ),
            },
            public=True,
            metadata=Metadata(
                "Token Create",
                "Use this endpoint to obtain user authentication token.",
                {"POST": s.token_login_fields(views.settings.login_field)},
            ),
        ),
        Endpoint(
            "/token/logout/",
            {
                "POST": op(views.token_logout, "Log out: revoke the presented token", status=204),
            },
            metadata=Metadata(
                "Token Destroy",
                "Use this endpoint to logout user (remove user authentication token).",
            ),
        ),
        Endpoint(
            "/token/logout_all/",
            {
                "POST": op(views.token_logout_all, "Revoke every token of the user", status=204),
            },
            metadata=Metadata(
                "Token Destroy All",
                "Use this endpoint to log out everywhere (revoke every token of the user).",
            ),
        ),
    ]


def build(core: Core, prefixes: tuple[str, ...]) -> Dialect:
    """The Djoser dialect, to be mounted at each of `prefixes`."""
    drf = DrfViews(core, "djoser")
    all_endpoints = endpoints(DjoserViews(core))
    routes = drf.routes(all_endpoints)
    fast_handlers = drf.fast_handlers(prefixes, all_endpoints)
    return Dialect(
        "djoser",
        prefixes,
        routes,
        drf.http_exception,
        fast_handlers,
        all_endpoints,
        drf.security,
    )
