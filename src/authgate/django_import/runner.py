"""The import loop: users in id-ordered batches, each batch with its tokens in one target
transaction.

Resumable by construction: every batch is committed on its own, and a rerun recognises what
is already there (reconcile.py), so a run that crashed halfway is simply run again. A dry run
makes the same decisions against the same data and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection

from authgate.core.identity import email_key, username_key
from authgate.core.tokens import digest
from authgate.django_import.connections import (
    UnsupportedUrlError,
    check_url,
    is_postgres,
    run_with_connections,
    sqlite_exists,
)
from authgate.django_import.groups import authgate_has_groups, import_groups
from authgate.django_import.layout import SourceLayout
from authgate.django_import.reconcile import KeyOwners, TokenPlan, UserPlan, plan_token, plan_user
from authgate.django_import.rows import SourceUser
from authgate.django_import.source import DjangoSource, SourceError
from authgate.django_import.summary import Summary
from authgate.django_import.target import AuthgateTarget, EmptyTarget, TargetView

DEFAULT_BATCH_SIZE = 500
EMPTY = EmptyTarget()


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """Everything one run needs; the CLI builds it from its options and Settings."""

    source_url: str
    target_url: str
    layout: SourceLayout = field(default_factory=SourceLayout)
    dry_run: bool = False
    batch_size: int = DEFAULT_BATCH_SIZE
    blank_duplicate_emails: bool = False
    token_ttl_seconds: int | None = None
    """authgate's AUTHGATE_TOKEN_TTL_SECONDS: imported tokens expire that long after Django
    created them (DRF tokens never expire; authgate's may)."""


def _no_progress(_: int) -> None:
    return None


def run_import(
    options: ImportOptions,
    *,
    now: datetime,
    on_start: Callable[[int], None] = _no_progress,
    on_progress: Callable[[int], None] = _no_progress,
) -> Summary:
    """Import every user and DRF token of the source into the (migrated) target.

    `on_start(total users)` then `on_progress(users done in a batch)` drive a progress bar.
    Raises source.SourceError for an unreadable layout, connections.UnsupportedUrlError for
    a URL of another kind, and SQLAlchemy's errors for a database that fails.
    """
    check_options(options)
    target_url: str | None = options.target_url
    if options.dry_run and not is_postgres(options.target_url):
        target_url = options.target_url if sqlite_exists(options.target_url) else None

    def work(source_connection: Connection, target_connection: Connection | None) -> Summary:
        source = DjangoSource.open(source_connection, options.layout)
        run = _Run(options, now, source, target_connection)
        on_start(source.count_users())
        run.users(on_progress)
        return run.finish()

    return run_with_connections(
        options.source_url, target_url, work, target_read_only=options.dry_run
    )


def check_options(options: ImportOptions) -> None:
    """UnsupportedUrlError for a URL authgate cannot read, or a source that is authgate's own
    auth_user (checked before the target is migrated, so a Django database is never touched).
    A Django schema inside authgate's PostgreSQL database (`--user-table django.auth_user`)
    is fine."""
    check_url(options.source_url)
    check_url(options.target_url)
    if options.source_url == options.target_url and options.layout.user_table == "auth_user":
        raise UnsupportedUrlError(
            "--database-url names authgate's own database (AUTHGATE_DATABASE_URL):"
            " give the Django database, or its schema-qualified --user-table"
        )


class _Run:
    """One import's state: the summary so far, and who holds which keys."""

    def __init__(
        self,
        options: ImportOptions,
        now: datetime,
        source: DjangoSource,
        connection: Connection | None,
    ) -> None:
        self._options = options
        self._now = now
        self._source = source
        self._connection = connection
        self._owners = KeyOwners()
        self._imported: set[int] = set()
        self._ttl = (
            None
            if options.token_ttl_seconds is None
            else timedelta(seconds=options.token_ttl_seconds)
        )
        self._writer: AuthgateTarget | None = None
        self._view: TargetView = EMPTY
        if connection is not None and AuthgateTarget.is_migrated(connection):
            target = AuthgateTarget(connection)
            self._view = target
            self._writer = None if options.dry_run else target
        elif not options.dry_run:
            raise SourceError("authgate's database is not migrated: run `authgate migrate`")
        self.summary = Summary(dry_run=options.dry_run, layout_notes=list(source.notes))

    def users(self, on_progress: Callable[[int], None]) -> None:
        """Every batch, in id order."""
        last_id = 0
        while batch := self._source.users_after(last_id, self._options.batch_size):
            last_id = batch[-1].id
            if self._connection is None:
                self._batch(batch)
            else:
                with self._connection.begin():
                    self._batch(batch)
            on_progress(len(batch))

    def finish(self) -> Summary:
        """Counts of what cannot be imported, and PostgreSQL's id sequence moved on."""
        if self._writer is not None and self._connection is not None:
            with self._connection.begin():
                self._writer.advance_id_sequence()
        if authgate_has_groups():
            import_groups(
                self._source.connection,
                self._connection if self._view is not EMPTY else None,
                self._options.layout,
                self._imported,
                self.summary,
                write=self._writer is not None,
                now=self._now,
            )
        else:
            counts = self._source.count_unimportable()
            self.summary.not_imported = {name: n for name, n in counts.items() if n}
        return self.summary

    def _batch(self, batch: Sequence[SourceUser]) -> None:
        rows = self._view.users_by_ids([user.id for user in batch])
        self._owners.load(
            self._view.users_by_keys(
                {username_key(user.username) for user in batch},
                {email_key(user.email) for user in batch if user.email},
            )
        )
        imported: set[int] = set()
        inserts: list[Mapping[str, object]] = []
        for user in batch:
            plan = plan_user(
                user,
                rows.get(user.id),
                self._owners,
                now=self._now,
                blank_duplicate_emails=self._options.blank_duplicate_emails,
            )
            self._apply_user(plan)
            if plan.action == "insert":
                inserts.append(plan.values)
            if plan.action != "skip":
                imported.add(user.id)
                self._imported.add(user.id)
        if self._writer is not None:
            self._writer.insert_users(inserts)
        self._tokens(batch, imported)

    def _apply_user(self, plan: UserPlan) -> None:
        user = plan.user
        self.summary.users[plan.action] += 1
        for note in plan.notes:
            self.summary.note(note, user.username)
        if plan.action == "skip":
            self.summary.skipped_users.append(f"id {user.id} {user.username!r}: {plan.reason}")
        elif self._writer is not None and plan.action == "update":
            self._writer.update_user(user.id, plan.values)
            self._writer.publish_revocation(user.id, self._now)

    def _tokens(self, batch: Sequence[SourceUser], imported: set[int]) -> None:
        tokens = self._source.tokens_of([user.id for user in batch])
        owners = self._view.token_owners([digest(token.key) for token in tokens])
        names = {user.id: user.username for user in batch}
        inserts: list[Mapping[str, object]] = []
        for token in tokens:
            plan = plan_token(
                token,
                imported_users=imported,
                stored_owner=owners.get(digest(token.key)),
                now=self._now,
                ttl=self._ttl,
            )
            self.summary.tokens[plan.action] += 1
            if plan.action == "skip":
                line = f"token of id {token.user_id} {names.get(token.user_id)!r}: {plan.reason}"
                self.summary.skipped_tokens.append(line)
            elif plan.action == "insert":
                inserts.append(_token_row(plan))
        if self._writer is not None:
            self._writer.insert_tokens(inserts)


def _token_row(plan: TokenPlan) -> dict[str, object]:
    return {
        "digest": plan.digest,
        "user_id": plan.token.user_id,
        "created_at": plan.token.created,
        "expires_at": plan.expires_at,
    }
