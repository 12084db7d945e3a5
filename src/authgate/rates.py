"""Rates as the settings write them: "N/second", "N/minute", "N/hour", "N/day" (the `limits`
library's notation, without its other forms), parsed here so that a service without Redis does
not load that library (and Redis's client) at all."""

from __future__ import annotations

import re
from dataclasses import dataclass

SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86_400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour|day)s?\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Rate:
    """At most `amount` in any window of `seconds`."""

    amount: int
    seconds: int

    def key_for(self, *identifiers: str) -> str:
        """The counter key of this rate for `identifiers`."""
        return "/".join(("rate", *identifiers, f"{self.amount}per{self.seconds}"))


def parse_rate(text: str) -> Rate:
    """A Rate from "N/unit"; ValueError naming the text otherwise."""
    match = _RATE.match(text)
    if match is None or int(match.group(1)) < 1:
        raise ValueError(f"not a rate (N/second, N/minute, N/hour or N/day): {text!r}")
    return Rate(int(match.group(1)), SECONDS[match.group(2).lower()])
