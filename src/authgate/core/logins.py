"""Password logins: who a login and password identify, with the throttling, the lockout and
the timing that keep a login from telling more than "yes" or "no"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from authgate.core import audit
from authgate.core.audit import Audit
from authgate.core.callers import caller_address
from authgate.core.clock import Clock
from authgate.core.errors import InvalidCredentialsError, ThrottledError
from authgate.core.events import NO_EVENTS, SUCCESS, THROTTLED, Events
from authgate.core.identity import email_key, username_key
from authgate.core.lockout import FREE, Lockout
from authgate.core.models import User
from authgate.core.passwords import Passwords, Verification
from authgate.core.revocations import Revocations
from authgate.core.throttling import LOGIN, Throttle
from authgate.core.tokens import Tokens
from authgate.core.users import Users

if TYPE_CHECKING:
    from authgate.store.protocol import Store


class Logins:
    """Password checks of a login or of a signed-in user, and the lockout staff can lift."""

    def __init__(
        self,
        *,
        store: Store,
        users: Users,
        passwords: Passwords,
        clock: Clock,
        login_field: str,
        throttle: Throttle,
        lockout: Lockout,
        audit: Audit,
        tokens: Tokens,
        revocations: Revocations,
        events: Events = NO_EVENTS,
    ) -> None:
        self._store = store
        self._revocations = revocations
        self._users = users
        self._passwords = passwords
        self._clock = clock
        self._login_field = login_field
        self._throttle = throttle
        self._lockout = lockout
        self._audit = audit
        self._tokens = tokens
        self._events = events

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
        alike: an unknown login still pays for one argon2id verification, a locked one pays
        for none. Too many attempts from the caller or at the account from the caller raise
        ThrottledError before any password is checked.
        """
        user, _ = await self._log_in(login, password, login_field or self._login_field)
        return user

    async def log_in_with_token(self, *, login: str | None, password: str | None) -> str:
        """authenticate, then a new opaque token of the user (core/tokens.py), written with
        the login's own changes in one transaction: the token exists only if the user is
        still active with the password verified when it is stored."""
        _, raw = await self._log_in(login, password, self._login_field, with_token=True)
        assert raw is not None  # noqa: S101 asked for
        return raw

    async def _log_in(
        self, login: str | None, password: str | None, field: str, *, with_token: bool = False
    ) -> tuple[User, str | None]:
        # Throttled by the login as sent, before the lookup: a 429 is visible, so its budget
        # must not tell whether (or that) a username and an email name the same account.
        try:
            await self._throttle_guess(_login_key(login, field))
        except ThrottledError:
            # Logged for the admin's overview (a row, batched; no user looked up, no hash).
            await self._audit.record(
                audit.LOGIN, audit.FAILURE, login=login, reason=audit.THROTTLED
            )
            self._events.login(THROTTLED)
            raise
        user = await self._users.find_by_login(login, field) if login else None
        # A user is locked whichever login names them (username or email); an unknown login
        # by the login itself, so that it fails exactly as a known one does. A locked-out
        # attempt answers like a wrong password, so this tells nothing either.
        account = _user_key(user.id) if user else _login_key(login, field)
        outcome = await self._guarded_verify(account, password, user, login)
        matches = outcome is not None and outcome.matches and password is not None
        reason = _failure(user, matches=matches, locked=outcome is None)
        if reason is not None or user is None or password is None:  # (the last two: for mypy)
            failure = reason or audit.UNKNOWN_USER
            await self._audit.record(
                audit.LOGIN,
                audit.FAILURE,
                user_id=user.id if user else None,
                login=login,
                reason=failure,
            )
            self._events.login(failure)  # the audit log's reasons are the outcomes' names
            raise InvalidCredentialsError
        changes: dict[str, object] = {"last_login": self._clock.now()}
        if outcome is not None and outcome.needs_rehash:
            changes["password"] = await self._passwords.hash(password)
        raw, token = self._tokens.draft(user.id) if with_token else (None, None)
        updated = await self._store.record_login(user.id, user.password_hash, changes, token)
        if updated is None:
            # Deleted, deactivated or given a new password while its password was checked.
            self._events.login(audit.UNKNOWN_USER)
            raise InvalidCredentialsError
        # A login (or a rehash of the same password) ends nobody's session, but the user's
        # record shows last_login (Revocations.forget_here).
        self._revocations.forget_here(user.id)
        await self._audit.record(audit.LOGIN, user_id=user.id)
        self._events.login(SUCCESS)
        return updated, raw

    async def check_password(self, user: User, password: str) -> bool:
        """Whether `password` is this (signed-in) user's password: a guess like a login's,
        throttled and locked out by the same rules (ThrottledError over the limits; False
        while locked out), so that a stolen token is no unlimited password oracle."""
        await self._throttle_guess(_user_key(user.id))
        outcome = await self._guarded_verify(_user_key(user.id), password, user, user.username)
        return outcome is not None and outcome.matches

    async def unlock(self, user: User, *, shared_only: bool = False) -> None:
        """Lift a lockout of this user at once (staff), from every address. `shared_only`:
        in Redis or not at all (UnavailableError; the CLI, which serves no request
        from its own memory)."""
        await self._lockout.unlock(_user_key(user.id), shared_only=shared_only)
        await self._audit.record(audit.UNLOCK, user_id=user.id)

    async def forgive_failures(self, user: User) -> None:
        """Lift this user's lockout after a proof of owning their email (a completed password
        reset): whoever kept failing at the account, its owner gets in."""
        await self._lockout.unlock(_user_key(user.id))

    async def _throttle_guess(self, account: str | None) -> None:
        """Count a password guess against the login limits: per client address, and per
        account from that address (an account-wide limit would be a lever to keep the owner
        out; the lockout's bounded delay spans addresses instead)."""
        client = caller_address()
        per_client = None if account is None else f"{account} from {client or ''}"
        await self._throttle.hit(LOGIN, client=client, account=per_client)

    async def _guarded_verify(
        self, account: str | None, password: str | None, user: User | None, login: str | None
    ) -> Verification | None:
        """Verify a password guess at `account` under the lockout: None when locked out (no
        verification ran). The outcome is recorded: a failure counts, a match forgets the
        failures (of an inactive user too: the password was right)."""
        client = caller_address()
        attempt = FREE if account is None else await self._lockout.begin(account, client)
        if not attempt.allowed:
            return None
        await self._lockout.wait(attempt)
        outcome = await self._passwords.verify(password or "", user.password_hash if user else None)
        if account is None:
            return outcome
        if outcome.matches and password is not None and user is not None:
            await self._lockout.succeeded(account, attempt)
            return outcome
        await self._lockout.failed(account)
        if attempt.locks:
            await self._audit.record(audit.LOCKOUT, user_id=user.id if user else None, login=login)
            self._events.locked_out()
        return outcome


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
    if locked:
        return audit.LOCKED
    if not matches:
        return audit.WRONG_PASSWORD
    if not user.is_active:
        return audit.INACTIVE
    return None
