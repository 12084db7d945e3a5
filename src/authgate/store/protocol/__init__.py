"""The Store protocol: exactly the queries the core needs, one module per area. SqlStore
(store/sql_store.py) implements it over either database. Any method may raise the core's
UnavailableError when the database is away: the drivers translate their outages into it."""

from __future__ import annotations

from typing import Protocol

from authgate.store.protocol.audit import AuditStore
from authgate.store.protocol.directory import DirectoryStore
from authgate.store.protocol.jwt import JwtStore
from authgate.store.protocol.lifecycle import StoreLifecycle
from authgate.store.protocol.revocations import RevocationStore
from authgate.store.protocol.sessions import SessionStore
from authgate.store.protocol.tokens import TokenStore
from authgate.store.protocol.users import UserChanges, UserStore

__all__ = [
    "AuditStore",
    "DirectoryStore",
    "JwtStore",
    "RevocationStore",
    "SessionStore",
    "Store",
    "StoreLifecycle",
    "TokenStore",
    "UserChanges",
    "UserStore",
]


class Store(
    UserStore,
    TokenStore,
    RevocationStore,
    JwtStore,
    DirectoryStore,
    AuditStore,
    SessionStore,
    StoreLifecycle,
    Protocol,
):
    """Persistent state of authgate: every area's queries."""
