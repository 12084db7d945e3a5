"""Lookups of whether an email or username is taken, counted as probes.

"That email is taken" tells the asker an account exists. Every path that looks a name up
(a sign-up, an email or username change, a username reset) counts the lookup first against
the PROBE limits (AUTHGATE_THROTTLE_PROBE_*: per client address, and per account when a
signed-in user asks), so past them the answer is a 429 instead of the answer. An edit that
looks nothing up (its email unchanged, only other fields) costs nothing; staff, who may list
every account anyway, are not counted.

A request counts once however many layers look the name up (a dialect's field check, then
the core's own before it writes): the count is marked on the request's Caller.
"""

from __future__ import annotations

from authgate.core.callers import caller_address, current_caller
from authgate.core.models import User
from authgate.core.throttling import PROBE, Throttle


class Probes:
    """Counts lookups of taken names; ThrottledError past the limits."""

    def __init__(self, throttle: Throttle) -> None:
        self._throttle = throttle

    async def count(self, asker: User | None) -> None:
        """Count one lookup asked by `asker` (None: someone not signed in, limited by their
        address alone), before it is made."""
        if asker is not None and asker.is_staff:
            return
        caller = current_caller.get()
        if caller is not None:
            if PROBE in caller.counted:
                return
            caller.counted.add(PROBE)
        account = None if asker is None else f"user:{asker.id}"
        await self._throttle.hit(PROBE, client=caller_address(), account=account)
