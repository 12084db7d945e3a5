"""Tests that restart a service the whole machine shares (PostgreSQL: tests/faults/
test_postgres_restart.py) must run while nothing else uses it: with pytest-xdist, other
workers run tests meanwhile. A readers-writer file lock settles it: a worker holds it shared
from the first test of a module to the last one's teardown (module-scoped servers hold
connections across tests), and exclusive around a module with a test marked `alone`.

A second lock, the turnstile, keeps a waiting writer from starving: a reader takes it only
for the moment of taking the shared lock, the writer holds it while it waits, so no new
module starts until the writer is done (flock alone lets new readers pass a waiting writer)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Generator
from pathlib import Path

import pytest


class ModuleLock:
    """A pytest plugin: the lock around each module's tests (see the module's docstring)."""

    def __init__(self, path: Path) -> None:
        self._main = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        self._turnstile = os.open(path.with_suffix(".turnstile"), os.O_RDWR | os.O_CREAT, 0o666)
        self._held: tuple[str, bool] | None = None  # (module holding the lock, exclusively)

    def _acquire(self, exclusive: bool) -> None:
        fcntl.flock(self._turnstile, fcntl.LOCK_EX)
        try:
            fcntl.flock(self._main, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        finally:
            if not exclusive:
                fcntl.flock(self._turnstile, fcntl.LOCK_UN)

    def _release(self) -> None:
        fcntl.flock(self._main, fcntl.LOCK_UN)
        fcntl.flock(self._turnstile, fcntl.LOCK_UN)  # held by a writer; a no-op for a reader

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, object, object]:
        module = _module_of(item)
        alone = item.get_closest_marker("alone") is not None
        if self._held is not None and (self._held[0] != module or (alone and not self._held[1])):
            self._release()
            self._held = None
        if self._held is None:
            self._acquire(exclusive=alone)
            self._held = (module, alone)
        try:
            return (yield)
        finally:
            if nextitem is None or _module_of(nextitem) != module:
                self._release()
                self._held = None


def _module_of(item: pytest.Item) -> str:
    return item.nodeid.split("::")[0]
