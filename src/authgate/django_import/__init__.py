"""`authgate import-django`: move users and DRF tokens out of an existing Django database.

Teams leaving Django + Djoser keep their users' passwords and their clients' sessions: hashes
are copied as they are (authgate verifies Django's formats and upgrades them at the next
login) and DRF token keys become authgate token digests, so nobody has to log in again.

The pieces, each small enough to test alone:

- `layout`: where the user and token data live in the source (a custom user model's table and
  column names come from the command line);
- `source`: reads the Django database in id-ordered batches;
- `reconcile`: pure decisions, user by user: insert, update, leave alone, or skip and why;
- `target`: reads and writes authgate's own tables;
- `groups`: groups, permissions and their links, after the users;
- `connections`: one synchronous SQLAlchemy connection per database, whatever its driver;
- `runner`: the batch loop, with progress and dry-run;
- `summary`: the counts and reasons printed at the end;
- `progress`: the progress bar.
"""

from __future__ import annotations

from authgate.django_import.connections import UnsupportedUrlError
from authgate.django_import.layout import LayoutError, SourceLayout, parse_column_options
from authgate.django_import.progress import ProgressBar
from authgate.django_import.runner import ImportOptions, check_options, run_import
from authgate.django_import.source import SourceError
from authgate.django_import.summary import Summary

__all__ = [
    "ImportOptions",
    "LayoutError",
    "ProgressBar",
    "SourceError",
    "SourceLayout",
    "Summary",
    "UnsupportedUrlError",
    "check_options",
    "parse_column_options",
    "run_import",
]
