"""The user lifecycle: register, authenticate, read, update, change password/username, delete."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from authgate.core import audit
from authgate.core.audit import Audit, by_staff
from authgate.core.callers import caller_address
from authgate.core.clock import Clock
from authgate.core.errors import (
    NON_FIELD,
    AccountCreationError,
    ConflictError,
    InvalidCredentialsError,
    Message,
    NotFoundError,
    PermissionDeniedError,
    ThrottledError,
    ValidationError,
)
from authgate.core.events import NO_EVENTS, SUCCESS, THROTTLED, Events
from authgate.core.identity import (
    email_key,
    normalize_email,
    normalize_username,
    username_format_problems,
    username_key,
)
from authgate.core.jwt import Jwts
from authgate.core.lockout import Lockout
from authgate.core.models import UNUSABLE_PASSWORD_PREFIX, NewUser, User, UserSearch
from authgate.core.notices import Notices
from authgate.core.passwords import Passwords
from authgate.core.probes import Probes
from authgate.core.revocations import Revocations
from authgate.core.staff import require_staff
from authgate.core.throttling import LOGIN, REGISTER, Throttle
from authgate.core.tokens import Tokens
from authgate.store.unavailable import is_unavailable

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
        throttle: Throttle,
        lockout: Lockout,
        audit: Audit,
        events: Events = NO_EVENTS,
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
        self._throttle = throttle
        self._probes = Probes(throttle)
        self._lockout = lockout
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

    # Field checks that need the database, run beside a dialect's own field validation. Each
    # lookup tells whether an account exists: it is counted first as a probe of `asker` (None:
    # someone not signed in), ThrottledError past the limits (core/probes.py). Only staff's
    # own work (`counted=False`) is not.

    async def username_problems(
        self, username: str, *, asker: User | None = None, counted: bool = True
    ) -> list[Message]:
        """Format and uniqueness problems of a prospective username."""
        problems = username_format_problems(username)
        if problems:
            return problems  # no lookup: nothing learnt, nothing counted
        if counted:
            await self._probes.count(asker)
        if await self._store.get_user_by_username_key(username_key(username)):
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
            if is_unavailable(error):
                raise  # the database is away: a 503, not "cannot create user"
            raise AccountCreationError from error
        if not user.is_active:
            self._notices.activation(user)
        await self._audit.record(audit.REGISTER, user_id=user.id)
        self._events.registered()
        return user

    async def authenticate(
        self,
        *,
        login: str | None,
        password: str | None,
        login_field: str | None = None,
    ) -> User:
        """The active user these credentials identify, else InvalidCredentialsError.

        `login` is read as `login_field` ("username" or "email"; the setting by default).
        Unknown user, wrong password, inactive user and locked login (core/lockout.py) fail
        alike, and in the same time: an unknown login still pays for one argon2id
        verification. Too many attempts from the caller or at `login` raise ThrottledError
        before any password is checked.
        """
        field = login_field or self._login_field
        account = _login_key(login, field)
        try:
            await self._throttle.hit(LOGIN, client=caller_address(), account=account)
        except ThrottledError:
            self._events.login(THROTTLED)
            raise
        user = await self._find_by_login(login, field) if login else None
        # A user is locked whichever login names them (username or email); an unknown login
        # by the login itself, so that it fails exactly as a known one does.
        lock_key = _user_key(user.id) if user else _login_key(login, field)
        locked = lock_key is not None and await self._lockout.is_locked(lock_key)
        outcome = await self._passwords.verify(password or "", user.password_hash if user else None)
        matches = outcome.matches and password is not None
        reason = _failure(user, matches=matches, locked=locked)
        if reason is not None or user is None or password is None:  # (the last two: for mypy)
            failure = reason or audit.UNKNOWN_USER
            await self._failed_login(login, user, lock_key, failure, locked=locked)
            self._events.login(failure)  # the audit log's reasons are the outcomes' names
            raise InvalidCredentialsError
        await self._lockout.succeeded(_user_key(user.id))
        changes: dict[str, object] = {"last_login": self._clock.now()}
        if outcome.needs_rehash:
            changes["password"] = await self._passwords.hash(password)
        # Not published to the revocation feed: a login (or a rehash of the same password)
        # ends nobody's session.
        updated = await self._store.update_user(user.id, changes)
        if updated is None:
            self._events.login(audit.UNKNOWN_USER)  # deleted while its password was checked
            raise InvalidCredentialsError
        await self._audit.record(audit.LOGIN, user_id=user.id)
        self._events.login(SUCCESS)
        return updated

    async def _failed_login(
        self,
        login: str | None,
        user: User | None,
        lock_key: str | None,
        reason: str,
        *,
        locked: bool,
    ) -> None:
        """Count the failure towards a lockout (unless already locked) and log it."""
        user_id = user.id if user else None
        await self._audit.record(
            audit.LOGIN, audit.FAILURE, user_id=user_id, login=login, reason=reason
        )
        if lock_key is not None and not locked and await self._lockout.failed(lock_key) > 0:
            await self._audit.record(audit.LOCKOUT, user_id=user_id, login=login)
            self._events.locked_out()

    async def unlock(self, user: User) -> None:
        """Lift a lockout of this user at once (staff)."""
        await self._lockout.unlock(_user_key(user.id))
        await self._audit.record(audit.UNLOCK, user_id=user.id)

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
        actor: User | None = None,
    ) -> User:
        """Change the fields a user may edit about themselves (or staff, `actor`, for them);
        a change is audited, naming the fields (never their values) and a staff actor."""
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
                asker = actor or user
                _raise_if_any({"email": await self.email_problems(email, asker=asker)})
            changes |= {"email": email, "email_key": email_key(email)}
            if deactivate_on_email_change:
                changes["is_active"] = False
        if not changes:
            return user  # nothing changed: nobody's cached session needs to end
        await self._audit.record(
            audit.PROFILE_CHANGE,
            user_id=user.id,
            reason=_fields_changed(changes.keys() - {"email_key"}, user, actor),
        )
        deactivating = changes.get("is_active") is False
        # A deactivation revokes every token below, which tells the feed once for both.
        updated = await self._update(user, changes, publish=not deactivating)
        if deactivating:
            await self._tokens.revoke_all(user.id)
            await self._jwts.end_sessions(user.id)
            await self._store.delete_user_sessions(user.id)  # browser sessions (core/sessions.py)
            self._notices.activation(updated)
        return updated

    async def set_password(
        self,
        user: User,
        new_password: str,
        *,
        retype: str | None = None,
        check_similarity: bool = True,
        actor: User | None = None,
    ) -> User:
        """Validate and store a new password; revokes the user's tokens (setting). `actor`:
        the staff member setting it, named in the audit entry."""
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
        # Browser sessions too: a stolen session must not outlive the password (Django's rule).
        await self._store.delete_user_sessions(user.id)
        self._notices.password_changed(updated)
        reason = by_staff("set", actor) if actor is not None and actor.id != user.id else None
        await self._audit.record(audit.PASSWORD_CHANGE, user_id=user.id, reason=reason)
        return updated

    async def set_username(
        self, user: User, new_username: str, *, retype: str | None = None
    ) -> User:
        """Rename a user (by themselves, or by a username reset link). Renaming to the current
        name is a uniqueness error, as in Djoser."""
        problems = await self.username_problems(new_username, asker=user)
        _raise_if_any({"new_username": problems})
        if retype is not None and retype != new_username:
            raise ValidationError.single(NON_FIELD, "username_mismatch")
        new_username = normalize_username(new_username)
        changes = {"username": new_username, "username_key": username_key(new_username)}
        updated = await self._update(user, changes, conflict_field="new_username")
        self._notices.username_changed(updated)
        await self._audit.record(audit.USERNAME_CHANGE, user_id=user.id)
        return updated

    async def set_active(self, user: User, *, active: bool, actor: User | None = None) -> User:
        """Activate or deactivate; a deactivated user's tokens are revoked. With `actor` (staff
        doing it) the change is audited here; without, the caller records its own event
        (the activation link's ACTIVATION)."""
        updated = await self._update(user, {"is_active": active}, publish=active)
        if not active:
            await self._tokens.revoke_all(user.id)
            await self._jwts.end_sessions(user.id)
            await self._store.delete_user_sessions(user.id)  # browser sessions (core/sessions.py)
        if actor is not None:
            event = audit.ACTIVATION if active else audit.DEACTIVATION
            await self._audit.record(event, user_id=user.id, reason=by_staff("", actor).strip())
        return updated

    async def set_privileges(
        self,
        user: User,
        *,
        actor: User | None,
        role: str | None = None,
        is_staff: bool | None = None,
        is_superuser: bool | None = None,
        roles: Collection[str] = (),
    ) -> User:
        """Change a user's application role and staff/superuser flags. `actor` None is the CLI
        (the operator); otherwise only staff may, and only a superuser may grant or take
        superuser. `roles`: the configured roles, `role` must be one of them."""
        if actor is not None:
            require_staff(actor)
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
        by = f" by {actor.username}" if actor else " by the CLI"
        await self._audit.record(audit.ROLE_CHANGE, user_id=user.id, reason=(what + by)[:64])
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


def _fields_changed(fields: Collection[str], user: User, actor: User | None) -> str:
    """An audit reason naming the changed fields (in a fixed order), and the staff member
    who changed them when it was not the user."""
    what = ",".join(sorted(fields))
    return by_staff(what, actor) if actor is not None and actor.id != user.id else what


def _raise_if_any(problems: dict[str, list[Message]]) -> None:
    found = {name: messages for name, messages in problems.items() if messages}
    if found:
        raise ValidationError(found)


def _login_key(login: str | None, field: str) -> str | None:
    """The key a login is throttled and locked by: the user's lookup key, whether or not the
    user exists."""
    if not login:
        return None
    return f"email:{email_key(login)}" if field == "email" else f"username:{username_key(login)}"


def _user_key(user_id: int) -> str:
    """The key a known user is locked by."""
    return f"user:{user_id}"


def _failure(user: User | None, *, matches: bool, locked: bool) -> str | None:
    """Why a login fails (for the audit log only), or None when it succeeds."""
    if user is None:
        return audit.UNKNOWN_USER
    if not matches:
        return audit.WRONG_PASSWORD
    if not user.is_active:
        return audit.INACTIVE
    if locked:
        return audit.LOCKED
    return None
