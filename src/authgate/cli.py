"""The `authgate` command: serve, migrate, createsuperuser, changepassword, import-django."""

from __future__ import annotations

import asyncio
import logging
import logging.config
import os
import secrets
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
import uvicorn

from authgate import cli_admin
from authgate.core import Core, build_core, hash_threads_per_worker
from authgate.core.clock import SystemClock
from authgate.core.errors import ValidationError
from authgate.core.identity import username_key
from authgate.http.i18n import translate
from authgate.logs import logging_config
from authgate.mailer import build_mailer
from authgate.settings import ConfigurationError, Settings, load_settings
from authgate.store import open_store, write_problem

if TYPE_CHECKING:
    from authgate.django_import import ImportOptions, Summary

T = TypeVar("T")
DEV_SECRET_FILE = Path(".authgate-secret")

cli = typer.Typer(
    help="authgate: a self-hosted authentication service (Djoser/DRF-compatible).\n\n"
    "Configuration comes from AUTHGATE_* environment variables (see the README); the database "
    "is AUTHGATE_DATABASE_URL, by default sqlite:///./authgate.sqlite3.",
    no_args_is_help=True,
    add_completion=False,
    # A crash's traceback must not print its frames' variables: passwords and keys among them.
    pretty_exceptions_show_locals=False,
)


def _load_settings() -> Settings:
    """The settings, or the reasons they are refused (never a value) and exit 1."""
    try:
        return load_settings()
    except ConfigurationError as error:
        typer.echo("Error: refused settings:", err=True)
        for line in str(error).splitlines():
            typer.echo(f"  {line}", err=True)
        raise typer.Exit(code=1) from None


def _settings() -> Settings:
    settings = _load_settings()
    if not settings.secret_key.get_secret_value() and settings.env == "dev":
        # The two-command start needs no configuration: keep a generated dev secret on disk,
        # so links in emails stay valid across restarts.
        if not DEV_SECRET_FILE.exists():
            # Created owner-only from the start: never readable by others, even briefly.
            descriptor = os.open(DEV_SECRET_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as secret_file:
                secret_file.write(secrets.token_urlsafe(48))
        os.environ["AUTHGATE_SECRET_KEY"] = DEV_SECRET_FILE.read_text().strip()
        settings = _load_settings()
    return settings


def _with_core(settings: Settings, work: Callable[[Core], Awaitable[T]]) -> T:
    async def run() -> T:
        store = open_store(settings.database_url, pool_size=1)
        await store.connect()
        core = build_core(settings, store, build_mailer(settings))
        await core.start()
        try:
            return await work(core)
        finally:
            await core.close()
            await store.close()

    return asyncio.run(run())


def _fail(error: ValidationError) -> typer.Exit:
    for field, messages in error.errors.items():
        for message in messages:
            typer.echo(
                f"Error: {field or 'input'}: {translate(message.code, 'en', message.params)}",
                err=True,
            )
    return typer.Exit(code=1)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (one per core).")] = 1,
) -> None:
    """Migrate the database if needed, then serve HTTP."""
    settings = _settings()
    _refuse_unwritable(settings)
    # The same handler and format here, in uvicorn and in each of its workers (logs.py).
    log_config = logging_config(settings.log_level, settings.log_format)
    logging.config.dictConfig(log_config)
    _upgrade_apart()
    if workers > 1 and not settings.password_hash_threads:
        # Each worker would size its hashing pool by every core it may use, and the workers
        # share those cores: N hashes per core at once only thrash the cache (see
        # core/passwords.py; two workers on two cores: ~10% more logins/s with one thread
        # each than with two). The workers read this from the environment they inherit.
        os.environ["AUTHGATE_PASSWORD_HASH_THREADS"] = str(hash_threads_per_worker(workers))
    uvicorn.run(
        "authgate.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        log_config=log_config,
        access_log=False,  # uvicorn's, which writes the query string: authgate's is logs.py's
        server_header=False,
    )


def upgrade(database_url: str) -> None:
    """Apply every migration the database lacks (Alembic loads only for this)."""
    from authgate.store.migrate import upgrade as alembic_upgrade

    alembic_upgrade(database_url)


def _refuse_unwritable(settings: Settings) -> None:
    """Stop with one line when the database cannot be written (a read-only SQLite file or
    mount): serving would answer every registration, login and logout with 503."""
    problem = write_problem(settings.database_url)
    if problem is not None:
        typer.echo(f"Error: the database cannot be written ({problem}).", err=True)
        raise typer.Exit(code=1)


def _upgrade_apart() -> None:
    """Migrate in a process of its own (`authgate migrate`, with this one's settings): Alembic's
    and SQLAlchemy's machinery (some 20 MB) is then never part of the serving process, whose
    peak memory is what a deployment sizes. A plain child that ends, not multiprocessing's:
    that leaves a resource-tracker process behind for the server's lifetime."""
    migrating = subprocess.run(
        [sys.executable, "-m", "authgate", "migrate"],
        check=False,
        stdout=subprocess.PIPE,
        text=True,
    )
    for line in migrating.stdout.splitlines():  # what it did, as a log line like the rest
        logging.getLogger("authgate.migrate").info("%s", line)
    if migrating.returncode != 0:
        typer.echo("Error: the database could not be migrated (see above).", err=True)
        raise typer.Exit(code=1)


@cli.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    settings = _settings()
    _refuse_unwritable(settings)
    upgrade(settings.database_url)
    typer.echo("Database is up to date.")


@cli.command()
def createsuperuser(
    username: Annotated[str | None, typer.Option(help="Username of the new superuser.")] = None,
    email: Annotated[str, typer.Option(help="Email address.")] = "",
    no_input: Annotated[
        bool,
        typer.Option("--no-input", help="Ask nothing; password from AUTHGATE_SUPERUSER_PASSWORD."),
    ] = False,
) -> None:
    """Create a user with staff and superuser rights."""
    settings = _settings()
    upgrade(settings.database_url)
    if no_input:
        if not username or settings.superuser_password is None:
            typer.echo(
                "Error: --no-input needs --username and AUTHGATE_SUPERUSER_PASSWORD.", err=True
            )
            raise typer.Exit(code=2)
        password = settings.superuser_password.get_secret_value()
    else:
        username = username or typer.prompt("Username")
        email = email or typer.prompt("Email address", default="", show_default=False)
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = _with_core(
            settings,
            lambda core: core.users.register(
                username=username or "",
                email=email,
                password=password,
                is_staff=True,
                is_superuser=True,
            ),
        )
    except ValidationError as error:
        raise _fail(error) from error
    typer.echo(f"Superuser {user.username!r} created (id {user.id}).")


@cli.command()
def changepassword(
    username: Annotated[str, typer.Argument(help="Whose password to change.")],
) -> None:
    """Set a user's password (asks for it twice); their tokens are revoked."""
    settings = _settings()

    async def change(core: Core) -> str:
        user = await core.store.get_user_by_username_key(username_key(username))
        if user is None:
            typer.echo(f"Error: user {username!r} does not exist.", err=True)
            raise typer.Exit(code=1)
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
        await core.users.set_password(user, password)
        return user.username

    try:
        name = _with_core(settings, change)
    except ValidationError as error:
        raise _fail(error) from error
    typer.echo(f"Password changed for {name!r}.")


IMPORT_SKIPPED_EXIT_CODE = 3
IMPORT_DJANGO_HELP = (
    "Import users (with their password hashes) and DRF tokens from a Django database.\n\n"
    "Users keep their ids, passwords and tokens: they log in with their old passwords and "
    "their clients stay logged in. Users are matched by id, so running it again changes "
    "nothing, and a run that stopped halfway is just run again. Groups (matched by name), "
    "the permissions someone holds (by app_label.codename) and memberships come too. The "
    "target is AUTHGATE_DATABASE_URL, migrated first.\n\n"
    "Exit codes: 0 done; 3 done, but some users or tokens were skipped (listed in the "
    "summary); 1 a database could not be read or written; 2 bad options."
)


@cli.command("import-django", help=IMPORT_DJANGO_HELP)
def import_django(
    database_url: Annotated[
        str,
        typer.Option(
            "--database-url",
            help="The Django database: sqlite:///path/db.sqlite3 or postgresql://user@host/db.",
        ),
    ],
    user_table: Annotated[
        str, typer.Option(help="Table of a custom user model (AUTH_USER_MODEL).")
    ] = "auth_user",
    column: Annotated[
        list[str] | None,
        typer.Option(
            help="FIELD=COLUMN for a custom user model, e.g. username=login (repeatable);"
            " FIELD= when the model has no such field.",
        ),
    ] = None,
    token_table: Annotated[str, typer.Option(help="Table of DRF's tokens.")] = "authtoken_token",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Decide and report everything; write nothing.")
    ] = False,
    blank_duplicate_emails: Annotated[
        bool,
        typer.Option(
            "--blank-duplicate-emails",
            help="Import a user whose email another user already has without an email,"
            " instead of skipping them (authgate's emails are unique).",
        ),
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1, help="Users per transaction.")] = 500,
) -> None:
    """Import users and DRF tokens from a Django database (help: IMPORT_DJANGO_HELP)."""
    # Imported here: `authgate serve` need not carry the importer (nor SQLAlchemy's engine).
    from authgate.django_import import ImportOptions, LayoutError, parse_column_options

    settings = _load_settings()
    try:
        layout = parse_column_options(column or [], user_table=user_table, token_table=token_table)
    except LayoutError as error:
        raise typer.BadParameter(str(error), param_hint="--column") from error
    options = ImportOptions(
        source_url=database_url,
        target_url=settings.database_url,
        layout=layout,
        dry_run=dry_run,
        batch_size=batch_size,
        blank_duplicate_emails=blank_duplicate_emails,
        token_ttl_seconds=settings.token_ttl_seconds,
    )
    summary = _run_django_import(options)
    for line in summary.lines():
        typer.echo(line)
    if summary.skipped_anything:
        raise typer.Exit(code=IMPORT_SKIPPED_EXIT_CODE)


def _run_django_import(options: ImportOptions) -> Summary:
    """Migrate the target (not in a dry run), then import under a progress bar on stderr."""
    from sqlalchemy.exc import SQLAlchemyError

    from authgate.django_import import (
        ProgressBar,
        SourceError,
        UnsupportedUrlError,
        check_options,
        run_import,
    )

    try:
        check_options(options)
        if not options.dry_run:
            upgrade(options.target_url)
        with ProgressBar() as bar:
            return run_import(
                options, now=SystemClock().now(), on_start=bar.start, on_progress=bar.advance
            )
    except UnsupportedUrlError as error:
        raise typer.BadParameter(str(error), param_hint="--database-url") from error
    except (SourceError, SQLAlchemyError, OSError) as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(code=1) from error


# `authgate users ...`, `tokens revoke-all`, `audit tail` (src/authgate/cli_admin.py).
cli_admin.register(cli)


def main() -> None:
    """Entry point of the `authgate` command."""
    cli()
