"""Djoser's endpoints over the core: each handler parses, calls the core, and shapes the answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from functools import partial

from starlette.requests import Request
from starlette.responses import Response

from authgate.core import Core
from authgate.core.errors import (
    NON_FIELD,
    Message,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from authgate.core.models import Principal, SessionPrincipal, User
from authgate.core.staff import authorize_user_change
from authgate.dialects.djoser import schemas as s
from authgate.dialects.drf.negotiation import json, no_content
from authgate.dialects.endpoints import NO_FIELDS, Fields
from authgate.dialects.fields import M, as_text, parse
from authgate.dialects.schemes import CsrfFailedError
from authgate.dialects.towns_field import parse_with_towns
from authgate.http.parsing import read_body
from authgate.http.same_site import SameSite
from authgate.http.secure_cookies import secure_cookies
from authgate.http.session_cookie import (
    clear_csrf_cookie,
    clear_session_cookie,
    session_value,
    set_csrf_cookie,
    set_session_cookie,
)

FieldCheck = Callable[[str], Awaitable[list[Message]]]
MAX_USER_ID = 2**63 - 1  # a signed 64-bit key, the widest of SQLite and PostgreSQL


async def parse_body(
    request: Request, model: type[M], checks: Mapping[str, FieldCheck] | None = None
) -> M:
    """The body as `model`; `checks` add database-backed field checks (uniqueness) to the same
    round of field errors, as DRF's field validators do."""
    data = await read_body(request)
    try:
        parsed = parse(model, data)
        errors: dict[str, list[Message]] = {}
    except ValidationError as error:
        parsed, errors = None, error.errors
    for name, check in (checks or {}).items():
        # The check reads the field exactly as the model does: a value the model accepted
        # (1.5 is the text "1.5") is always checked, so no form of input skips it.
        text = as_text(data.get(name)) if isinstance(data, dict) else None
        if name in errors:
            continue
        if text is None:
            if parsed is not None and getattr(parsed, name, None) is not None:
                raise AssertionError(f"field {name!r} parsed but was not checked")
            continue
        problems = await check(text)
        if problems:
            errors[name] = problems
    if errors or parsed is None:
        order = list(model.model_fields)
        raise ValidationError(dict(sorted(errors.items(), key=lambda kv: _position(order, kv[0]))))
    return parsed


def _position(order: list[str], name: str) -> int:
    return order.index(name) if name in order else len(order)


def _user_id(raw: str) -> int:
    """The id in a users/<id>/ path, read as Django reads a pk (Python's int()); NotFoundError
    when it is none, or beyond any id a database holds (where Django's SQLite answers 500)."""
    try:
        user_id = int(raw)
    except ValueError:
        raise NotFoundError from None
    if not 0 < user_id <= MAX_USER_ID:
        raise NotFoundError
    return user_id


def _raw_text(value: object) -> str:
    """A value Djoser reads straight from the body (no field): anything but a string is no
    valid uid or token, so it is checked as ""."""
    return value if isinstance(value, str) else ""


class DjoserViews:
    """The handlers of the Djoser dialect."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.settings = core.settings
        self._same_site = SameSite.from_settings(core.settings)

    @staticmethod
    def _user(principal: Principal | None) -> User:
        assert principal is not None  # noqa: S101 the dispatcher authenticated
        return principal.user

    def _password_of(self, user: User) -> FieldCheck:
        """`current_password` as Djoser checks it: a field validator, so its error comes in the
        same round as the other fields' (a taken `new_username` and a wrong password answer
        both)."""

        async def check(password: str) -> list[Message]:
            if await self.core.logins.check_password(user, password):
                return []
            return [Message("invalid_password")]

        return check

    # users/

    async def create_user(self, request: Request, _: Principal | None) -> Response:
        model = (
            s.UserCreateRetypeIn if self.settings.user_create_password_retype else s.UserCreateIn
        )
        checks = {"username": self.core.users.username_problems}
        parsing = parse_body(request, model, checks)
        body, towns = await parse_with_towns(self.core, request, model, parsing)
        user = await self.core.users.register(
            username=body.username,
            email=body.email or "",
            password=body.password,
            password_retype=getattr(body, "re_password", None),
            is_active=not self.settings.send_activation_email,
        )
        if towns is None:
            return json(s.UserCreatedOut.of(user), status=201)
        # Towns given (and checked above) are set once the user exists, and shown.
        placed = await self.core.directory.towns.assign(user, towns)
        return json({**s.UserCreatedOut.of(user), "towns": placed}, status=201)

    async def list_users(self, _: Request, principal: Principal | None) -> Response:
        viewer = self._user(principal)
        if self.settings.hide_users:
            users = await self.core.users.list_visible_to(viewer)
        else:
            # Djoser filters the list only under HIDE_USERS; without it anyone signed in
            # lists everyone (the core's policy knows no such setting).
            users = await self.core.store.list_users()
        return json([s.UserOut.of(user) for user in users])

    # users/me/ and users/<id>/

    async def me(self, _: Request, principal: Principal | None) -> Response:
        assert principal is not None  # noqa: S101 the dispatcher authenticated
        return json(self.me_answer(principal))

    @staticmethod
    def me_answer(principal: Principal, _: Fields = NO_FIELDS) -> dict[str, object]:
        """users/me/'s body: it depends only on who asks, so the fast lane serves it too."""
        return s.UserOut.of(principal.user)

    async def update_me(self, request: Request, principal: Principal | None) -> Response:
        return await self._update(request, self._user(principal), self._user(principal))

    async def delete_me(self, request: Request, principal: Principal | None) -> Response:
        return await self._delete(request, self._user(principal), self._user(principal))

    async def _target(self, request: Request, viewer: User, *, hidden_as_404: bool) -> User:
        """The user named in the path, if the viewer may act on them (Djoser's HIDE_USERS)."""
        target = await self.core.users.get(_user_id(request.path_params["id"]))
        if viewer.is_staff or target.id == viewer.id:
            return target
        raise NotFoundError if hidden_as_404 and self.settings.hide_users else PermissionDeniedError

    async def _changeable_target(
        self, request: Request, principal: Principal | None, *, hidden_as_404: bool = True
    ) -> User:
        """The users/<id>/ user if the caller may change them (DRF's OPTIONS shows `actions`
        for PUT only then): 403 before the body is read, as DRF checks object permissions
        first. The core checks the same rule again in the change itself."""
        viewer = self._user(principal)
        target = await self._target(request, viewer, hidden_as_404=hidden_as_404)
        authorize_user_change(viewer, target)
        return target

    async def user_detail(self, request: Request, principal: Principal | None) -> Response:
        target = await self._target(request, self._user(principal), hidden_as_404=True)
        return json(s.UserOut.of(target))

    async def update_user(self, request: Request, principal: Principal | None) -> Response:
        target = await self._changeable_target(request, principal)
        return await self._update(request, target, self._user(principal))

    async def delete_user(self, request: Request, principal: Principal | None) -> Response:
        target = await self._changeable_target(request, principal, hidden_as_404=False)
        return await self._delete(request, self._user(principal), target)

    async def _update(self, request: Request, target: User, actor: User) -> Response:
        parsing = parse_body(request, s.UserUpdateIn)
        body, towns = await parse_with_towns(self.core, request, s.UserUpdateIn, parsing)
        user = await self.core.users.update_profile(
            target,
            email=body.email,
            deactivate_on_email_change=self.settings.send_activation_email,
            actor=actor,
        )
        if towns is None:
            return json(s.UserOut.of(user))
        # Towns are shown when sent, as at registration; users/me/'s GET (the fast lane's
        # single cached lookup) stays as Djoser's, and GET /user/<id>/ shows them always.
        placed = await self.core.directory.towns.assign(user, towns)
        return json({**s.UserOut.of(user), "towns": placed})

    async def _delete(self, request: Request, viewer: User, target: User) -> Response:
        # Djoser checks the password of the one asking, who may be staff deleting someone else.
        await parse_body(
            request, s.CurrentPasswordIn, {"current_password": self._password_of(viewer)}
        )
        await self.core.users.delete(target, actor=viewer)
        return no_content()

    # password and username

    async def set_password(self, request: Request, principal: Principal | None) -> Response:
        user = self._user(principal)
        retyped = self.settings.set_password_retype
        model: type[s.SetPasswordBase] = s.SetPasswordRetypeIn if retyped else s.SetPasswordIn
        body = await parse_body(request, model, {"current_password": self._password_of(user)})
        retype = getattr(body, "re_new_password", None)
        await self.core.users.set_password(user, body.new_password, retype=retype, actor=user)
        return no_content()

    async def set_username(self, request: Request, principal: Principal | None) -> Response:
        user = self._user(principal)
        model = s.SetUsernameRetypeIn if self.settings.set_username_retype else s.SetUsernameIn
        checks: dict[str, FieldCheck] = {
            "new_username": partial(self.core.users.username_problems, asker=user),
            "current_password": self._password_of(user),
        }
        body = await parse_body(request, model, checks)
        retype = getattr(body, "re_new_username", None)
        await self.core.users.set_username(user, body.new_username, retype=retype)
        return no_content()

    async def reset_password(self, request: Request, _: Principal | None) -> Response:
        body = await parse_body(request, s.EmailIn)
        await self.core.recovery.request_password_reset(body.email)
        return no_content()

    async def reset_password_confirm(self, request: Request, _: Principal | None) -> Response:
        retyped = self.settings.password_reset_confirm_retype
        model = s.PasswordResetConfirmRetypeIn if retyped else s.PasswordResetConfirmIn
        body = await parse_body(request, model)
        retype = getattr(body, "re_new_password", None)
        # Djoser validates the new password before it looks at the link (its serializer's
        # validate() runs the password's first), against no user: weak password and bad link
        # answer the password's errors.
        problems = self.core.passwords.validate(body.new_password, {})
        if problems:
            raise ValidationError({"new_password": problems})
        if retype is not None and retype != body.new_password:
            raise ValidationError.single(NON_FIELD, "password_mismatch")
        await self.core.recovery.confirm_password_reset(
            uid=body.uid, token=body.token, new_password=body.new_password, retype=retype
        )
        return no_content()

    async def reset_username(self, request: Request, _: Principal | None) -> Response:
        body = await parse_body(request, s.EmailIn)
        await self.core.recovery.request_username_reset(body.email)
        return no_content()

    async def reset_username_confirm(self, request: Request, _: Principal | None) -> Response:
        retyped = self.settings.username_reset_confirm_retype
        model = s.UsernameResetConfirmRetypeIn if retyped else s.UsernameResetConfirmIn
        body = await parse_body(request, model, {"new_username": self.core.users.username_problems})
        await self.core.recovery.confirm_username_reset(
            uid=_raw_text(body.uid),
            token=_raw_text(body.token),
            new_username=body.new_username,
            retype=getattr(body, "re_new_username", None),
        )
        return no_content()

    # activation

    async def activation(self, request: Request, _: Principal | None) -> Response:
        body = await parse_body(request, s.UidAndTokenIn)
        await self.core.recovery.activate(uid=body.uid, token=body.token)
        return no_content()

    async def resend_activation(self, request: Request, _: Principal | None) -> Response:
        body = await parse_body(request, s.EmailIn)
        if not self.settings.send_activation_email:
            # Djoser answers this way when activation is off: 400 with an empty body.
            return Response(status_code=400)
        await self.core.recovery.resend_activation(body.email)
        return no_content()

    # tokens

    async def token_login(self, request: Request, _: Principal | None) -> Response:
        sessions = self.settings.create_session_on_login
        refused = self._same_site.refusal(request) if sessions else None
        if refused is not None:
            # The login would set session cookies: a cross-site form could log the victim's
            # browser into the attacker's account (login CSRF; http/same_site.py).
            raise CsrfFailedError(reason=refused.django_reason())
        by_email = self.settings.login_field == "email"
        model: type[s.TokenLoginBase] = s.TokenLoginByEmailIn if by_email else s.TokenLoginIn
        body = await parse_body(request, model)
        login = getattr(body, self.settings.login_field)
        user = await self.core.logins.authenticate(login=login, password=body.password)
        response = json({"auth_token": await self.core.tokens.issue(user)})
        if self.settings.create_session_on_login:
            await self._open_session(request, user, response)
        return response

    async def _open_session(self, request: Request, user: User, response: Response) -> None:
        """Djoser's CREATE_SESSION_ON_LOGIN: a new browser session in place of the last."""
        sessions, secure = self.core.sessions, secure_cookies(request, self.settings)
        raw = await sessions.replace(session_value(request, secure), user)
        set_session_cookie(response, raw, secure=secure)
        set_csrf_cookie(
            response,
            sessions.csrf_token_for(raw),
            secure=secure,
            domain=self.settings.cookie_domain,
        )

    async def token_logout(self, request: Request, principal: Principal | None) -> Response:
        assert principal is not None  # noqa: S101 the dispatcher authenticated
        await self.core.log_out(principal)
        response = no_content()
        if self.settings.create_session_on_login:
            await self._close_session(request, principal, response)
        return response

    async def _close_session(
        self, request: Request, principal: Principal, response: Response
    ) -> None:
        """Djoser logs the Django session out with the token: end the browser's session of
        the same user too, and forget its cookies."""
        sessions, secure = self.core.sessions, secure_cookies(request, self.settings)
        raw = session_value(request, secure)
        session = await sessions.resolve(raw) if raw else None
        ended = isinstance(principal, SessionPrincipal)  # core.log_out ended it
        if session is not None and session.user.id == principal.user.id and not ended:
            await sessions.end(session)
        clear_session_cookie(response, secure=secure)
        clear_csrf_cookie(response, secure=secure, domain=self.settings.cookie_domain)

    async def token_logout_all(self, _: Request, principal: Principal | None) -> Response:
        await self.core.tokens.log_out_everywhere(self._user(principal).id)
        return no_content()
