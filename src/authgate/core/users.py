"""The user lifecycle: register, authenticate, read, update, change password/username, delete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from authgate.core.clock import Clock
from authgate.core.errors import (
    NON_FIELD,
    AccountCreationError,
    ConflictError,
    InvalidCredentialsError,
    Message,
    NotFoundError,
    ValidationError,
)
from authgate.core.identity import (
    email_key,
    normalize_email,
    normalize_username,
    username_format_problems,
    username_key,
)
from authgate.core.jwt import Jwts
from authgate.core.models import UNUSABLE_PASSWORD_PREFIX, NewUser, User
from authgate.core.notices import Notices
from authgate.core.passwords import Passwords
from authgate.core.revocations import Revocations
from authgate.core.tokens import Tokens

if TYPE_CHECKING:
    from authgate.store import Store


class Users:
    """Everything that creates, changes or removes a user."""

    def __init__(
        self,
        *,
        store: Store,
        passwords: Passwords,
        tokens: Tokens,
        notices: Notices,
        revocations: Revocations,
        clock: Clock,
        login_field: str,
        revoke_tokens_on_password_change: bool,
        jwts: Jwts,
    ) -> None:
        self._store = store
        self._passwords = passwords
        self._tokens = tokens
        self._notices = notices
        self._revocations = revocations
        self._clock = clock
        self._login_field = login_field
        self._revoke_on_password_change = revoke_tokens_on_password_change
        self._jwts = jwts

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

    async def find_by_email(self, email: str) -> User | None:
        """The user with this email (compared normalised), if any."""
        key = email_key(email)
        return await self._store.get_user_by_email_key(key) if key else None

    # Field checks that need the database, run beside a dialect's own field validation

    async def username_problems(self, username: str) -> list[Message]:
        """Format and uniqueness problems of a prospective username."""
        problems = username_format_problems(username)
        if not problems and await self._store.get_user_by_username_key(username_key(username)):
            problems.append(Message("username_exists"))
        return problems

    async def email_problems(self, email: str) -> list[Message]:
        """Uniqueness problems of a prospective email ("" is always allowed)."""
        return [Message("email_exists")] if await self.find_by_email(email) else []

    # Registration and login

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
    ) -> User:
        """Create a user after Django's checks: field rules, then password validators.

        `password=None` creates an account that cannot log in with a password.
        """
        username, email = normalize_username(username), normalize_email(email)
        field_problems = {
            "username": await self.username_problems(username),
            "email": await self.email_problems(email),
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
        new = NewUser(
            username=username,
            username_key=username_key(username),
            email=email,
            email_key=email_key(email),
            password_hash=password_hash,
            is_active=is_active,
            date_joined=self._clock.now(),
            first_name=first_name,
            last_name=last_name,
            is_staff=is_staff,
            is_superuser=is_superuser,
        )
        try:
            user = await self._store.create_user(new)
        except ConflictError as conflict:
            # Lost a race against a concurrent registration of the same name.
            raise _taken(conflict, conflict.field_name) from conflict
        except Exception as error:
            raise AccountCreationError from error
        if not user.is_active:
            self._notices.activation(user)
        return user

    async def authenticate(
        self, *, login: str | None, password: str | None, login_field: str | None = None
    ) -> User:
        """The active user these credentials identify, else InvalidCredentialsError.

        `login` is read as `login_field` ("username" or "email"; the setting by default).
        Unknown user, wrong password and inactive user fail alike, and in the same time: an
        unknown login still pays for one argon2id verification.
        """
        field = login_field or self._login_field
        user = await self._find_by_login(login, field) if login else None
        outcome = await self._passwords.verify(password or "", user.password_hash if user else None)
        if user is None or not outcome.matches or not user.is_active or password is None:
            raise InvalidCredentialsError
        changes: dict[str, object] = {"last_login": self._clock.now()}
        if outcome.needs_rehash:
            changes["password"] = await self._passwords.hash(password)
        # Not published to the revocation feed: a login (or a rehash of the same password)
        # ends nobody's session.
        updated = await self._store.update_user(user.id, changes)
        if updated is None:
            raise InvalidCredentialsError
        return updated

    async def _find_by_login(self, login: str, field: str) -> User | None:
        if field == "email":
            return await self.find_by_email(login)
        return await self._store.get_user_by_username_key(username_key(login))

    async def check_password(self, user: User, password: str) -> bool:
        """Whether `password` is this user's password."""
        return (await self._passwords.verify(password, user.password_hash)).matches

    # Changes

    async def update_profile(
        self,
        user: User,
        *,
        email: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        deactivate_on_email_change: bool = False,
    ) -> User:
        """Change the fields a user may edit about themselves."""
        changes: dict[str, object] = {}
        if first_name is not None:
            changes["first_name"] = first_name
        if last_name is not None:
            changes["last_name"] = last_name
        # Stored as sent, as Django's update does (it normalises only at creation); the
        # uniqueness key is normalised all the same.
        if email is not None and email != user.email:
            if email_key(email) != email_key(user.email):
                _raise_if_any({"email": await self.email_problems(email)})
            changes |= {"email": email, "email_key": email_key(email)}
            if deactivate_on_email_change:
                changes["is_active"] = False
        if not changes:
            return user  # nothing changed: nobody's cached session needs to end
        deactivating = changes.get("is_active") is False
        # A deactivation revokes every token below, which tells the feed once for both.
        updated = await self._update(user, changes, publish=not deactivating)
        if deactivating:
            await self._tokens.revoke_all(user.id)
            await self._jwts.end_sessions(user.id)
            self._notices.activation(updated)
        return updated

    async def set_password(
        self,
        user: User,
        new_password: str,
        *,
        retype: str | None = None,
        check_similarity: bool = True,
    ) -> User:
        """Validate and store a new password; revokes the user's tokens (setting)."""
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
        updated = await self._update(user, {"password": new_hash}, publish=not revoking)
        if revoking:
            await self._tokens.revoke_all(user.id)
        # JWTs issued before the change die whatever the setting (CVE-2024-22513).
        await self._jwts.end_sessions(user.id)
        self._notices.password_changed(updated)
        return updated

    async def set_username(
        self, user: User, new_username: str, *, retype: str | None = None
    ) -> User:
        """Rename a user. Renaming to the current name is a uniqueness error, as in Djoser."""
        _raise_if_any({"new_username": await self.username_problems(new_username)})
        if retype is not None and retype != new_username:
            raise ValidationError.single(NON_FIELD, "username_mismatch")
        new_username = normalize_username(new_username)
        changes = {"username": new_username, "username_key": username_key(new_username)}
        updated = await self._update(user, changes, conflict_field="new_username")
        self._notices.username_changed(updated)
        return updated

    async def set_active(self, user: User, *, active: bool) -> User:
        """Activate or deactivate; a deactivated user's tokens are revoked."""
        updated = await self._update(user, {"is_active": active}, publish=active)
        if not active:
            await self._tokens.revoke_all(user.id)
            await self._jwts.end_sessions(user.id)
        return updated

    async def record_login(self, user: User) -> User:
        """Set last_login to now (also what makes a used reset link stale); ends no session."""
        return await self._update(user, {"last_login": self._clock.now()}, publish=False)

    async def delete(self, user: User) -> None:
        """Delete a user and, by cascade, every token of theirs. The feed is told after the
        row is gone, so no login can slip a token in between."""
        await self._store.delete_user(user.id)
        await self._revocations.publish(user.id)

    async def _update(
        self,
        user: User,
        changes: Mapping[str, object],
        *,
        conflict_field: str | None = None,
        publish: bool = True,
    ) -> User:
        """Apply `changes`; `publish` tells the revocation feed (off only where a revoke_all
        that publishes follows, or the change cannot affect a session)."""
        try:
            updated = await self._store.update_user(user.id, changes)
        except ConflictError as conflict:
            raise _taken(conflict, conflict_field or conflict.field_name) from conflict
        if updated is None:
            raise NotFoundError
        if publish:
            await self._revocations.publish(user.id)
        return updated


def _taken(conflict: ConflictError, field_name: str) -> ValidationError:
    """The field error for a unique key the store found taken."""
    code = "email_exists" if conflict.field_name == "email" else "username_exists"
    return ValidationError.single(field_name, code)


def _raise_if_any(problems: dict[str, list[Message]]) -> None:
    found = {name: messages for name, messages in problems.items() if messages}
    if found:
        raise ValidationError(found)
