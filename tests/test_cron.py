"""Cron expressions as the generated alerts read them: fields, and the longest gap between firings."""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dagster_project.defs.factory import cron_slug
from dagster_project.spec.cron import CronError, max_gap_seconds, parse


@pytest.mark.parametrize(
    ("cron", "gap_h"),
    [
        ("0 * * * *", 1),
        ("0 5 * * *", 24),
        ("*/15 * * * *", 0.25),
        ("0 5,17 * * *", 12),
        ("0 6 * * 1-5", 72),  # Friday 06:00 to Monday 06:00
        ("0 6 * * 1", 168),
        ("0 6 1 * *", 31 * 24),
        ("0 0 * * 7", 168),  # Sunday as 7
        ("0 0 * * 5-7", 120),  # Friday to Sunday, then five days
    ],
)
def test_longest_gap_between_firings(cron: str, gap_h: float) -> None:
    assert max_gap_seconds(cron) == gap_h * 3600


def _gap_by_walking_every_minute(expression: str, days: int) -> float:
    cron, start = parse(expression), datetime(2026, 1, 1)
    fired = [t for n in range(days * 1440) if cron.matches(t := start + timedelta(minutes=n))]
    return max((b - a).total_seconds() for a, b in itertools.pairwise(fired))


def _field_text(values: list[int], star: bool) -> str:
    return "*" if star else ",".join(map(str, values))


@settings(max_examples=40, deadline=None)
@given(
    minutes=st.lists(st.integers(0, 59), min_size=1, max_size=3, unique=True),
    hours=st.lists(st.integers(0, 23), min_size=1, max_size=3, unique=True),
    days=st.one_of(st.none(), st.lists(st.integers(1, 28), min_size=1, max_size=3, unique=True)),
    weekdays=st.one_of(st.none(), st.lists(st.integers(0, 7), min_size=1, max_size=3, unique=True)),
)
def test_the_longest_gap_equals_walking_every_minute(
    minutes: list[int], hours: list[int], days: list[int] | None, weekdays: list[int] | None
) -> None:
    """Computed per firing day, checked against the plain walk over every minute of two months."""
    expression = " ".join(
        [
            _field_text(minutes, False),
            _field_text(hours, False),
            _field_text(days or [], days is None),
            "1,2",
            _field_text(weekdays or [], weekdays is None),
        ]
    )
    assert max_gap_seconds(expression, horizon_days=59) == _gap_by_walking_every_minute(expression, 59)


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 25 * * *", "hour field '25' is outside 0-23"),
        ("61 * * * *", "minute field '61' is outside 0-59"),
        ("0 5 * *", "has 4 fields"),
        ("0 five * * *", "hour field 'five' is not a number"),
        ("*/0 * * * *", "minute field '*/0' is outside"),
    ],
)
def test_invalid_fields_are_named(cron: str, message: str) -> None:
    with pytest.raises(CronError, match=re.escape(message)):
        parse(cron)


def test_schedule_names_keep_cadences_apart() -> None:
    slugs = {cron_slug(c) for c in ("0 5,6 * * *", "0 5-6 * * *", "0 5/6 * * *", "0 5 * * *")}
    assert len(slugs) == 4 and cron_slug("0 5,6 * * *") == "0_5c6_x_x_x"
