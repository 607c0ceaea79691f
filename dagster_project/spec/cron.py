"""Five-field cron expressions, as far as the generated alerts need them: the longest gap between two firings, which
bounds how long a scheduled run may be missing before "a scheduled run did not happen" fires.

Supports what the spec's cadences use and Dagster accepts: `*`, numbers, lists, ranges and steps (`*/15`, `1-5`,
`0,30`), with day-of-month and day-of-week combined as cron does (either matches when both are restricted).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))  # day of week: 0 and 7 are both Sunday
_NAMES = ("minute", "hour", "day of month", "month", "day of week")


class CronError(ValueError):
    pass


def _field(text: str, index: int) -> frozenset[int]:
    lo, hi = _RANGES[index]
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if base == "*":
                start, end = lo, hi
            elif "-" in base:
                a, b = base.split("-", 1)
                start, end = int(a), int(b)
            else:
                start = int(base)
                end = hi if step_text else start
        except ValueError:
            raise CronError(f"{_NAMES[index]} field {text!r} is not a number, range, list or step") from None
        if step < 1 or not (lo <= start <= hi and lo <= end <= hi) or start > end:
            raise CronError(f"{_NAMES[index]} field {text!r} is outside {lo}-{hi}")
        values.update(range(start, end + 1, step))
    if index == 4 and 7 in values:
        values = (values - {7}) | {0}
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    days_restricted: bool
    weekdays_restricted: bool

    def matches(self, t: datetime) -> bool:
        if t.minute not in self.minutes or t.hour not in self.hours or t.month not in self.months:
            return False
        day, weekday = t.day in self.days, (t.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return day or weekday
        return day and weekday


def parse(expression: str) -> Cron:
    fields = expression.split()
    if len(fields) != 5:
        raise CronError(f"{expression!r} has {len(fields)} fields; a cron expression has 5")
    m, h, dom, mon, dow = (_field(f, i) for i, f in enumerate(fields))
    return Cron(m, h, dom, mon, dow, fields[2] != "*", fields[4] != "*")


def max_gap_seconds(expression: str, horizon_days: int = 366) -> float:
    """The longest time between two consecutive firings over a year from 2026-01-01 (minute resolution)."""
    cron = parse(expression)
    start = datetime(2026, 1, 1)
    fired: list[datetime] = []
    t = start
    end = start + timedelta(days=horizon_days)
    # Walk hours first and minutes only inside matching hours: a year is 8,784 hours.
    while t < end:
        if t.hour in cron.hours and t.month in cron.months and cron.matches(t.replace(minute=min(cron.minutes))):
            fired += [t.replace(minute=minute) for minute in sorted(cron.minutes)]
        t += timedelta(hours=1)
    if len(fired) < 2:
        raise CronError(f"{expression!r} fires fewer than twice a year")
    return max((b - a).total_seconds() for a, b in itertools.pairwise(fired))
