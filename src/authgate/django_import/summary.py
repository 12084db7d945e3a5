"""What an import did, counted, with every skip and its reason: printed at the end, and what
the exit code is decided from."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

SHOWN_PER_NOTE = 10


@dataclass
class Summary:
    """Counts per action, skips with reasons, and notes (imported, but worth knowing)."""

    dry_run: bool = False
    users: Counter[str] = field(default_factory=Counter)
    tokens: Counter[str] = field(default_factory=Counter)
    skipped_users: list[str] = field(default_factory=list)
    skipped_tokens: list[str] = field(default_factory=list)
    groups: Counter[str] = field(default_factory=Counter)
    permissions: Counter[str] = field(default_factory=Counter)
    links: Counter[str] = field(default_factory=Counter)
    """Memberships and grants: user-group, user-permission and group-permission pairs."""
    skipped_groups: list[str] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)
    layout_notes: list[str] = field(default_factory=list)
    not_imported: dict[str, int] = field(default_factory=dict)

    def note(self, message: str, username: str) -> None:
        """Remember that `message` applies to this user."""
        self.notes.setdefault(message, []).append(username)

    @property
    def skipped_anything(self) -> bool:
        """Whether a user, token, group, permission or link was left out (groups and
        permissions of an authgate without them do not count: the summary says why)."""
        return bool(self.skipped_users or self.skipped_tokens or self.skipped_groups)

    @property
    def changed_anything(self) -> bool:
        """Whether the run wrote (or, dry, would write) anything."""
        inserted = (self.users, self.tokens, self.groups, self.permissions, self.links)
        return bool(self.users["update"] + sum(counts["insert"] for counts in inserted))

    def lines(self) -> list[str]:
        """The summary as printed."""
        verb = "would be " if self.dry_run else ""
        out = ["Dry run: nothing was written." if self.dry_run else "Import finished."]
        out.append(
            f"users: {self.users['insert']} {verb}imported, {self.users['update']} {verb}updated,"
            f" {self.users['unchanged']} unchanged, {self.users['skip']} skipped"
        )
        out.append(
            f"tokens: {self.tokens['insert']} {verb}imported,"
            f" {self.tokens['unchanged']} unchanged, {self.tokens['skip']} skipped"
        )
        if self.groups or self.permissions or self.links:
            out.append(
                "; ".join(
                    f"{name}: {counts['insert']} {verb}imported, {counts['unchanged']} unchanged,"
                    f" {counts['skip']} skipped"
                    for name, counts in (
                        ("groups", self.groups),
                        ("permissions", self.permissions),
                        ("links", self.links),
                    )
                )
            )
        out += _section("skipped users:", self.skipped_users)
        out += _section("skipped tokens:", self.skipped_tokens)
        out += _section("skipped groups, permissions and links:", self.skipped_groups)
        notes = [_note(message, names) for message, names in self.notes.items()]
        out += _section("notes:", self.layout_notes + notes)
        if self.not_imported:
            rows = ", ".join(
                f"{name} ({count} row{'s' if count != 1 else ''})"
                for name, count in self.not_imported.items()
            )
            out.append(f"skipped, as authgate has no groups or permissions yet: {rows}")
        return out


def _section(title: str, lines: list[str]) -> list[str]:
    return [title, *(f"  {line}" for line in lines)] if lines else []


def _note(message: str, names: list[str]) -> str:
    shown = ", ".join(repr(name) for name in names[:SHOWN_PER_NOTE])
    more = f" and {len(names) - SHOWN_PER_NOTE} more" if len(names) > SHOWN_PER_NOTE else ""
    return f"{message}: {len(names)} user(s): {shown}{more}"
