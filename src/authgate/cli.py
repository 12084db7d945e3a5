"""The `authgate` command: serve, migrate, createsuperuser, changepassword, import-django."""

from __future__ import annotations

import asyncio
import logging
import logging.config
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Awaitable, Callable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
import uvicorn

from authgate import cli_admin
from authgate.composition import build_core, hash_threads_per_worker
from authgate.core import Core
from authgate.core.clock import SystemClock
from authgate.core.errors import ValidationError
from authgate.core.identity import username_key
from authgate.core.staff import OPERATOR
from authgate.http.i18n import translate
from authgate.http.slow_clients import server_options
from authgate.logs import logging_config
from authgate.mailer import build_mailer
from authgate.settings import ConfigurationError, Settings, load_settings
from authgate.store import open_store
from authgate.store.preflight import (
    UnusableDatabaseError,
    refuse_unknown,
    require_migrated,
    revision,
    shown,
)
from authgate.store.revisions import shipped_revisions

if TYPE_CHECKING:
    from authgate.django_import import ImportOptions, Summary

T = TypeVar("T")
# Exit codes (docs/configuration-errors.md): systemd's RestartPreventExitStatus=1 stops retrying
# a bad setting, while a database that is away (4) may come back.
EXIT_REFUSED = 1  # a setting is refused, or the command refused (unknown user, weak password)
EXIT_USAGE = 2  # bad options (click's own code)
EXIT_DATABASE = 4  # the database cannot be used: unreachable, missing, unwritable, not migrated
DEV_SECRET_FILE = Path(".authgate-secret")

cli = typer.Typer(
    help="authgate: a self-hosted authentication service (Djoser/DRF-compatible).\n\n"
    "Configuration comes from AUTHGATE_* environment variables (see the README); the database "
    "is AUTHGATE_DATABASE_URL, by default sqlite:///./authgate.sqlite3. Only serve and "
    "migrate create it.\n\n"
    "Exit codes: 0 done; 1 a setting or the command refused; 2 bad usage; 3 import-django "
    "skipped some; 4 the database cannot be used. `authgate --debug COMMAND` shows an "
    "error's traceback.",
    no_args_is_help=True,
    add_completion=False,
    # A crash's traceback must not print its frames' variables: passwords and keys among them.
    pretty_exceptions_show_locals=False,
)


def _print_version(wanted: bool) -> None:
    if wanted:
        # The installed distribution's version: what pip and the lock file know it as.
        typer.echo(f"authgate {metadata.version('authgate')}")
        raise typer.Exit


@cli.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Options before the command."""


def _load_settings() -> Settings:
    """The settings; a refusal (ConfigurationError, never a value) is told by main()."""
    return load_settings()


def _settings(*, keep_dev_secret: bool = False) -> Settings:
    """The settings; in dev without a secret key, the one kept in .authgate-secret. Only
    `serve` creates that file (`keep_dev_secret`): another command run in the wrong folder
    must leave nothing behind, and uses a key of its own for this run."""
    settings = _load_settings()
    if not settings.secret_key.get_secret_value() and settings.env == "dev":
        if DEV_SECRET_FILE.exists():
            key = DEV_SECRET_FILE.read_text().strip()
        elif keep_dev_secret:
            # The two-command start needs no configuration: keep a generated dev secret on
            # disk, so links in emails stay valid across restarts. Created owner-only from
            # the start: never readable by others, even briefly.
            key = secrets.token_urlsafe(48)
            descriptor = os.open(DEV_SECRET_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as secret_file:
                secret_file.write(key)
        else:
            key = secrets.token_urlsafe(48)
        os.environ["AUTHGATE_SECRET_KEY"] = key
        settings = _load_settings()
    return settings


def _migrated(settings: Settings) -> Settings:
    """The settings once the database is known to be migrated (the commands that use it and
    may not create it); otherwise UnusableDatabaseError says which database was looked at."""
    require_migrated(
        settings.database_url,
        revisions=shipped_revisions(),
        timeout_seconds=settings.database_timeout_seconds,
    )
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
    loaded = _load_settings()  # refused settings are told before anything is touched
    # The same handler and format here, in uvicorn and in each of its workers (logs.py).
    log_config = logging_config(loaded.log_level, loaded.log_format)
    logging.config.dictConfig(log_config)
    _upgrade_apart()
    settings = _settings(keep_dev_secret=True)
    if workers > 1 and not settings.password_hash_threads:
        # Each worker would size its hashing pool by every core it may use, and the workers
        # share those cores: N hashes per core at once only thrash the cache (see
        # core/passwords.py; two workers on two cores: ~10% more logins/s with one thread
        # each than with two). The workers read this from the environment they inherit.
        os.environ["AUTHGATE_PASSWORD_HASH_THREADS"] = str(hash_threads_per_worker(workers))
    metrics_directory = _metrics_directory(settings)
    try:
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
            # AUTHGATE_TRUSTED_PROXIES alone decides whose X-Forwarded-* is read
            # (http/proxies.py); uvicorn's own would trust 127.0.0.1 regardless.
            proxy_headers=False,
            **server_options(settings),  # bounds on slow clients and connections
        )
    finally:
        if metrics_directory is not None:
            shutil.rmtree(metrics_directory, ignore_errors=True)


def _metrics_directory(settings: Settings) -> str | None:
    """With metrics on, a fresh directory for prometheus-client's multiprocess mode, handed to
    the workers through the environment (the library reads PROMETHEUS_MULTIPROC_DIR itself):
    each worker writes its counts there and a scrape adds them up. Fresh per run, since counts
    left from an earlier run would be added in; removed when serving ends."""
    if settings.metrics_token is None:
        return None
    try:
        directory = tempfile.mkdtemp(prefix="authgate-metrics-")
    except OSError as error:
        typer.echo(
            f"Error: cannot make the metrics directory ({error}); set TMPDIR to a writable"
            " directory.",
            err=True,
        )
        raise typer.Exit(code=1) from None
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    return directory


def upgrade(database_url: str) -> None:
    """Apply every migration the database lacks (Alembic loads only for this)."""
    from authgate.store.migrate import upgrade as alembic_upgrade

    alembic_upgrade(database_url)


def _upgrade_apart() -> None:
    """Migrate in a process of its own (`authgate migrate`, with this one's settings): Alembic's
    and SQLAlchemy's machinery (some 20 MB) is then never part of the serving process, whose
    peak memory is what a deployment sizes. A plain child that ends, not multiprocessing's:
    that leaves a resource-tracker process behind for the server's lifetime."""
    debug = ["--debug"] if _debug else []
    # Our own interpreter and package, fixed arguments.
    migrating = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "authgate", *debug, "migrate"],
        check=False,
        stdout=subprocess.PIPE,
        text=True,
    )
    for line in migrating.stdout.splitlines():  # what it did, as a log line like the rest
        logging.getLogger("authgate.migrate").info("%s", line)
    if migrating.returncode != 0:
        raise typer.Exit(code=migrating.returncode)  # `migrate` said why


@cli.command()
def migrate() -> None:
    """Create or upgrade the database schema, and say which it did."""
    settings = _load_settings()
    url = settings.database_url
    before = revision(url, create=True, timeout_seconds=settings.database_timeout_seconds)
    known = shipped_revisions()
    head = known.head
    if before is not None:
        refuse_unknown(url, before, known)
    upgrade(url)
    if before is None:
        typer.echo(f"Created the schema at revision {head} in {shown(url)}: up to date.")
    elif before == head:
        typer.echo(f"Nothing to do: {shown(url)} is up to date (revision {head}).")
    else:
        typer.echo(f"Upgraded {shown(url)} from revision {before} to {head}: up to date.")


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
    settings = _migrated(_settings())
    if no_input:
        if not username or settings.superuser_password is None:
            typer.echo(
                "Error: --no-input needs --username and AUTHGATE_SUPERUSER_PASSWORD.", err=True
            )
            raise typer.Exit(code=EXIT_USAGE)
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
    settings = _migrated(_settings())

    async def change(core: Core) -> str:
        user = await core.store.get_user_by_username_key(username_key(username))
        if user is None:
            typer.echo(f"Error: user {username!r} does not exist.", err=True)
            raise typer.Exit(code=1)
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
        await core.users.set_password(user, password, actor=OPERATOR)
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
        typer.echo(f"Error: {redact(str(error))}", err=True)
        raise typer.Exit(code=1) from error


# `authgate users ...`, `tokens revoke-all`, `audit tail` (src/authgate/cli_admin.py).
cli_admin.register(cli)


_debug = False


def main() -> None:
    """Entry point of the `authgate` command: an error is told in a line or two and its exit
    code (EXIT_CODES), without a traceback unless `authgate --debug COMMAND` asks for one."""
    global _debug
    args = sys.argv[1:]
    _debug = args[:1] == ["--debug"]
    try:
        cli(args[1:] if _debug else args, prog_name="authgate")
    except Exception as error:  # noqa: BLE001 (every error is told, none as a traceback)
        if _debug:
            # Python's own traceback: typer's would be prettier, but exits 1 whatever it was.
            traceback.print_exception(error)
        lines, code = _told(error)
        for line in lines:
            typer.echo(line, err=True)
        sys.exit(code)


def _told(error: Exception) -> tuple[list[str], int]:
    """What the operator reads for an error, and the exit code."""
    if isinstance(error, ConfigurationError):
        refusals = str(error).splitlines()
        if len(refusals) == 1:
            return [f"Error: {refusals[0]}"], EXIT_REFUSED
        return ["Error: refused settings:", *(f"  {line}" for line in refusals)], EXIT_REFUSED
    if isinstance(error, UnusableDatabaseError):
        return [f"Error: {error.what}.", f"Fix: {error.fix}."], EXIT_DATABASE
    # Unforeseen: its own words, with any password a URL in them carries masked.
    return [
        f"Error: {type(error).__name__}: {redact(str(error))}",
        "(authgate --debug ... shows the traceback)",
    ], EXIT_REFUSED


def redact(text: str) -> str:
    """`text` with the passwords of URLs in it (`user:pw@`, `password=pw`) masked."""
    text = re.sub(r"(://[^/:@\s]*:)[^@\s]*@", r"\1***@", text)
    return re.sub(r"(password=)[^&\s]+", r"\1***", text, flags=re.IGNORECASE)
