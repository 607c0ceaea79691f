"""`slo validate` warns (file:line, exit code unchanged) when a freshness threshold leaves no slack for its use case's
update cadence plus a build, and when a window is shorter than the check cadence."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from dagster_project.results.store import record
from dagster_project.spec.validate import validate
from dagster_project.verify.slack import DEFAULT_BUILD_MARGIN_S, measured_build_seconds, slack_warnings
from tests.conftest import REPO

MINIMAL = (REPO / "tests" / "specs" / "good" / "minimal.yaml").read_text()
BUILD_SLO = """\
  - id: build_time
    description: The build finishes within 15 minutes.
    dimension: performance
    dataset: product_affinity.north_star_daily
    indicator: {type: build_duration}
    threshold: {max: 15m}
    severity: warn
    objective: 0.99
    windows: [7d]
    protects: {use_case: targeting}
"""


def spec_with(tmp_path: Path, threshold: str = "24h", windows: str = "[7d]", check_cadence: str | None = None) -> Path:
    text = (MINIMAL + BUILD_SLO).replace("threshold: {max: 24h}", f"threshold: {{max: {threshold}}}")
    text = text.replace(
        "windows: [7d]\n    protects: {use_case: targeting}\n",
        f"windows: {windows}\n    protects: {{use_case: targeting}}\n",
        1,
    )
    if check_cadence is not None:
        text = text.replace(
            'update_cadence: "0 5 * * *"', f'update_cadence: "0 5 * * *"\n        check_cadence: "{check_cadence}"'
        )
    path = tmp_path / f"spec_{threshold}.yaml"
    path.write_text(text)
    return path


def store_with_build(tmp_path: Path, seconds: float) -> Path:
    store = tmp_path / "results.sqlite"
    result = {
        "slo": "build_time",
        "product": "shop",
        "dimension": "performance",
        "dataset": "product_affinity.north_star_daily",
        "observed": seconds,
        "threshold": {"bound": "max", "value": 900.0},
        "passed": True,
        "severity": "warn",
        "engine": "native",
        "error": None,
    }
    record(store, "older", datetime(2026, 11, 26, 5, 1, tzinfo=UTC), [{**result, "observed": 7200.0}])
    record(store, "latest", datetime(2026, 11, 27, 5, 1, tzinfo=UTC), [result])
    return store


def line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), start=1) if needle in line)


def test_a_24h_freshness_threshold_with_a_daily_build_is_warned_about_at_its_line(tmp_path: Path) -> None:
    spec = spec_with(tmp_path, "24h")
    specs, issues = validate([spec])
    assert issues == []
    for build in ({}, measured_build_seconds([s.spec for s in specs], store_with_build(tmp_path, 4.0))):
        (warning,) = slack_warnings(specs, build)
        assert (warning.file, warning.line, warning.path) == (
            str(spec),
            line_of(spec, "max: 24h"),
            "slos.0.threshold.max",
        )
        assert "24h leaves no slack" in warning.message and "'0 5 * * *'" in warning.message


def test_26h_with_a_build_of_seconds_leaves_slack_and_is_not_warned_about(tmp_path: Path) -> None:
    specs, _ = validate([spec_with(tmp_path, "26h")])
    build = measured_build_seconds([s.spec for s in specs], store_with_build(tmp_path, 4.0))
    assert build == {"shop": 4.0}  # the latest evaluation, not the slower one before it
    assert slack_warnings(specs, build) == []
    assert slack_warnings(specs) == []  # nor with the default margin


def test_the_measured_build_counts_when_it_eats_the_slack(tmp_path: Path) -> None:
    specs, _ = validate([spec_with(tmp_path, "25h")])
    assert DEFAULT_BUILD_MARGIN_S == 3600  # 24h + an hour: no slack left by default
    assert len(slack_warnings(specs)) == 1
    assert slack_warnings(specs, {"shop": 4.0}) == []
    assert len(slack_warnings(specs, {"shop": 3601.0})) == 1


def test_a_window_shorter_than_the_check_cadence_is_warned_about(tmp_path: Path) -> None:
    spec = spec_with(tmp_path, "26h", windows="[12h, 7d]")
    specs, _ = validate([spec])
    (warning,) = slack_warnings(specs)  # checked by its daily builds only: a 12h window is empty half the time
    assert warning.path == "slos.0.windows.0" and warning.line == line_of(spec, "windows: [12h, 7d]")
    assert "shorter than the check cadence" in warning.message
    (tmp_path / "hourly").mkdir()
    hourly, _ = validate([spec_with(tmp_path / "hourly", "26h", windows="[12h, 7d]", check_cadence="0 * * * *")])
    assert slack_warnings(hourly) == []


def test_validate_prints_warnings_with_their_place_and_still_exits_0(tmp_path: Path) -> None:
    spec = spec_with(tmp_path, "24h")
    store = store_with_build(tmp_path, 4.0)
    result = subprocess.run(
        [sys.executable, "-m", "dagster_project.cli.main", "validate", str(spec), "--results", str(store)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    warning, summary = result.stdout.splitlines()
    assert warning.startswith(f"{spec}:{line_of(spec, 'max: 24h')}:") and ": warning: 24h leaves no slack" in warning
    assert "latest measured build takes 4.0s" in warning
    assert summary == "1 spec file(s) valid: 2 SLOs"
