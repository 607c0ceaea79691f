"""exporter/names.py: the names and labels everything else spells through it."""

from __future__ import annotations

import re

import pytest

from dagster_project.exporter import names as n

# Prometheus's duration syntax (model.ParseDuration): units in this order, each at most once.
PROMETHEUS_DURATION = re.compile(r"^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$")


@pytest.mark.parametrize(
    ("seconds", "label"),
    [
        (60, "1m"),
        (90, "1m30s"),
        (60.5, "1m500ms"),
        (3600, "1h"),
        (80640, "22h24m"),
        (86400, "1d"),
        (7 * 86400, "7d"),
        (28 * 86400, "28d"),
    ],
)
def test_window_labels_are_exact_prometheus_durations(seconds: float, label: str) -> None:
    assert n.window_label(seconds) == label
    assert PROMETHEUS_DURATION.match(label)


def test_different_windows_never_share_a_label() -> None:
    windows = [60, 60.5, 61, 90, 119.999, 120]
    assert len({n.window_label(w) for w in windows}) == len(windows)


def test_the_push_job_is_not_the_exporters() -> None:
    assert n.PUSH_JOB != n.EXPORTER_JOB
