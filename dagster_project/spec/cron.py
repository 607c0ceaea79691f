"""Five-field cron expressions, as far as the generated alerts need them: the longest gap between two firings, which
bounds how long a scheduled run may be missing before "a scheduled run did not happen" fires.

Supports what the spec's cadences use and Dagster accepts: `*`, numbers, lists, ranges and steps (`*/15`, `1-5`,
`0,30`), with day-of-month and day-of-week combined as cron does (either matches when both are restricted).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta

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

    def fires_on(self, day: date) -> bool:
        """Whether any firing falls on this day (month, and day of month / day of week combined as cron does)."""
        if day.month not in self.months:
            return False
        dom, weekday = day.day in self.days, (day.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return dom or weekday
        return dom and weekday

    def matches(self, t: datetime) -> bool:
        return t.minute in self.minutes and t.hour in self.hours and self.fires_on(t.date())


def parse(expression: str) -> Cron:
    fields = expression.split()
    if len(fields) != 5:
        raise CronError(f"{expression!r} has {len(fields)} fields; a cron expression has 5")
    m, h, dom, mon, dow = (_field(f, i) for i, f in enumerate(fields))
    return Cron(m, h, dom, mon, dow, fields[2] != "*", fields[4] != "*")


def max_gap_seconds(expression: str, horizon_days: int = 366) -> float:
    """The longest time between two consecutive firings over a year from 2026-01-01 (minute resolution).

    Every day that fires, fires at the same times (hours x minutes), so the gaps are those between a day's times and
    those from the last time of one firing day to the first of the next: a year is 366 day tests, not 527,040
    minute tests (`slo validate` pays this for every cadence)."""
    cron = parse(expression)
    times = sorted(h * 3600 + m * 60 for h in cron.hours for m in cron.minutes)  # seconds into a firing day
    start = date(2026, 1, 1)
    days = [n for n in range(horizon_days) if cron.fires_on(start + timedelta(days=n))]
    if len(days) * len(times) < 2:
        raise CronError(f"{expression!r} fires fewer than twice a year")
    within = max((b - a for a, b in itertools.pairwise(times)), default=0)
    across = max(((b - a) * 86400 + times[0] - times[-1] for a, b in itertools.pairwise(days)), default=0)
    return float(max(within, across))
