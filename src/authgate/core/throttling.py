"""Rate limits on what an attacker would repeat: logins, registrations, recovery emails, and
lookups of whether a name is taken.

Each action is limited per client address and, where it names an account, per account (keyed
by the login or email as sent, normalised, whether or not such an account exists: the limit
itself must not tell). Limits are rates ("20/minute", authgate/rates.py); the counters are
shared through Redis when configured (core/counters.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from authgate.core.counters import Counters
from authgate.core.errors import ThrottledError
from authgate.core.events import NO_EVENTS, Events
from authgate.rates import Rate, parse_rate

# The throttled actions.
LOGIN = "login"
REGISTER = "register"
RECOVERY = "recovery"  # password reset, username reset, activation resend: each mails someone
PROBE = "probe"  # a lookup of whether an email or username is taken (core/probes.py)


@dataclass(frozen=True, slots=True)
class Rule:
    """The limits of one action: per client address and per account (None: no such limit)."""

    per_client: Rate | None
    per_account: Rate | None = None

    @classmethod
    def parse(cls, per_client: str | None, per_account: str | None = None) -> Rule:
        """A rule from two rates ("10/minute"; None or "" for none)."""
        return cls(
            parse_rate(per_client) if per_client else None,
            parse_rate(per_account) if per_account else None,
        )


class Throttle:
    """Counts attempts per rule and refuses those over the limit with ThrottledError."""

    def __init__(
        self,
        counters: Counters,
        rules: dict[str, Rule],
        *,
        enabled: bool,
        events: Events = NO_EVENTS,
    ) -> None:
        self._counters = counters
        self._rules = rules
        self._enabled = enabled
        self._events = events

    async def hit(self, action: str, *, client: str | None, account: str | None = None) -> None:
        """Count one attempt at `action`; ThrottledError if the client or the account is over
        its limit. A None client (the CLI) or account is not limited by that key."""
        rule = self._rules.get(action)
        if not self._enabled or rule is None:
            return
        waits = []
        if rule.per_client is not None and client is not None:
            waits.append(await self._counters.hit(rule.per_client, action, "client", client))
        if rule.per_account is not None and account is not None:
            waits.append(await self._counters.hit(rule.per_account, action, "account", account))
        refused = [wait for wait in waits if wait is not None]
        if refused:
            self._events.throttled(action)
            raise ThrottledError(math.ceil(max(refused)))
