"""Who may change whom: the one rule of every change one account makes to another (profile,
password, activity, privileges, rights, tokens, deletion), and of every staff-only change."""

from __future__ import annotations

from dataclasses import dataclass

from authgate.core.errors import PermissionDeniedError
from authgate.core.models import User


@dataclass(frozen=True, slots=True)
class Operator:
    """An actor that is no account: whoever runs the `authgate` command holds the database
    itself (its URL and password) and could write any row; the CLI is that person's tool, so
    it may change anyone. Never built from a request."""

    name: str = "the CLI"


OPERATOR = Operator()
Actor = User | Operator


def require_staff(actor: Actor) -> None:
    """PermissionDeniedError unless `actor` is active staff (Django's IsAdminUser; a
    superuser without is_staff is no admin there either) or the operator."""
    if isinstance(actor, Operator):
        return
    if not (actor.is_active and actor.is_staff):
        raise PermissionDeniedError


def may_change_user(actor: Actor, user: User) -> bool:
    """Whether `actor` may change or delete `user`'s account: the operator may; an active
    user may change themselves; otherwise only active staff, and a superuser only by a
    superuser (a staff member who could reset a superuser's password or email, delete them
    or reshape their rights would hold the superuser's powers)."""
    if isinstance(actor, Operator):
        return True
    if not actor.is_active:
        return False
    if actor.id == user.id:
        return True
    return actor.is_staff and (actor.is_superuser or not user.is_superuser)


def authorize_user_change(actor: Actor, user: User) -> None:
    """PermissionDeniedError unless `actor` may change `user` (may_change_user). Every core
    operation that changes or deletes an account calls this first, whichever door the
    request came through."""
    if not may_change_user(actor, user):
        raise PermissionDeniedError


def authorize_staff_change(actor: Actor, user: User) -> None:
    """A change only staff make, even to themselves (privileges, groups, permissions,
    another's tokens and sessions): staff, and may_change_user."""
    require_staff(actor)
    authorize_user_change(actor, user)
