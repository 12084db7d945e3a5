"""Password hashing (argon2id; Django's formats verified and upgraded) and Django's validators."""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import hmac
import importlib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from authgate.core.errors import Message
from authgate.core.events import NO_EVENTS, Events
from authgate.core.models import UNUSABLE_PASSWORD_PREFIX
from authgate.worker_threads import WorkerThreads

COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common-passwords.txt.gz"
SIMILARITY_ATTRIBUTES = ("username", "first_name", "last_name", "email")
MAX_SIMILARITY = 0.7
DJANGO_ARGON2_PREFIX = "argon2"


@dataclass(frozen=True, slots=True)
class Verification:
    """Outcome of checking a password: whether it matched, and whether to store a new hash."""

    matches: bool
    needs_rehash: bool = False


@dataclass(frozen=True, slots=True)
class Argon2Cost:
    """argon2id's parameters. A deployment's come from Settings, which refuses any below
    OWASP's minimum; only code that builds the core itself (build_core, create_app) can pass
    others, as the test suite does where hashing is not what a test checks."""

    time_cost: int
    memory_cost_kib: int
    parallelism: int


T = TypeVar("T")


class Passwords:
    """Hashes and verifies passwords off the event loop, and validates new ones.

    Hashing runs on its own pool of `threads` threads, one per core this process may use:
    argon2id is memory-hard, so more hashes at once than cores only thrash the cache
    (measured on one core: 63 hashes/s with one thread, 52/s with asyncio's default six).
    """

    def __init__(
        self,
        *,
        time_cost: int,
        memory_cost_kib: int,
        parallelism: int,
        min_length: int,
        threads: int,
        events: Events = NO_EVENTS,
    ) -> None:
        self._events = events
        self._hasher = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost_kib,
            parallelism=parallelism,
            type=Type.ID,
        )
        self._min_length = min_length
        # Verified against when the user is unknown, so that case costs what a real check costs.
        # Made by the first password operation, on the hashing pool (_with_dummy), not here:
        # hashing while the service starts added argon2id's whole memory (19 MiB by default) to
        # the peak of every worker, even one that never hashes (bench/memory.py).
        self._dummy_hash: str | None = None
        self._dummy_lock = threading.Lock()
        self._pool = WorkerThreads(threads, name="password-hash")

    async def _off_loop(self, work: functools.partial[T]) -> T:
        return await self._pool.run(work)

    async def hash(self, password: str) -> str:
        """An argon2id hash of `password`, computed on the hashing pool."""
        return await self._off_loop(
            functools.partial(self._timed, "hash", self._hasher.hash, password)
        )

    async def verify(self, password: str, encoded: str | None) -> Verification:
        """Check `password` against a stored hash; `None` burns the same time and fails."""
        if encoded is None:
            dummy = functools.partial(self._verify_dummy, password)
            await self._off_loop(functools.partial(self._timed, "verify", dummy))
            return Verification(matches=False)
        check = functools.partial(self._verify, password, encoded)
        return await self._off_loop(functools.partial(self._timed, "verify", check))

    def _timed(self, operation: str, work: Callable[..., T], *args: object) -> T:
        """Run `work` on this hashing thread, telling the events how long it took (the hash
        alone, not the wait for a free thread)."""
        self._with_dummy()
        started = time.perf_counter()
        try:
            return work(*args)
        finally:
            self._events.password_hashed(operation, time.perf_counter() - started)

    def _with_dummy(self) -> str:
        """The dummy hash, made on first need by whichever password operation comes first,
        whether its user exists or not: so that first operation's extra hash tells nothing."""
        with self._dummy_lock:
            if self._dummy_hash is None:
                self._dummy_hash = self._hasher.hash("authgate-dummy-password")
            return self._dummy_hash

    def _verify_dummy(self, password: str) -> bool:
        return self._verify_argon2(self._with_dummy(), password)

    def close(self) -> None:
        """Stop the hashing threads (after the work already handed to them)."""
        self._pool.close()

    def _verify(self, password: str, encoded: str) -> Verification:
        if encoded.startswith(UNUSABLE_PASSWORD_PREFIX):
            self._verify_dummy(password)
            return Verification(matches=False)
        if encoded.startswith("$argon2"):
            matches = self._verify_argon2(encoded, password)
            return Verification(matches, matches and self._hasher.check_needs_rehash(encoded))
        if encoded.startswith(DJANGO_ARGON2_PREFIX + "$"):
            encoded = encoded.removeprefix(DJANGO_ARGON2_PREFIX)
            return Verification(self._verify_argon2(encoded, password), needs_rehash=True)
        if encoded.startswith("pbkdf2_sha256$"):
            return Verification(_verify_django_pbkdf2(password, encoded), needs_rehash=True)
        if encoded.startswith(("bcrypt_sha256$", "bcrypt$")):
            return Verification(_verify_django_bcrypt(password, encoded), needs_rehash=True)
        return Verification(matches=False)

    def _verify_argon2(self, encoded: str, password: str) -> bool:
        try:
            return self._hasher.verify(encoded, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def validate(self, password: str, attributes: dict[str, str]) -> list[Message]:
        """Django's four default validators, in Django's order; every failure is returned."""
        problems: list[Message] = []
        similar_to = _too_similar_attribute(password, attributes)
        if similar_to is not None:
            problems.append(Message("password_too_similar", {"verbose_name": similar_to}))
        if len(password) < self._min_length:
            problems.append(Message("password_too_short", {"min_length": self._min_length}))
        if password.lower().strip() in common_passwords():
            problems.append(Message("password_too_common"))
        if password.isdigit():
            problems.append(Message("password_entirely_numeric"))
        return problems


def _verify_django_pbkdf2(password: str, encoded: str) -> bool:
    """Django's `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>` format."""
    try:
        _, iterations, salt, expected = encoded.split("$", 3)
        derived = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(base64.b64encode(derived).decode("ascii"), expected)


def _bcrypt() -> ModuleType | None:
    """The optional `bcrypt` package: only users imported from a Django project that hashed
    with bcrypt need it, so authgate does not depend on it."""
    try:
        return importlib.import_module("bcrypt")
    except ImportError:
        return None


def bcrypt_available() -> bool:
    """Whether Django's `bcrypt_sha256$` and `bcrypt$` hashes can be verified here."""
    return _bcrypt() is not None


def _verify_django_bcrypt(password: str, encoded: str) -> bool:
    """Django's BCryptSHA256PasswordHasher (`bcrypt_sha256$$2b$...`: bcrypt of the password's
    hex SHA-256, so long passwords are not cut at 72 bytes) and BCryptPasswordHasher
    (`bcrypt$$2b$...`: bcrypt of the password itself, which bcrypt always cut at 72 bytes)."""
    library = _bcrypt()
    if library is None:
        return False
    algorithm, data = encoded.split("$", 1)
    secret = password.encode()
    if algorithm == "bcrypt_sha256":
        secret = hashlib.sha256(secret).hexdigest().encode("ascii")
    try:
        return bool(library.checkpw(secret[:72], data.encode("ascii")))
    except (ValueError, UnicodeEncodeError):
        return False


def _too_similar_attribute(password: str, attributes: dict[str, str]) -> str | None:
    """Django's UserAttributeSimilarityValidator: the first attribute the password resembles."""
    lowered = password.lower()
    for name in SIMILARITY_ATTRIBUTES:
        value = attributes.get(name) or ""
        if not value:
            continue
        parts = [*re.split(r"\W+", value.lower()), value.lower()]
        for part in parts:
            if _exceeds_maximum_length_ratio(lowered, part):
                continue
            if SequenceMatcher(a=lowered, b=part).quick_ratio() >= MAX_SIMILARITY:
                return name
    return None


def _exceeds_maximum_length_ratio(password: str, part: str) -> bool:
    """Django's shortcut: a part far shorter than the password cannot be similar to it."""
    return len(password) >= 10 * len(part) and len(part) < MAX_SIMILARITY / 2 * len(password)


@cache
def common_passwords() -> frozenset[str]:
    """Django's list of 20,000 common passwords, shipped with the package."""
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines)
