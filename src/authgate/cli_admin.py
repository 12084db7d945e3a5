"""The operator's commands: `authgate users ...`, `tokens revoke-all`, `audit tail`.

Each prints what it did on stdout and problems on stderr. Exit codes: 0 done (or nothing to
do), 1 the user does not exist or the change was refused, 2 bad usage.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Annotated, TypeVar

import typer

from authgate.core import Core
from authgate.core.errors import UnavailableError, ValidationError
from authgate.core.identity import username_key
from authgate.core.models import AuditEvent, User
from authgate.core.staff import OPERATOR

T = TypeVar("T")

users_cli = typer.Typer(help="List and manage users.", no_args_is_help=True)
tokens_cli = typer.Typer(help="Manage users' opaque tokens.", no_args_is_help=True)
audit_cli = typer.Typer(help="Read the audit log.", no_args_is_help=True)

Username = Annotated[str, typer.Argument(help="The user's username.")]


def register(cli: typer.Typer) -> None:
    """Add the sub-commands to the `authgate` command."""
    cli.add_typer(users_cli, name="users")
    cli.add_typer(tokens_cli, name="tokens")
    cli.add_typer(audit_cli, name="audit")


def _run(work: Callable[[Core], Awaitable[T]]) -> T:
    """Run `work` on a core over AUTHGATE_DATABASE_URL (the CLI's own wiring, imported here:
    cli.py imports this module)."""
    from authgate import cli

    settings = cli._migrated(cli._settings())
    try:
        return cli._with_core(settings, work)
    except ValidationError as error:
        raise cli._fail(error) from error


async def _user(core: Core, username: str) -> User:
    user = await core.store.get_user_by_username_key(username_key(username))
    if user is None:
        typer.echo(f"Error: user {username!r} does not exist.", err=True)
        raise typer.Exit(code=1)
    return user


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


@users_cli.command("list")
def list_users(
    search: Annotated[
        str, typer.Option(help="Only users whose username or email contains this.")
    ] = "",
) -> None:
    """Every user: id, username, email, active, staff, superuser, role, last login."""

    async def read(core: Core) -> list[User]:
        return await core.store.list_users()

    needle = search.casefold()
    users = [u for u in _run(read) if needle in f"{u.username} {u.email}".casefold()]
    if not users:
        typer.echo("No users.")
        return
    rows = [("ID", "USERNAME", "EMAIL", "ACTIVE", "STAFF", "SUPERUSER", "ROLE", "LAST LOGIN")]
    rows += [
        (
            str(u.id),
            u.username,
            u.email,
            _yes(u.is_active),
            _yes(u.is_staff),
            _yes(u.is_superuser),
            u.role,
            u.last_login.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if u.last_login else "never",
        )
        for u in users
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


@users_cli.command()
def deactivate(username: Username) -> None:
    """Deactivate a user: no more logins; their tokens, JWTs and sessions end."""

    async def change(core: Core) -> bool:
        user = await _user(core, username)
        if not user.is_active and not user.awaits_activation:
            return False
        # One who awaits activation becomes deactivated too: no link of theirs works after.
        await core.users.set_active(user, active=False, actor=OPERATOR)
        return True

    if _run(change):
        typer.echo(f"User {username!r} deactivated; their tokens, JWTs and sessions are ended.")
    else:
        typer.echo(f"User {username!r} was already deactivated.")


@users_cli.command()
def unlock(username: Username) -> None:
    """Lift a user's login lockout (needs AUTHGATE_REDIS_URL).

    Without Redis each server process keeps its own counters, out of this command's reach.
    """
    from authgate import cli

    if cli._settings().redis_url is None:
        typer.echo(
            "Error: without AUTHGATE_REDIS_URL each server process counts failures in its own"
            " memory, which this command cannot reach: clear the lockout in the admin UI"
            " (/admin/lockouts) or restart the server.",
            err=True,
        )
        raise typer.Exit(code=1)

    async def lift(core: Core) -> None:
        user = await _user(core, username)
        try:
            await core.logins.unlock(user, shared_only=True)
        except UnavailableError:  # Redis's (the database answered _user)
            # Nothing was cleared, so nothing is audited: the lock holds in every server.
            typer.echo(
                "Error: Redis (AUTHGATE_REDIS_URL) cannot be reached, so the lockout was not"
                " cleared; try again when it answers, or clear it in the admin UI"
                " (/admin/lockouts).",
                err=True,
            )
            raise typer.Exit(code=1) from None

    _run(lift)
    typer.echo(f"Lockout of {username!r} cleared.")


@users_cli.command("set-role")
def set_role(
    username: Username,
    role: Annotated[str | None, typer.Option(help="Application role (AUTHGATE_ROLES).")] = None,
    staff: Annotated[
        bool | None, typer.Option("--staff/--no-staff", help="May use the admin UI.")
    ] = None,
    superuser: Annotated[
        bool | None, typer.Option("--superuser/--no-superuser", help="Has every right.")
    ] = None,
) -> None:
    """Change a user's role and staff/superuser flags (written to the audit log)."""
    if role is None and staff is None and superuser is None:
        typer.echo(
            "Error: give --role, --staff/--no-staff or --superuser/--no-superuser.", err=True
        )
        raise typer.Exit(code=2)

    async def change(core: Core) -> User:
        user = await _user(core, username)
        return await core.users.set_privileges(
            user,
            actor=OPERATOR,
            role=role,
            is_staff=staff,
            is_superuser=superuser,
            roles=core.settings.roles,
        )

    user = _run(change)
    typer.echo(
        f"User {user.username!r}: role {user.role}, staff {_yes(user.is_staff)},"
        f" superuser {_yes(user.is_superuser)}."
    )


@tokens_cli.command("revoke-all")
def revoke_all(username: Username) -> None:
    """Revoke every opaque token of a user (logged out on every device that used one)."""

    async def revoke(core: Core) -> int:
        user = await _user(core, username)
        return await core.user_tokens.revoke_all(OPERATOR, user)

    count = _run(revoke)
    typer.echo(f"Revoked {count} token{'' if count == 1 else 's'} of {username!r}.")


@audit_cli.command()
def tail(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's entries.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many entries.")] = 20,
) -> None:
    """The newest audit entries, oldest first (as `tail` shows a file's end)."""

    async def read(core: Core) -> tuple[list[AuditEvent], dict[int, str]]:
        user_id = (await _user(core, user)).id if user else None
        entries = await core.audit.events(user_id=user_id, limit=limit)
        names = {u.id: u.username for u in await core.store.list_users()}
        return entries, names

    entries, names = _run(read)
    if not entries:
        typer.echo("No audit entries.")
        return
    for entry in reversed(entries):
        typer.echo(_line(entry, names))


def _line(entry: AuditEvent, names: dict[int, str]) -> str:
    """One entry: time, id, event, outcome, then what is known of who and why."""
    at = entry.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    parts = [at, f"#{entry.id}", entry.event, entry.outcome]
    if entry.user_id is not None:
        parts.append(f"user={names.get(entry.user_id, '?')}({entry.user_id})")
    if entry.login:
        parts.append(f"login={entry.login!r}")
    if entry.address:
        parts.append(f"from={entry.address}")
    if entry.reason:
        parts.append(f"reason={entry.reason!r}")
    return "  ".join(parts)
