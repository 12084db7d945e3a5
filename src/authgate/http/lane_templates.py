"""The paths the fast lane matches by template (`/user/{id}/`), which the lane (http/fast_lane.py)
and the access log (http/request_ids.py) both read."""

from __future__ import annotations

PARAMETER = "{id}"
"""The one parameter a path the lane registers may end with (`/user/{id}/`)."""


def id_in(path: str, at: int) -> str | None:
    """The id of a template's path (`/user/{id}/`) starting at `at`: one segment, with the
    trailing slash or without, as the router's `{id}` takes it; None for anything else."""
    given = path[at:]
    if given.endswith("/"):
        given = given[:-1]
    return given if given and "/" not in given else None
