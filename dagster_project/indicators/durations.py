"""Durations in specs: '500ms', '30s', '15m', '24h', '7d', '4w'. One unit per value keeps them unambiguous."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d|w)$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_duration(text: str) -> timedelta:
    """The timedelta of a duration string; ValueError with the accepted forms otherwise."""
    m = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"{text!r} is not a duration; use a number and one unit of ms, s, m, h, d, w (e.g. 24h, 7d)")
    seconds = float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
    if seconds <= 0:
        raise ValueError(f"{text!r}: a duration must be positive")
    return timedelta(seconds=seconds)


def seconds(text: str) -> float:
    return parse_duration(text).total_seconds()
