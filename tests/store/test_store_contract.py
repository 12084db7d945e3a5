"""The Store's contract, held on both databases: every method of store/protocol/ run against
SQLite and PostgreSQL (the `database_url` fixture), with what it must return, change and refuse.
The users/towns API's records have their own module (test_directory_store.py); a last test checks
that tests/store calls every method of the protocol, so a new one cannot go untested."""

from __future__ import annotations

import ast
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from authgate.core.errors import ConflictError, NotFoundError
from authgate.core.identity import username_columns, username_key
from authgate.core.models import (
    AuditCounts,
    AuditEvent,
    AuditQuery,
    NewUser,
    OverviewNumbers,
    SessionRecord,
    TokenRecord,
    User,
)
from authgate.store import Store, open_store
from authgate.store.revisions import head_revision
from tests.support import run

NOW = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
HEX = "0123456789abcdef"


def digest(n: int) -> str:
    """A distinct 64-character digest."""
    return (HEX[n % 16] * 64)[:63] + HEX[n // 16 % 16]


def with_store(url: str, work: Callable[[Store], Awaitable[None]]) -> None:
    async def main() -> None:
        store = open_store(url)
        await store.connect()
        try:
            await work(store)
        finally:
            await store.close()

    run(main())


async def add_user(
    store: Store, name: str, email: str = "", *, active: bool = True, **fields: str
) -> User:
    return await store.create_user(
        NewUser(
            username=name,
            username_key=username_key(name),
            email=email,
            email_key=email.lower(),
            password_hash="hash-of-" + name,
            is_active=active,
            date_joined=NOW,
            **fields,  # type: ignore[arg-type]
        )
    )


def test_users_are_created_read_changed_and_deleted(database_url: str) -> None:
    async def work(store: Store) -> None:
        ann = await add_user(store, "Ann", "ann@example.com", first_name="Ann", role="ADMIN")
        assert ann.username == "Ann"
        assert ann.email == "ann@example.com"
        assert ann.first_name == "Ann"
        assert ann.role == "ADMIN"
        assert ann.password_hash == "hash-of-Ann"
        assert ann.date_joined == NOW
        assert ann.last_login is None
        assert (ann.is_active, ann.is_staff, ann.is_superuser) == (True, False, False)
        bob = await add_user(store, "bob", "bob@example.com")
        assert await store.get_user(ann.id) == ann
        assert await store.get_user(10**9) is None
        assert await store.get_user_by_username_key("ann") == ann
        assert await store.get_user_by_username_key("nobody") is None
        assert await store.get_user_by_email_key("bob@example.com") == bob
        assert await store.get_user_by_email_key("nobody@example.com") is None
        assert await store.list_users() == [ann, bob]

        with pytest.raises(ConflictError) as taken:
            await add_user(store, "ANN")
        assert taken.value.field_name == "username"
        with pytest.raises(ConflictError) as taken:
            await add_user(store, "carol", "bob@example.com")
        assert taken.value.field_name == "email"

        changed = await store.update_user(ann.id, {"last_name": "Lee", "last_login": NOW})
        assert changed is not None
        assert (changed.last_name, changed.last_login) == ("Lee", NOW)
        assert await store.update_user(10**9, {"last_name": "X"}) is None
        with pytest.raises(ConflictError) as taken:
            await store.update_user(bob.id, {"email": "x", "email_key": "ann@example.com"})
        assert taken.value.field_name == "email"
        assert await store.get_user(bob.id) == bob  # nothing of the refused change was written

        # A compare-and-set: it holds while the expected values do, once.
        swapped = await store.update_user_if(
            bob.id, {"password": "hash-of-bob"}, {"password": "new-hash"}
        )
        assert swapped is not None
        assert swapped.password_hash == "new-hash"
        again = await store.update_user_if(
            bob.id, {"password": "hash-of-bob"}, {"password": "other-hash"}
        )
        assert again is None
        assert (await store.get_user(bob.id)).password_hash == "new-hash"  # type: ignore[union-attr]
        # None is compared as IS NULL.
        logged = await store.update_user_if(bob.id, {"last_login": None}, {"last_login": NOW})
        assert logged is not None
        assert logged.last_login == NOW
        assert await store.update_user_if(bob.id, {"last_login": None}, {"role": "X"}) is None

        await store.delete_user(bob.id)
        assert await store.get_user(bob.id) is None
        assert await store.list_users() == [changed]

    with_store(database_url, work)


def test_usernames_are_taken_by_their_key_or_a_look_alike(database_url: str) -> None:
    async def work(store: Store) -> None:
        paypal = await add_user(store, "paypal")
        assert await store.username_taken(username_columns("paypal")) is True
        assert await store.username_taken(username_columns("PayPal")) is True
        assert await store.username_taken(username_columns("paypa1")) is True  # a look-alike
        assert await store.username_taken(username_columns("ebay")) is False

        assert await store.users_without_skeleton() == []
        await store.update_user(paypal.id, {"username_skeleton_lower": None})
        assert await store.users_without_skeleton() == [
            (paypal.id, "paypal", None, username_columns("paypal")["username_skeleton_upper"])
        ]

    with_store(database_url, work)


def test_groups_and_permissions_are_kept_and_linked(database_url: str) -> None:
    async def work(store: Store) -> None:
        staff = await store.create_group("staff")
        ops = await store.create_group("ops")
        assert await store.list_groups() == [staff, ops]
        assert await store.get_group(ops.id) == ops
        assert await store.get_group(10**9) is None
        assert await store.get_group_by_name("staff") == staff
        assert await store.get_group_by_name("Staff") is None  # names compare exactly
        with pytest.raises(ConflictError):
            await store.rename_group(ops.id, "staff")
        renamed = await store.rename_group(ops.id, "operations")
        assert renamed is not None
        assert renamed.name == "operations"
        assert await store.rename_group(10**9, "x") is None

        view = await store.create_permission("Can view", "view")
        edit = await store.create_permission("Can edit", "edit")
        with pytest.raises(ConflictError):
            await store.create_permission("Again", "view")
        assert await store.list_permissions() == [view, edit]
        assert await store.get_permission(edit.id) == edit
        assert await store.get_permission(10**9) is None
        assert await store.get_permission_by_codename("view") == view
        assert await store.get_permission_by_codename("delete") is None

        await store.set_links("group_permissions", staff.id, [edit.id, view.id, edit.id])
        await store.set_links("group_permissions", ops.id, [view.id, 10**9])  # a gone target
        assert await store.all_links("group_permissions") == {
            staff.id: sorted([view.id, edit.id]),
            ops.id: [view.id],
        }
        with pytest.raises(NotFoundError):
            await store.set_links("group_permissions", 10**9, [view.id])
        with pytest.raises(NotFoundError):  # the owner is checked even with nothing to link
            await store.set_links("group_permissions", 10**9, [])
        assert await store.delete_permission(view.id) is True
        assert await store.all_links("group_permissions") == {staff.id: [edit.id]}

    with_store(database_url, work)


def test_tokens_resolve_to_their_user_and_end(database_url: str) -> None:
    async def work(store: Store) -> None:
        ann = await add_user(store, "ann")
        bob = await add_user(store, "bob")
        first = TokenRecord(digest(1), ann.id, NOW, NOW + timedelta(days=1), None)
        second = TokenRecord(digest(2), ann.id, NOW + timedelta(seconds=1), None, None)
        bobs = TokenRecord(digest(3), bob.id, NOW, None, None)
        for record, owner in ((first, ann), (second, ann), (bobs, bob)):
            assert await store.create_token_if_verified(record, owner.password_hash)

        principal = await store.get_principal(digest(1))
        assert principal is not None
        assert principal.user == ann
        assert principal.token == first
        assert await store.get_principal(digest(9)) is None

        await store.touch_token(digest(1), NOW + timedelta(minutes=5))
        touched = await store.get_principal(digest(1))
        assert touched is not None
        assert touched.token.last_used_at == NOW + timedelta(minutes=5)

        used = TokenRecord(first.digest, ann.id, NOW, first.expires_at, NOW + timedelta(minutes=5))
        assert await store.list_user_tokens(ann.id) == [second, used]  # newest first
        assert await store.delete_user_token(bob.id, digest(1)) is False  # not bob's
        assert await store.delete_user_token(ann.id, digest(2)) is True
        assert await store.delete_user_token(ann.id, digest(2)) is False
        await store.delete_token(digest(1))
        assert await store.get_principal(digest(1)) is None
        assert await store.list_user_tokens(ann.id) == []

        assert await store.create_token_if_verified(
            TokenRecord(digest(4), bob.id, NOW, None, None), bob.password_hash
        )
        assert await store.delete_user_tokens(bob.id) == 2
        assert await store.delete_user_tokens(bob.id) == 0

        assert await store.create_token_if_verified(
            TokenRecord(digest(5), bob.id, NOW, None, None), bob.password_hash
        )
        await store.delete_user(bob.id)  # a user's tokens go with them
        assert await store.get_principal(digest(5)) is None
        six = TokenRecord(digest(6), bob.id, NOW, None, None)  # for a user deleted meanwhile
        assert await store.create_token_if_verified(six, bob.password_hash) is False

    with_store(database_url, work)


def test_a_login_token_is_stored_only_while_its_user_is_as_verified(database_url: str) -> None:
    async def work(store: Store) -> None:
        ann = await add_user(store, "ann")
        record = TokenRecord(digest(1), ann.id, NOW, NOW + timedelta(days=1), None)
        assert await store.create_token_if_verified(record, ann.password_hash) is True
        principal = await store.get_principal(digest(1))
        assert principal is not None
        assert principal.token == record

        later = TokenRecord(digest(2), ann.id, NOW, None, None)
        assert await store.create_token_if_verified(later, "another hash") is False
        await store.update_user(ann.id, {"is_active": False})
        assert await store.create_token_if_verified(later, ann.password_hash) is False
        await store.delete_user(ann.id)
        assert await store.create_token_if_verified(later, ann.password_hash) is False
        assert await store.get_principal(digest(2)) is None

    with_store(database_url, work)


def test_a_login_is_recorded_only_while_its_user_is_as_verified(database_url: str) -> None:
    async def work(store: Store) -> None:
        ann = await add_user(store, "ann")
        token = TokenRecord(digest(1), ann.id, NOW, None, None)
        logged = await store.record_login(ann.id, ann.password_hash, {"last_login": NOW}, token)
        assert logged == replace(ann, last_login=NOW)
        principal = await store.get_principal(digest(1))
        assert principal is not None
        assert (principal.user, principal.token) == (logged, token)

        later = NOW + timedelta(hours=1)
        rehashed = {"last_login": later, "password": "rehashed"}
        again = await store.record_login(ann.id, ann.password_hash, rehashed)  # no token
        assert again == replace(ann, last_login=later, password_hash="rehashed")

        second = TokenRecord(digest(2), ann.id, NOW, None, None)
        stale = await store.record_login(ann.id, ann.password_hash, {"last_login": NOW}, second)
        assert stale is None  # the password is no longer the one verified
        await store.update_user(ann.id, {"is_active": False})
        assert await store.record_login(ann.id, "rehashed", {"last_login": NOW}, second) is None
        await store.delete_user(ann.id)
        assert await store.record_login(ann.id, "rehashed", {"last_login": NOW}, second) is None
        assert await store.get_principal(digest(2)) is None  # nothing written by a refusal

    with_store(database_url, work)


def test_the_revocation_feed_reads_in_id_order_and_keeps_its_newest_row(
    database_url: str,
) -> None:
    async def work(store: Store) -> None:
        ann = await add_user(store, "ann")
        bob = await add_user(store, "bob")
        start = await store.last_revocation_id()
        assert await store.revocations_after(start) == []
        await store.append_revocation(ann.id, NOW - timedelta(days=2))
        await store.append_revocation(bob.id, NOW - timedelta(days=1))
        await store.append_revocation(ann.id, NOW)
        rows = await store.revocations_after(start)
        assert [user for _, user in rows] == [ann.id, bob.id, ann.id]
        ids = [row_id for row_id, _ in rows]
        assert ids == sorted(ids)
        assert await store.last_revocation_id() == ids[-1]
        assert await store.revocations_after(ids[0]) == rows[1:]

        await store.prune_revocations(NOW - timedelta(hours=1))
        assert await store.revocations_after(start) == rows[2:]
        await store.prune_revocations(NOW + timedelta(days=1))  # the newest row stays
        assert await store.revocations_after(start) == rows[2:]
        assert await store.last_revocation_id() == ids[-1]

    with_store(database_url, work)


def test_jwt_state_records_used_tokens_ended_logins_and_generations(database_url: str) -> None:
    async def work(store: Store) -> None:
        ann = await add_user(store, "ann")
        gone = await add_user(store, "gone")
        await store.delete_user(gone.id)
        expires = NOW + timedelta(days=1)

        assert await store.is_jti_blacklisted("j1") is False
        assert await store.jti_used_at("j1") is None
        assert await store.blacklist_jti("j1", ann.id, expires, NOW) is True
        assert await store.blacklist_jti("j1", ann.id, expires, NOW + timedelta(1)) is False
        assert await store.is_jti_blacklisted("j1") is True
        assert await store.jti_used_at("j1") == NOW  # the first use's time stays
        with pytest.raises(NotFoundError):
            await store.blacklist_jti("j2", gone.id, expires, NOW)
        assert await store.is_jti_blacklisted("j2") is False

        assert await store.get_jwt_subject(ann.id) == (ann, 0, frozenset())
        assert await store.get_jwt_subject(gone.id) is None
        await store.end_jwt_session("sid-a", ann.id, expires)
        await store.end_jwt_session("sid-a", ann.id, expires + timedelta(1))  # already ended
        await store.end_jwt_session("sid-b", ann.id, NOW - timedelta(days=1))
        await store.end_jwt_session("sid-c", gone.id, expires)  # nothing: the user is gone
        assert await store.get_jwt_subject(ann.id) == (ann, 0, frozenset({"sid-a", "sid-b"}))

        assert await store.bump_jwt_version(ann.id) == 1
        assert await store.bump_jwt_version(ann.id) == 2
        assert await store.bump_jwt_version(gone.id) is None
        assert await store.get_jwt_subject(ann.id) == (ann, 2, frozenset({"sid-a", "sid-b"}))

        await store.blacklist_jti("j-old", ann.id, NOW - timedelta(days=1), NOW)
        await store.prune_jwt_blacklist(NOW)
        assert await store.is_jti_blacklisted("j-old") is False
        assert await store.is_jti_blacklisted("j1") is True
        assert await store.get_jwt_subject(ann.id) == (ann, 2, frozenset({"sid-a"}))

    with_store(database_url, work)


def test_sessions_resolve_to_their_user_and_end(database_url: str) -> None:
    async def work(store: Store) -> None:
        ann = await add_user(store, "ann")
        bob = await add_user(store, "bob")
        later = NOW + timedelta(hours=1)
        first = SessionRecord(digest(1), ann.id, NOW, NOW + timedelta(days=1), NOW, "1.2.3.4", "ua")
        second = SessionRecord(digest(2), ann.id, later, later + timedelta(days=1), later)
        old = SessionRecord(digest(3), bob.id, NOW, NOW - timedelta(seconds=1), NOW)
        for record in (first, second, old):
            await store.create_session(record)

        assert await store.get_session(digest(1)) == (ann, first)
        assert await store.get_session(digest(9)) is None
        await store.touch_session(digest(1), later)
        touched = SessionRecord(digest(1), ann.id, NOW, first.expires_at, later, "1.2.3.4", "ua")
        assert await store.get_session(digest(1)) == (ann, touched)
        assert await store.list_user_sessions(ann.id) == [second, touched]  # newest first

        assert await store.delete_session(bob.id, digest(1)) is False  # not bob's
        assert await store.delete_session(ann.id, digest(2)) is True
        assert await store.delete_session(ann.id, digest(2)) is False
        assert await store.prune_sessions(NOW) == 1  # bob's expired one
        assert await store.list_user_sessions(bob.id) == []
        assert await store.delete_user_sessions(ann.id) == 1
        assert await store.get_session(digest(1)) is None

        await store.delete_user(bob.id)
        with pytest.raises(NotFoundError):  # a session for a user deleted meanwhile
            await store.create_session(SessionRecord(digest(4), bob.id, NOW, later, NOW))

    with_store(database_url, work)


def test_the_audit_log_appends_reads_pages_counts_and_prunes(database_url: str) -> None:
    async def work(store: Store) -> None:
        ann = await add_user(store, "ann")
        hour = NOW.replace(minute=0, second=0, microsecond=0)
        events = [
            AuditEvent("login", "success", hour + timedelta(minutes=1), ann.id, "ann", "1.2.3.4"),
            AuditEvent("login", "failure", hour + timedelta(minutes=2), None, "x", reason="bad"),
            AuditEvent(
                "login", "failure", hour + timedelta(hours=1), None, "x", reason="throttled"
            ),
            AuditEvent("register", "success", hour + timedelta(hours=1), ann.id, user_agent="ua"),
            AuditEvent("lockout", "failure", hour + timedelta(hours=1), None, "x"),
            AuditEvent("logout", "success", hour - timedelta(days=3), ann.id),
        ]
        await store.append_audit(*events)
        await store.append_audit()  # nothing to add

        newest_first = await store.audit_events(AuditQuery())
        assert [e.event for e in newest_first] == [e.event for e in reversed(events)]
        ids = [e.id or 0 for e in newest_first]
        assert ids == sorted(ids, reverse=True)
        assert [replace(e, id=None) for e in newest_first] == events[::-1]  # every field kept
        assert [e.id for e in await store.audit_events(AuditQuery(user_id=ann.id))] == [
            ids[0],
            ids[2],
            ids[5],
        ]
        assert len(await store.audit_events(AuditQuery(event="login"))) == 3
        assert [e.id for e in await store.audit_events(AuditQuery(before_id=ids[1], limit=2))] == [
            ids[2],
            ids[3],
        ]

        by_hour = await store.audit_counts(hour - timedelta(days=1), "hour")
        assert by_hour == [
            AuditCounts(hour, logins_succeeded=1, logins_failed=1),
            AuditCounts(hour + timedelta(hours=1), registrations=1, lockouts=1, throttled=1),
        ]
        by_day = await store.audit_counts(hour - timedelta(days=1), "day")
        day = hour.replace(hour=0)
        assert by_day == [AuditCounts(day, 1, 1, 1, 1, 1)]

        live = TokenRecord(digest(1), ann.id, NOW, None, None)
        expired = TokenRecord(digest(2), ann.id, NOW, NOW, None)
        for record in (live, expired):
            assert await store.create_token_if_verified(record, ann.password_hash)
        await store.create_session(SessionRecord(digest(3), ann.id, NOW, NOW + timedelta(1), NOW))
        await add_user(store, "off", active=False)
        numbers = await store.overview_numbers(NOW, hour)
        assert numbers == OverviewNumbers(
            users=2, active_users=1, tokens=1, sessions=1, locked_logins=1
        )

        assert await store.prune_audit(hour) == 1
        assert await store.prune_audit(hour) == 0
        assert len(await store.audit_events(AuditQuery())) == 5

    with_store(database_url, work)


def test_the_schema_revision_is_the_shipped_head(database_url: str) -> None:
    async def work(store: Store) -> None:
        assert await store.schema_revision() == head_revision()

    with_store(database_url, work)


def test_a_database_without_a_schema_has_no_revision(tmp_path: Path) -> None:
    async def work(store: Store) -> None:
        assert await store.schema_revision() is None

    with_store(f"sqlite:///{tmp_path / 'empty.sqlite3'}", work)


def test_tests_store_calls_every_method_of_the_protocol() -> None:
    """A method no test here calls is a method whose two databases may disagree unseen."""
    called: set[str] = set()
    for path in Path(__file__).parent.glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                called.add(node.func.attr)
    methods = {name for name in dir(Store) if not name.startswith("_")}
    assert sorted(methods - called) == []
