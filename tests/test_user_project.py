"""A user's own Dagster project (examples/flights_project: two assets of its own, its own DuckDB file, its own spec)
with SLO checks from the public API (dagster_project.dagster) and from the SloChecks Component, loaded and run in
process: the checks sit on the user's asset keys, run alone and in a subset, are kept in the results store and are
in Dagster's check history with float metadata; an error-severity failure is blocking."""

from __future__ import annotations

import importlib
import sys
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import dagster as dg
import pytest

from dagster_project.dagster import load_config
from dagster_project.results.store import ResultsStore

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "flights_project"
AS_OF = "2013-01-02T06:00:00Z"  # the newest departure (2013-01-01 05:58) is a day old: every SLO is met
LATE = "2013-03-01T00:00:00Z"  # two months on: both freshness SLOs (error severity) fail
FLIGHTS, AIRPORTS = dg.AssetKey(["nyc_flights"]), dg.AssetKey(["flights", "airports"])
CHECKS = {
    (FLIGHTS, "flights_fresh"): True,  # blocking: error severity
    (FLIGHTS, "flights_origin_known"): True,
    (FLIGHTS, "flights_delays_present"): False,  # warn
    (AIRPORTS, "airports_unique"): True,
    (AIRPORTS, "airports_fresh"): True,
}


@pytest.fixture
def project(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ModuleType:
    """The example's definitions module, its database and results store under tmp_path (SLO_DB, SLO_RESULTS)."""
    monkeypatch.syspath_prepend(str(EXAMPLE))
    for name in [m for m in sys.modules if m.split(".")[0] == "flights_project"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setenv("SLO_DB", str(tmp_path / "nyc.duckdb"))
    monkeypatch.setenv("SLO_RESULTS", str(tmp_path / "results.sqlite"))
    monkeypatch.delenv("SLO_SPECS", raising=False)
    return importlib.import_module("flights_project.definitions")


def _defs(project: ModuleType, as_of: str = AS_OF) -> dg.Definitions:
    defs: dg.Definitions = project.make_defs(load_config(cwd=EXAMPLE), as_of=as_of)
    return defs


def _materialize(project: ModuleType, instance: dg.DagsterInstance) -> None:
    assets = importlib.import_module("flights_project.assets")
    warehouse = assets.FlightsWarehouse(path=str(load_config(cwd=EXAMPLE).database))
    result = dg.materialize([assets.airports, assets.flights], resources={"warehouse": warehouse}, instance=instance)
    assert result.success


def _stored(tmp_path: Path, run_id: str) -> dict[str, bool | None]:
    with ResultsStore(tmp_path / "results.sqlite") as store:
        return {e.slo_id: e.passed for e in store.evaluations(run_id=run_id)}


def _latest(instance: dg.DagsterInstance, key: dg.AssetCheckKey) -> Any:
    """The check's newest evaluation as Dagster's API gives it (the UI's check history reads the same records)."""
    history = instance.event_log_storage.get_asset_check_execution_history(key, limit=1)
    assert history, f"no evaluation of {key} in Dagster's check history"
    assert history[0].event is not None and history[0].event.dagster_event is not None
    return history[0].run_id, history[0].event.dagster_event.event_specific_data


def test_a_users_assets_get_one_blocking_by_severity_check_per_slo_each_runnable_alone(project: ModuleType) -> None:
    defs = _defs(project)
    specs = {(s.asset_key, s.name): s for c in defs.asset_checks or [] for s in c.check_specs}
    assert {k: s.blocking for k, s in specs.items()} == CHECKS
    graph = defs.resolve_asset_graph()
    for asset, name in CHECKS:
        key = dg.AssetCheckKey(asset, name)
        assert graph.get_execution_set_asset_and_check_keys(key) == {key}  # no REQUIRES_MATERIALIZATION
    assert specs[(FLIGHTS, "flights_fresh")].metadata["owner"] == "team:flight-ops"
    assert specs[(FLIGHTS, "flights_delays_present")].metadata["label/team_channel"] == "flight-ops-alerts"
    flights = graph.get(FLIGHTS)
    assert "team:flight-ops" in flights.owners and flights.tags["tier"] == "gold"
    policy = flights.freshness_policy
    assert isinstance(policy, dg.FreshnessPolicy)
    assert policy.fail_window.to_timedelta() == timedelta(hours=26)  # type: ignore[attr-defined]
    assert graph.get(AIRPORTS).freshness_policy.fail_window.to_timedelta() == timedelta(days=30)  # type: ignore[union-attr]


def test_the_scheduled_check_job_is_an_asset_check_job_whose_runs_are_in_the_check_history_and_the_store(
    project: ModuleType, tmp_path: Path
) -> None:
    defs = _defs(project)
    (schedule,) = [s for s in defs.schedules or [] if isinstance(s, dg.ScheduleDefinition)]
    assert (schedule.job_name, schedule.cron_schedule) == ("check_slos", "0 * * * *")  # the use case's check cadence
    job = defs.resolve_job_def("check_slos")
    assert job.asset_layer.selected_asset_keys == set()  # checks only: nothing is materialized
    with dg.DagsterInstance.ephemeral() as instance:
        _materialize(project, instance)
        result = job.execute_in_process(instance=instance)
        assert result.success
        assert _stored(tmp_path, result.run_id) == dict.fromkeys([name for _, name in CHECKS], True)
        run_id, evaluation = _latest(instance, dg.AssetCheckKey(FLIGHTS, "flights_fresh"))
        assert run_id == result.run_id and evaluation.passed
        observed, threshold = evaluation.metadata["observed"], evaluation.metadata["threshold"]
        assert isinstance(observed, dg.FloatMetadataValue) and isinstance(threshold, dg.FloatMetadataValue)
        assert observed.value == pytest.approx(24 * 3600 + 2 * 60)  # 2013-01-01 05:58 to 2013-01-02 06:00
        assert threshold.value == 26 * 3600
        assert evaluation.metadata["observed_text"].value == "24.0h"


def test_one_check_runs_alone(project: ModuleType, tmp_path: Path) -> None:
    defs = _defs(project)
    key = dg.AssetCheckKey(AIRPORTS, "airports_unique")
    with dg.DagsterInstance.ephemeral() as instance:
        _materialize(project, instance)
        subset = defs.resolve_job_def("check_slos").get_subset(asset_check_selection={key}, asset_selection=set())
        result = subset.execute_in_process(instance=instance)
        assert result.success
        assert _stored(tmp_path, result.run_id) == {"airports_unique": True}
        assert [e.asset_check_key for e in result.get_asset_check_evaluations()] == [key]
        other = dg.AssetCheckKey(AIRPORTS, "airports_fresh")
        assert not instance.event_log_storage.get_asset_check_execution_history(other, limit=1)


def test_a_failing_error_slo_is_blocking_and_turns_the_check_run_red(project: ModuleType, tmp_path: Path) -> None:
    defs = _defs(project, as_of=LATE)
    with dg.DagsterInstance.ephemeral() as instance:
        _materialize(project, instance)
        checked = defs.resolve_job_def("check_slos").execute_in_process(instance=instance, raise_on_error=False)
        assert not checked.success  # a red run, as `slo check` exits 1
        stored = _stored(tmp_path, checked.run_id)
        assert stored["flights_fresh"] is False and stored["airports_fresh"] is False and stored["airports_unique"]
        _, evaluation = _latest(instance, dg.AssetCheckKey(FLIGHTS, "flights_fresh"))
        assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
        # In a run that materializes: airports_fresh fails on flights/airports, so nyc_flights (downstream) waits.
        build = defs.resolve_implicit_global_asset_job_def().execute_in_process(instance=instance, raise_on_error=False)
        materialized = {e.asset_key for e in build.get_asset_materialization_events()}
        assert materialized == {AIRPORTS}


def test_the_component_gives_the_same_checks_from_a_yaml_file(
    project: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLO_AS_OF", AS_OF)
    defs = dg.load_from_defs_folder(path_within_project=EXAMPLE)
    specs = {(s.asset_key, s.name): s.blocking for c in defs.asset_checks or [] for s in c.check_specs}
    assert specs == CHECKS
    with dg.DagsterInstance.ephemeral() as instance:
        _materialize(project, instance)
        result = defs.resolve_job_def("check_slos").execute_in_process(instance=instance)
        assert result.success
        assert _stored(tmp_path, result.run_id) == dict.fromkeys([name for _, name in CHECKS], True)
        run_id, evaluation = _latest(instance, dg.AssetCheckKey(AIRPORTS, "airports_unique"))
        assert run_id == result.run_id and isinstance(evaluation.metadata["observed"], dg.FloatMetadataValue)


def test_asset_keys_may_be_a_function_and_the_check_cadence_given(project: ModuleType, tmp_path: Path) -> None:
    from dagster_project.dagster import SloChecks, slo_definitions

    spec = EXAMPLE / "slo_definitions" / "flights.yaml"
    defs = slo_definitions(
        spec,
        database=tmp_path / "nyc.duckdb",
        asset_keys=lambda dataset: dg.AssetKey(["lake", *dataset.split(".")]),
        check_cron="*/15 * * * *",
        config=load_config(cwd=EXAMPLE),
    )
    assets = {s.asset_key for c in defs.asset_checks or [] for s in c.check_specs}
    assert assets == {dg.AssetKey(["lake", "flights", "flights"]), dg.AssetKey(["lake", "flights", "airports"])}
    assert [(s.name, s.job_name) for s in defs.schedules or []] == [("check_slos__xevery15_x_x_x_x", "check_slos")]  # type: ignore[union-attr]
    component = SloChecks(specs=[str(spec)], database=str(tmp_path / "nyc.duckdb"), check_cron=["0 6 * * *"])
    from_yaml_type = dg.build_defs_for_component(component)
    assert [s.cron_schedule for s in from_yaml_type.schedules or []] == ["0 6 * * *"]  # type: ignore[union-attr]


def test_labels_and_owners_dagster_refuses_stay_in_the_check_metadata_and_the_project_still_loads(
    tmp_path: Path,
) -> None:
    """Spec labels may hold any text (`channel: '#data-oncall'`) and owners any name; Dagster's asset tags and owners
    do not. Those are left off the asset (kept on each check), instead of failing the whole code location."""
    from dagster_project.dagster import attach_slos

    text = (EXAMPLE / "slo_definitions" / "flights.yaml").read_text()
    text = text.replace("owner: flight-ops", "owner: '@flight ops'").replace(
        "labels: {tier: gold}", "labels: {tier: gold, channel: '#data-oncall'}"
    )
    spec = tmp_path / "flights.yaml"
    spec.write_text(text)
    airports = dg.AssetSpec(["flights", "airports"])
    defs = attach_slos(
        dg.Definitions(assets=[airports]), specs=[spec], database=tmp_path / "nyc.duckdb", results=tmp_path / "r.sqlite"
    )
    (attached,) = [a for a in defs.assets or [] if isinstance(a, dg.AssetSpec) and a.key == airports.key]
    assert attached.tags.get("tier") == "gold" and "channel" not in attached.tags
    assert not attached.owners
