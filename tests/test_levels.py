"""Warn and error levels on one SLO, and between bounds (issue 14, point 1): the error level (threshold) decides the
verdict, the budget and the alerts; a value that meets it but not the warn level is a warning everywhere people look
(`slo check`, the store, Dagster's WARN severity, /metrics, the report), and costs no budget."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dagster_project.defs.check_jobs import CHECK_JOB
from dagster_project.defs.factory import build_definitions
from dagster_project.exporter import names as n
from dagster_project.exporter.server import Exporter, ExporterConfig
from dagster_project.results.store import ResultsStore
from dagster_project.settings import BuildParams, Settings
from dagster_project.slo.decide import level, passes
from dagster_project.slo.domain import Severity, Slo, Threshold
from dagster_project.slo.from_spec import slos_from_spec
from dagster_project.spec.validate import validate
from tests.cli_support import run_slo
from tests.conftest import AS_OF, REPO
from tests.test_start_small import CHECKED_AT, make_flights

SPEC = REPO / "tests" / "specs" / "good" / "flights_levels.yaml"
EXPECTED = {"levels_fresh": "warn", "flights_volume": "ok", "flights_volume_narrow": "warn"}


@pytest.fixture
def checked(tmp_path: Path) -> tuple[Path, Path, dict[str, dict]]:  # type: ignore[type-arg]
    db, results = make_flights(tmp_path / "flights.duckdb"), tmp_path / "results.sqlite"
    run = run_slo(
        "check", "--slos", str(SPEC), "--db", str(db), "--results", str(results), "--as-of", CHECKED_AT, "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr  # warnings never block
    return db, results, {r["slo"]: r for r in json.loads(run.stdout)["results"]}


def test_a_value_past_the_warn_level_but_within_the_threshold_warns_and_passes(checked: tuple) -> None:  # type: ignore[type-arg]
    _, _, results = checked
    assert {slo: r["status"] for slo, r in results.items()} == EXPECTED
    fresh = results["levels_fresh"]
    assert (fresh["passed"], fresh["observed"], fresh["warn_text"]) == (True, 3600.0, "<= 30.0m")
    assert fresh["warn"] == {"bound": "max", "value": 1800.0, "min": None, "max": 1800.0}
    between = results["flights_volume"]
    assert (between["passed"], between["observed"], between["threshold_text"]) == (True, 960.0, "100..5000")
    narrow = results["flights_volume_narrow"]  # below a between's min: a warn SLO's failure
    assert (narrow["passed"], narrow["threshold"]["min"], narrow["threshold"]["max"]) == (False, 1000.0, 5000.0)


def test_the_store_keeps_the_level_the_between_max_and_the_warn_level(checked: tuple) -> None:  # type: ignore[type-arg]
    _, results, _ = checked
    with ResultsStore(results) as store:
        kept = {e.slo_id: e for e in store.evaluations()}
    fresh, between = kept["levels_fresh"], kept["flights_volume"]
    assert (fresh.passed, fresh.status, fresh.level, fresh.extra) == (True, "warn", "warn", {"warn": {
        "bound": "max", "value": 1800.0, "min": None, "max": 1800.0}})  # fmt: skip
    assert (between.bound, between.threshold, between.threshold_max, between.status) == ("min", 100.0, 5000.0, "ok")
    assert kept["flights_volume_narrow"].level == "warn" and kept["flights_volume_narrow"].passed is False


def test_a_row_written_before_levels_reads_its_status_from_its_verdict(tmp_path: Path, checked: tuple) -> None:  # type: ignore[type-arg]
    _, results, _ = checked
    with sqlite3.connect(results) as con:
        con.execute("UPDATE evaluations SET status = NULL, extra = NULL")
    with ResultsStore(results) as store:
        levels = {e.slo_id: e.level for e in store.evaluations()}
    assert levels == {"levels_fresh": "ok", "flights_volume": "ok", "flights_volume_narrow": "warn"}


def test_metrics_show_the_warning_and_both_levels_and_the_budget_follows_the_threshold(checked: tuple) -> None:  # type: ignore[type-arg]
    db, results, _ = checked
    (loaded,), _ = validate([SPEC])
    config = ExporterConfig([loaded.spec], results, db, as_of=datetime(2026, 11, 27, 7, tzinfo=UTC))
    body = Exporter(config).refresh().decode()
    fresh = 'product="flights_levels",slo="levels_fresh"'
    assert f"{n.CHECK_WARNING.name}{{{fresh}}} 1.0" in body
    assert f"{n.CHECK_PASSED.name}{{{fresh}}} 1.0" in body
    assert f'{n.WARN_THRESHOLD.name}{{bound="max",{fresh}}} 1800.0' in body  # labels in name order
    assert f'{n.OBJECTIVE_MET.name}{{{fresh},window="28d"}} 1.0' in body  # a warning spends no budget
    assert f'{n.BUDGET_REMAINING.name}{{{fresh},window="28d"}} 1.0' in body
    volume = 'product="flights_levels",slo="flights_volume"'
    assert f"{n.CHECK_WARNING.name}{{{volume}}} 0.0" in body
    assert f'{n.THRESHOLD.name}{{bound="min",{volume}}} 100.0' in body
    assert f'{n.THRESHOLD.name}{{bound="max",{volume}}} 5000.0' in body
    assert f"{n.WARN_THRESHOLD.name}{{{volume}" not in body  # no warn level: no series


def test_the_report_shows_the_warning(checked: tuple, tmp_path: Path) -> None:  # type: ignore[type-arg]
    db, results, _ = checked
    out = tmp_path / "report"
    run = run_slo(
        "report", "--slos", str(SPEC), "--db", str(db), "--results", str(results), "-o", str(out),
        "--as-of", "2026-11-27T07:00:00Z", cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    html = (out / "flights_levels.html").read_text()
    breach = html[html.index("<li id='breach-levels_fresh'>") :]
    breach = breach[: breach.index("</li>")]
    assert "<span class='status-warn'>warn</span>, 60.0m against &lt;= 26.0h (warn level &lt;= 30.0m)" in breach
    row = html[html.index("<td>levels_fresh</td>") :]
    assert "<td class='status-warn'>warn</td>" in row[: row.index("</tr>")]


def test_dagster_reports_a_warning_as_a_failed_check_of_warn_severity(checked: tuple, tmp_path: Path) -> None:  # type: ignore[type-arg]
    db, _, _ = checked
    settings = Settings(
        state_dir=tmp_path / "state", db_path=db, spec_paths=(SPEC,), results_db=tmp_path / "dagster.sqlite",
        build=BuildParams(as_of=AS_OF),
    )  # fmt: skip
    defs = build_definitions(settings)
    with dg.DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def(CHECK_JOB).execute_in_process(instance=instance, raise_on_error=False)
    assert result.success  # a warning blocks nothing
    by_name = {e.check_name: e for e in result.get_asset_check_evaluations()}
    fresh, volume = by_name["levels_fresh"], by_name["flights_volume"]
    assert (fresh.passed, fresh.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert fresh.metadata["status"].value == "warn"
    assert volume.passed is True


def _slo(threshold: Threshold, warn: Threshold | None, severity: Severity = "error") -> Slo:
    (slo,) = slos_from_spec(validate([REPO / "tests" / "specs" / "good" / "flights_minimal.yaml"])[0][0].spec)
    from dataclasses import replace

    return replace(slo, threshold=threshold, warn=warn, severity=severity)


bounds = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(lo=bounds, width=st.floats(min_value=0, max_value=1e6), value=bounds)
def test_a_between_threshold_holds_exactly_the_values_from_its_min_to_its_max(
    lo: float, width: float, value: float
) -> None:
    between = Threshold(min=lo, max=lo + width)
    assert passes(value, between) is (lo <= value <= lo + width)
    assert passes(value, between) is (passes(value, Threshold(min=lo)) and passes(value, Threshold(max=lo + width)))


@given(error=bounds, margin=st.floats(min_value=0, max_value=1e6), value=bounds)
def test_the_level_is_fail_below_the_threshold_warn_between_the_levels_and_ok_above(
    error: float, margin: float, value: float
) -> None:
    slo = _slo(Threshold(min=error), Threshold(min=error + margin))
    expected = "fail" if value < error else "warn" if value < error + margin else "ok"
    assert level(value, slo) == expected
    assert level(None, slo) == "error"
    # the verdict (and so the budget) is the threshold's alone
    assert passes(value, slo.threshold) is (expected != "fail")


def test_a_failed_warn_slo_is_a_warning_not_a_failure() -> None:
    slo = _slo(Threshold(max=10.0), None, severity="warn")
    assert (level(11.0, slo), level(10.0, slo)) == ("warn", "ok")
