"""What the spec makes Dagster do besides the build: schedules from the usage patterns, freshness policies from the
freshness SLOs, and the check jobs (native and the GX checkpoint) that evaluate the published database, keep every
evaluation and go red when an error-severity SLO fails."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.defs.check_jobs import CHECK_JOB, GX_JOB
from dagster_project.defs.factory import build_definitions, load_specs
from dagster_project.indicators.registry import make
from dagster_project.results.store import ResultsStore
from dagster_project.settings import Settings
from dagster_project.slo.cadence import build_cadences, check_cadences, freshness_windows
from dagster_project.slo.domain import Slo, Threshold
from tests.conftest import BUILD_JOB


def age_slo(id_: str, dataset: str, hours: float, severity: str = "error") -> Slo:
    return Slo(
        id=id_,
        product="p",
        dimension="freshness",
        dataset=dataset,
        indicator=make("max_age", column="ts"),
        threshold=Threshold.of("max", hours * 3600),
        severity=severity,  # type: ignore[arg-type]
        objective=0.99,
        windows_s=(86400.0,),
        protects=("goal", "g"),
    )


def test_freshness_windows_take_the_tightest_bound_upstream() -> None:
    deps = {"raw.a": (), "raw.b": (), "stg.c": ("raw.a",), "prod.d": ("stg.c", "raw.b"), "prod.e": ("raw.b",)}
    slos = [
        age_slo("a_fresh", "raw.a", 24),
        age_slo("d_fresh", "prod.d", 36),
        age_slo("d_early_warning", "prod.d", 12, severity="warn"),
    ]
    windows = freshness_windows(slos, deps)
    assert set(windows) == {"raw.a", "stg.c", "prod.d"}  # raw.b and prod.e have no freshness SLO upstream
    assert (windows["stg.c"].fail_s, windows["stg.c"].warn_s) == (24 * 3600, None)
    assert (windows["prod.d"].fail_s, windows["prod.d"].warn_s) == (24 * 3600, 12 * 3600)
    assert windows["prod.d"].slos == ("a_fresh", "d_early_warning", "d_fresh")
    only_warn = freshness_windows([age_slo("w", "raw.b", 6, severity="warn")], deps)
    assert (only_warn["prod.e"].fail_s, only_warn["prod.e"].warn_s) == (6 * 3600, None)


def test_cadences_come_from_the_usage_patterns(built_product: Settings) -> None:
    specs = load_specs(built_product)
    assert [(c.cron, c.use_cases) for c in build_cadences(specs)] == [
        ("0 5 * * *", ("product_affinity.affinity_analysis", "product_affinity.campaign_targeting"))
    ]
    assert [(c.cron, c.use_cases) for c in check_cadences(specs)] == [
        ("0 * * * *", ("product_affinity.campaign_targeting",))
    ]


def test_definitions_carry_the_schedules_and_freshness_policies(built_product: Settings) -> None:
    defs = build_definitions(built_product)
    schedules = [s for s in defs.schedules or [] if isinstance(s, dg.ScheduleDefinition)]
    assert {(s.name, s.cron_schedule, s.job_name) for s in schedules} == {
        (f"{BUILD_JOB}__0_5_x_x_x", "0 5 * * *", BUILD_JOB),
        (f"{CHECK_JOB}__0_x_x_x_x", "0 * * * *", CHECK_JOB),
    }
    graph = defs.resolve_asset_graph()
    policy = graph.get(dg.AssetKey(["product_affinity", "customer_metrics"])).freshness_policy
    assert isinstance(policy, dg.FreshnessPolicy)
    assert policy.fail_window.to_timedelta() == timedelta(hours=26)  # type: ignore[attr-defined]
    assert graph.get(dg.AssetKey(["raw", "customers"])).freshness_policy is None  # nothing promises its age


def _run_job(settings: Settings, job: str) -> dg.ExecuteInProcessResult:
    defs = build_definitions(settings)
    with dg.DagsterInstance.ephemeral() as instance:
        return defs.resolve_job_def(job).execute_in_process(instance=instance, raise_on_error=False)


@pytest.mark.parametrize(("job", "engine"), [(CHECK_JOB, "native"), (GX_JOB, "gx")])
def test_check_jobs_record_every_slo_and_pass_on_clean_data(
    tmp_path: Path, built_product: Settings, job: str, engine: str
) -> None:
    settings = replace(built_product, results_db=tmp_path / "r.sqlite")
    result = _run_job(settings, job)
    assert result.success
    with ResultsStore(tmp_path / "r.sqlite") as store:
        kept = store.evaluations(run_id=result.run_id)
    assert len(kept) == 31 and all(e.passed for e in kept)
    assert engine in {e.engine for e in kept}


def test_a_check_job_goes_red_when_an_error_slo_fails_and_still_keeps_the_results(
    tmp_path: Path, built_product: Settings
) -> None:
    late = built_product.with_build(as_of=built_product.build.as_of + timedelta(days=30))  # type: ignore[operator]
    settings = replace(late, results_db=tmp_path / "r.sqlite")
    result = _run_job(settings, CHECK_JOB)
    assert not result.success
    failures = [e.step_failure_data for e in result.get_step_failure_events()]  # one per asset with a failure
    assert all("error-severity SLOs failed" in str(f.error.message if f.error else "") for f in failures)
    failed = "\n".join(str(f.user_failure_data.metadata["failed"].value) for f in failures)  # type: ignore[union-attr]
    assert "orders_fresh" in failed
    with ResultsStore(tmp_path / "r.sqlite") as store:
        kept = {e.slo_id: e.passed for e in store.evaluations(run_id=result.run_id)}
    assert len(kept) == 31 and kept["orders_fresh"] is False


def test_check_slos_is_an_asset_check_job_whose_checks_run_alone_and_land_in_the_check_history(
    tmp_path: Path, built_product: Settings
) -> None:
    defs = build_definitions(replace(built_product, results_db=tmp_path / "r.sqlite"))
    job = defs.resolve_job_def(CHECK_JOB)
    assert job.asset_layer.selected_asset_keys == set()  # it checks, it never builds
    graph = defs.resolve_asset_graph()
    keys = sorted(graph.asset_check_keys, key=str)  # most in their asset's step (defs/assets.py), a few apart
    assert len(keys) == 31
    assert [k for k in keys if graph.get_execution_set_asset_and_check_keys(k) != {k}] == []  # each runs alone
    one = dg.AssetCheckKey(dg.AssetKey(["raw", "orders"]), "orders_fresh")
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance)
        history = {k: instance.event_log_storage.get_asset_check_execution_history(k, limit=1) for k in keys}
        assert {k for k, h in history.items() if not h or h[0].run_id != result.run_id} == set()
        alone = job.get_subset(asset_check_selection={one}, asset_selection=set()).execute_in_process(instance=instance)
        assert alone.success and [e.asset_check_key for e in alone.get_asset_check_evaluations()] == [one]
        observed = alone.get_asset_check_evaluations()[0].metadata["observed"]
        assert isinstance(observed, dg.FloatMetadataValue) and observed.value is not None and observed.value > 0
    with ResultsStore(tmp_path / "r.sqlite") as store:
        assert [e.slo_id for e in store.evaluations(run_id=alone.run_id)] == ["orders_fresh"]
