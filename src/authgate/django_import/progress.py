"""The import's progress bar, on stderr so that stdout carries only the summary (it is drawn
only on a terminal; in a log the label is printed once)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import ExitStack
from types import TracebackType

import typer

LABEL = "Importing users"


class ProgressBar:
    """Started once the number of users is known; advanced batch by batch."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._update: Callable[[int], None] | None = None

    def start(self, total: int) -> None:
        """Show the bar for `total` users."""
        bar = self._stack.enter_context(
            typer.progressbar(length=total, label=LABEL, file=sys.stderr)
        )
        self._update = bar.update

    def advance(self, done: int) -> None:
        """`done` more users were handled."""
        if self._update is not None:
            self._update(done)

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stack.__exit__(kind, error, traceback)
