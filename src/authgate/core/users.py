"""The user lifecycle: register, read, update, change password or username, activate,
deactivate, delete. Password logins are core/logins.py's."""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from authgate.core import audit
from authgate.core.audit import Audit, by_staff
from authgate.core.callers import caller_address
from authgate.core.clock import Clock
from authgate.core.credentials import Credentials
from authgate.core.errors import (
    NON_FIELD,
    AccountCreationError,
    ChangedMeanwhileError,
    ConflictError,
    Message,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
    ValidationError,
)
from authgate.core.events import NO_EVENTS, Events
from authgate.core.identity import (
    email_key,
    normalize_email,
    normalize_username,
    username_columns,
    username_format_problems,
    username_key,
    username_skeletons,
)
from authgate.core.models import UNUSABLE_PASSWORD_PREFIX, NewUser, User, UserSearch
from authgate.core.notices import Notices
from authgate.core.passwords import Passwords
from authgate.core.probes import Probes
from authgate.core.revocations import Revocations
from authgate.core.staff import (
    Actor,
    Operator,
    authorize_staff_change,
    authorize_user_change,
    require_staff,
)
from authgate.core.throttling import REGISTER, Throttle

if TYPE_CHECKING:
    from authgate.store.protocol import Store


class Users:
    """Everything that creates, changes or removes a user."""

    def __init__(
        self,
        *,
        store: Store,
        passwords: Passwords,
        credentials: Credentials,
        notices: Notices,
        revocations: Revocations,
        clock: Clock,
        revoke_tokens_on_password_change: bool,
        throttle: Throttle,
        audit: Audit,
        events: Events = NO_EVENTS,
    ) -> None:
        self._store = store
        self._passwords = passwords
        self._credentials = credentials
        self._notices = notices
        self._revocations = revocations
        self._clock = clock
        self._revoke_on_password_change = revoke_tokens_on_password_change
        self._throttle = throttle
        self._probes = Probes(throttle)
        self._audit = audit
        self._events = events

    # Reads

    async def get(self, user_id: int) -> User:
        """The user with this id, or NotFoundError."""
        user = await self._store.get_user(user_id)
        if user is None:
            raise NotFoundError
        return user

    async def list_visible_to(self, viewer: User) -> list[User]:
        """Staff see every user; anyone else only themselves."""
        return await self._store.list_users() if viewer.is_staff else [viewer]

    async def search(
        self, actor: User, text: str = "", *, after_id: int = 0, limit: int = 50
    ) -> list[User]:
        """Staff's search (PermissionDeniedError for anyone else): users by id after
        `after_id`, at most `limit`, whose username, email or name contains `text` ignoring
        case (every user when it is blank). The database filters and pages."""
        require_staff(actor)
        return await self._store.search_users(UserSearch(text.strip(), after_id, limit))

    async def find_by_email(self, email: str) -> User | None:
        """The user with this email (compared normalised), if any."""
        key = email_key(email)
        return await self._store.get_user_by_email_key(key) if key else None

    async def find_by_login(self, login: str, field: str) -> User | None:
        """The user a login names, read as `field` ("username" or "email"), if any."""
        if field == "email":
            return await self.find_by_email(login)
        return await self._store.get_user_by_username_key(username_key(login))

    # Field checks that need the database, run beside a dialect's own field validation. Each
    # lookup tells whether an account exists: it is counted first as a probe of `asker` (None:
    # someone not signed in), ThrottledError past the limits (core/probes.py). Only staff's
    # own work (`counted=False`) is not.

    async def username_problems(
        self, username: str, *, asker: User | None = None, counted: bool = True
    ) -> list[Message]:
        """Format and uniqueness problems of a prospective username: taken when a user has it,
        in any case or compatibility form, or a look-alike of it (UTS #39 skeletons)."""
        problems = username_format_problems(username)
        if problems:
            return problems  # no lookup: nothing learnt, nothing counted
        if counted:
            await self._probes.count(asker)
        if await self._store.username_taken(username_columns(username)):
            problems.append(Message("username_exists"))
        return problems

    async def email_problems(
        self, email: str, *, asker: User | None = None, counted: bool = True
    ) -> list[Message]:
        """Uniqueness problems of a prospective email ("" is always allowed)."""
        if not email_key(email):
            return []
        if counted:
            await self._probes.count(asker)
        return [Message("email_exists")] if await self.find_by_email(email) else []

    # Registration

    async def register(
        self,
        *,
        username: str,
        email: str,
        password: str | None,
        password_retype: str | None = None,
        first_name: str = "",
        last_name: str = "",
        is_active: bool = True,
        is_staff: bool = False,
        is_superuser: bool = False,
        by_staff: bool = False,
    ) -> User:
        """Create a user after Django's checks: field rules, then password validators.

        `password=None` creates an account that cannot log in with a password. A sign-up (not
        `by_staff`) is throttled per caller address first: ThrottledError when over its limit.
        """
        if not by_staff:
            await self._throttle.hit(REGISTER, client=caller_address())
        username, email = normalize_username(username), normalize_email(email)
        counted = not by_staff
        field_problems = {
            "username": await self.username_problems(username, counted=counted),
            "email": await self.email_problems(email, counted=counted),
        }
        _raise_if_any(field_problems)
        attributes = {
            "username": username,
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
        }
        if password is not None:
            _raise_if_any({"password": self._passwords.validate(password, attributes)})
            if password_retype is not None and password != password_retype:
                raise ValidationError.single(NON_FIELD, "password_mismatch")
        password_hash = (
            UNUSABLE_PASSWORD_PREFIX if password is None else await self._passwords.hash(password)
        )
        now = self._clock.now()
        # A sign-up that is not active waits for its owner's activation link; an account
        # staff create inactive is deactivated, as if by staff.
        requested = now if not is_active and not by_staff else None
        new = NewUser(
            username=username,
            username_key=username_key(username),
            email=email,
            email_key=email_key(email),
            password_hash=password_hash,
            is_active=is_active,
            date_joined=now,
            first_name=first_name,
            last_name=last_name,
            is_staff=is_staff,
            is_superuser=is_superuser,
            activation_requested_at=requested,
        )
        try:
            user = await self._store.create_user(new)
        except ConflictError as conflict:
            # Lost a race against a concurrent registration of the same name.
            raise _taken(conflict, conflict.field_name) from conflict
        except UnavailableError:
            raise  # the database is away: a 503, not "cannot create user"
        except Exception as error:
            raise AccountCreationError from error
        if not user.is_active:
            self._notices.activation(user)
        await self._audit.record(audit.REGISTER, user_id=user.id)
        self._events.registered()
        return user

    # Changes

    async def update_profile(
        self,
        user: User,
        *,
        email: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        deactivate_on_email_change: bool = False,
        actor: Actor,
    ) -> User:
        """Change the fields a user may edit about themselves (or staff, `actor`, for them);
        a change is audited, naming the fields (never their values) and a staff actor.

        `deactivate_on_email_change` (activation emails on) applies to the user's own change
        only: their new address must be proved before they sign in again. A staff member who
        changes someone's email vouches for it, and locks nobody out."""
        authorize_user_change(actor, user)
        changes: dict[str, object] = {}
        # Only what differs: an unchanged field is no change to write, publish or audit.
        if first_name is not None and first_name != user.first_name:
            changes["first_name"] = first_name
        if last_name is not None and last_name != user.last_name:
            changes["last_name"] = last_name
        # Stored as sent, as Django's update does (it normalises only at creation); the
        # uniqueness key is normalised all the same.
        if email is not None and email != user.email:
            if email_key(email) != email_key(user.email):
                # The operator (the CLI) is not counted: it holds the database anyway.
                problems = await self.email_problems(
                    email,
                    asker=actor if isinstance(actor, User) else None,
                    counted=isinstance(actor, User),
                )
                _raise_if_any({"email": problems})
            changes |= {"email": email, "email_key": email_key(email)}
            if deactivate_on_email_change and _is_self(actor, user):
                changes |= {"is_active": False, "activation_requested_at": self._clock.now()}
        if not changes:
            return user  # nothing changed: nobody's cached session needs to end
        await self._audit.record(
            audit.PROFILE_CHANGE,
            user_id=user.id,
            reason=_fields_changed(changes.keys() - {"email_key"}, user, actor),
        )
        deactivating = changes.get("is_active") is False
        # A deactivation ends every credential below, which tells the feed once for both.
        updated = await self._update(user, changes, publish=not deactivating)
        if deactivating:
            await self._credentials.end_all(user.id)
            self._notices.activation(updated)
        return updated

    async def set_password(
        self,
        user: User,
        new_password: str,
        *,
        retype: str | None = None,
        check_similarity: bool = True,
        actor: Actor,
        only_if_unchanged: bool = False,
    ) -> User:
        """Validate and store a new password; revokes the user's tokens (setting). `actor`:
        the user themselves, or staff (named in the audit entry) or the operator.
        `only_if_unchanged` (a reset link): ChangedMeanwhileError unless the password is still
        the one `user` holds, checked in the write itself, so one link sets it once."""
        authorize_user_change(actor, user)
        attributes = (
            {}
            if not check_similarity
            else {
                "username": user.username,
                "email": user.email,
                "first_name": user.first_name,
                "last_name": user.last_name,
            }
        )
        _raise_if_any({"new_password": self._passwords.validate(new_password, attributes)})
        if retype is not None and retype != new_password:
            raise ValidationError.single(NON_FIELD, "password_mismatch")
        new_hash = await self._passwords.hash(new_password)
        revoking = self._revoke_on_password_change
        expected = {"password": user.password_hash} if only_if_unchanged else None
        updated = await self._update(
            user, {"password": new_hash}, publish=not revoking, expected=expected
        )
        await self._credentials.end_all(user.id, keep_opaque_tokens=not revoking)
        self._notices.password_changed(updated)
        reason = None if _is_self(actor, user) else _by_whom("set", actor)
        await self._audit.record(audit.PASSWORD_CHANGE, user_id=user.id, reason=reason)
        return updated

    async def set_username(
        self,
        user: User,
        new_username: str,
        *,
        retype: str | None = None,
        only_if_unchanged: bool = False,
    ) -> User:
        """Rename a user (by themselves, or by a username reset link). Renaming to the current
        name is a uniqueness error, as in Djoser. `only_if_unchanged` (a reset link):
        ChangedMeanwhileError unless the username is still the one `user` holds, checked in the
        write itself."""
        problems = await self.username_problems(new_username, asker=user)
        _raise_if_any({"new_username": problems})
        if retype is not None and retype != new_username:
            raise ValidationError.single(NON_FIELD, "username_mismatch")
        new_username = normalize_username(new_username)
        changes = {"username": new_username, **username_columns(new_username)}
        expected = {"username": user.username} if only_if_unchanged else None
        updated = await self._update(
            user, changes, conflict_field="new_username", expected=expected
        )
        await self._reclaim_skeletons()  # the old name's
        self._notices.username_changed(updated)
        await self._audit.record(audit.USERNAME_CHANGE, user_id=user.id)
        return updated

    async def set_active(self, user: User, *, active: bool, actor: Actor) -> User:
        """Activate or deactivate (staff or the operator); a deactivated user's tokens are
        revoked. Audited, naming the actor. Either way no activation link serves the account
        any more: a deactivation is staff's to undo."""
        authorize_staff_change(actor, user)
        changes = {"is_active": active, "activation_requested_at": None}
        updated = await self._update(user, changes, publish=active)
        if not active:
            await self._credentials.end_all(user.id)
        event = audit.ACTIVATION if active else audit.DEACTIVATION
        await self._audit.record(event, user_id=user.id, reason=_by_whom("", actor).strip())
        return updated

    async def set_privileges(
        self,
        user: User,
        *,
        actor: Actor,
        role: str | None = None,
        is_staff: bool | None = None,
        is_superuser: bool | None = None,
        roles: Collection[str] = (),
    ) -> User:
        """Change a user's application role and staff/superuser flags: the operator, or staff
        who may change the user, and only a superuser may grant or take superuser. `roles`:
        the configured roles, `role` must be one of them."""
        authorize_staff_change(actor, user)
        if isinstance(actor, User):
            granting = is_superuser is not None and is_superuser != user.is_superuser
            if granting and not actor.is_superuser:
                raise PermissionDeniedError
        changes: dict[str, object] = {}
        if role is not None and role != user.role:
            if role not in roles:
                raise ValidationError.single("role", "invalid_choice", input=role)
            changes["role"] = role
        if is_staff is not None and is_staff != user.is_staff:
            changes["is_staff"] = is_staff
        if is_superuser is not None and is_superuser != user.is_superuser:
            changes["is_superuser"] = is_superuser
        if not changes:
            return user
        updated = await self._update(user, changes)
        what = ",".join(f"{k}={v}" for k, v in changes.items())
        by = actor.name if isinstance(actor, Operator) else actor.username
        await self._audit.record(audit.ROLE_CHANGE, user_id=user.id, reason=f"{what} by {by}"[:64])
        return updated

    async def activate(self, user: User) -> User:
        """Activate an account that awaits its activation link (the link checked by the
        caller): ChangedMeanwhileError unless it still awaits it, for the same request,
        checked in the write itself, so one link activates once. The request's time stays:
        a used link is then known as stale, not as forged."""
        if not user.awaits_activation:
            raise ChangedMeanwhileError
        expected = {"is_active": False, "activation_requested_at": user.activation_requested_at}
        return await self._update(user, {"is_active": True}, expected=expected)

    async def record_login(self, user: User) -> User:
        """Set last_login to now (also what makes a used reset link stale); ends no session,
        but the user's record shows it: told to the feed only (a recovery link's use is rare;
        a password login's, on every login, is evicted in its own process: core/logins.py)."""
        updated = await self._update(user, {"last_login": self._clock.now()}, publish=False)
        await self._revocations.publish(user.id, push=False)
        return updated

    async def delete(self, user: User, *, actor: Actor) -> None:
        """Delete a user (themselves, staff who may change them, or the operator) and, by
        cascade, every token of theirs. The feed is told after the row is gone, so no login
        can slip a token in between."""
        authorize_user_change(actor, user)
        await self._store.delete_user(user.id)
        await self._revocations.publish(user.id)
        await self._reclaim_skeletons()

    async def _reclaim_skeletons(self) -> None:
        """After a name is given up: a user who looked like its holder before migration 0009
        (and so has no skeleton of their own) takes the skeleton over, so that look-alikes of
        them stay taken. One indexed read finds nobody, unless such pairs exist."""
        for user_id, key, *stored in await self._store.users_without_skeleton():
            columns = ("username_skeleton_lower", "username_skeleton_upper")
            for column, held, skeleton in zip(
                columns, stored, username_skeletons(key), strict=True
            ):
                if held is None:
                    with contextlib.suppress(ConflictError):  # someone else still holds it
                        await self._store.update_user(user_id, {column: skeleton})

    async def _update(
        self,
        user: User,
        changes: Mapping[str, object],
        *,
        conflict_field: str | None = None,
        publish: bool = True,
        expected: Mapping[str, object] | None = None,
    ) -> User:
        """Apply `changes`; `publish` tells the revocation feed (off only where a revoke_all
        that publishes follows, or the change cannot affect a session). With `expected`, only
        while those columns hold those values (ChangedMeanwhileError if not)."""
        try:
            if expected is None:
                updated = await self._store.update_user(user.id, changes)
            else:
                updated = await self._store.update_user_if(user.id, expected, changes)
        except ConflictError as conflict:
            raise _taken(conflict, conflict_field or conflict.field_name) from conflict
        if updated is None:
            raise NotFoundError if expected is None else ChangedMeanwhileError
        if publish:
            await self._revocations.publish(user.id)
        return updated


def _taken(conflict: ConflictError, field_name: str) -> ValidationError:
    """The field error for a unique key the store found taken."""
    code = "email_exists" if conflict.field_name == "email" else "username_exists"
    return ValidationError.single(field_name, code)


def _is_self(actor: Actor, user: User) -> bool:
    """Whether the user is changing their own account."""
    return isinstance(actor, User) and actor.id == user.id


def _by_whom(what: str, actor: Actor) -> str:
    """An audit reason: what changed, and the staff member (or the CLI) who changed it."""
    if isinstance(actor, Operator):
        return f"{what} by {actor.name}"[:64]
    return by_staff(what, actor)


def _fields_changed(fields: Collection[str], user: User, actor: Actor) -> str:
    """An audit reason naming the changed fields (in a fixed order), and the staff member
    who changed them when it was not the user."""
    what = ",".join(sorted(fields))
    return what if _is_self(actor, user) else _by_whom(what, actor)


def _raise_if_any(problems: dict[str, list[Message]]) -> None:
    found = {name: messages for name, messages in problems.items() if messages}
    if found:
        raise ValidationError(found)
