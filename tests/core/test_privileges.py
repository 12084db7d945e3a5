"""Roles and the staff/superuser flags: who may change them, what is logged."""

from __future__ import annotations

import asyncio

import pytest

from authgate.composition import build_core
from authgate.core.errors import PermissionDeniedError, ValidationError
from authgate.mailer import LogMailer
from authgate.settings import Settings
from authgate.store import open_store

PASSWORD = "Correct-Horse-9"


def test_only_staff_change_roles_and_only_a_superuser_grants_superuser(database_url: str) -> None:
    async def scenario() -> None:
        settings = Settings(database_url=database_url, secret_key="k" * 40, _env_file=None)
        store = open_store(database_url)
        await store.connect()
        core = build_core(settings, store, LogMailer())
        await core.start()
        try:
            users = core.users
            roles = settings.roles
            root = await users.register(
                username="root", email="", password=PASSWORD, is_staff=True, is_superuser=True
            )
            staff = await users.register(
                username="staff", email="", password=PASSWORD, is_staff=True
            )
            john = await users.register(username="john", email="", password=PASSWORD)
            with pytest.raises(PermissionDeniedError):
                await users.set_privileges(john, actor=john, role="ADMIN", roles=roles)
            with pytest.raises(PermissionDeniedError):
                await users.set_privileges(john, actor=staff, is_superuser=True, roles=roles)
            with pytest.raises(ValidationError):
                await users.set_privileges(john, actor=staff, role="GOD", roles=roles)
            unchanged = await store.get_user(john.id)
            assert unchanged is not None
            assert (unchanged.role, unchanged.is_staff, unchanged.is_superuser) == (
                "USER",
                False,
                False,
            )
            john = await users.set_privileges(
                john, actor=staff, role="ADMIN", is_staff=True, roles=roles
            )
            assert (john.role, john.is_staff) == ("ADMIN", True)
            john = await users.set_privileges(john, actor=root, is_superuser=True, roles=roles)
            assert john.is_superuser
            changes = await core.audit.events(user_id=john.id, event="role_change")
            assert [e.reason for e in changes] == [
                "is_superuser=True by root",
                "role=ADMIN,is_staff=True by staff",
            ]
        finally:
            await core.close()
            await store.close()

    asyncio.run(scenario())
