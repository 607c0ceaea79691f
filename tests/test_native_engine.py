"""The native engine on real builds: clean data passes every shipped SLO, each fault fails the SLOs of its dimension,
a check that cannot run is an error result (and the others still run), and free SQL cannot write."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.datagen.faults import Fault
from dagster_project.defs.runner import run_build
from dagster_project.engines.native import evaluate, open_for_checks, percentile
from dagster_project.product.tables import PRODUCT_TABLES
from dagster_project.results.store import ResultsStore
from dagster_project.settings import Settings
from dagster_project.slo.decide import passes
from dagster_project.slo.domain import Threshold
from dagster_project.slo.evaluation import Evaluation
from dagster_project.slo.from_spec import all_slos
from dagster_project.slo.plan import SCAN_KINDS, compile_plan
from dagster_project.spec.validate import validate
from tests.conftest import AS_OF, PUBLISH_KEY_PATH, REPO, make_settings, make_sources

PUBLISH_KEY = dg.AssetKey(PUBLISH_KEY_PATH)

NAIVE_AS_OF = AS_OF.replace(tzinfo=None)


def shipped_evaluations(db: Path, spec_dir: Path = REPO / "slo_definitions") -> list[Evaluation]:
    specs, issues = validate([spec_dir])
    assert issues == []
    with open_for_checks(db) as con:
        return evaluate(con, compile_plan(all_slos([s.spec for s in specs])), NAIVE_AS_OF)


def failing(evaluations: list[Evaluation]) -> dict[str, str]:
    return {e.slo.id: e.slo.dimension for e in evaluations if passes(e.observed, e.slo.threshold) is not True}


def test_clean_data_passes_every_shipped_slo(built_product: Settings) -> None:
    evaluations = shipped_evaluations(built_product.database)
    assert [e for e in evaluations if e.error] == []
    assert failing(evaluations) == {}


# Which SLOs each fault must fail in the build.
# A failing error-severity SLO blocks everything downstream, so SLOs on later tables do not run at all.
FAULT_FAILURES: dict[Fault, set[str]] = {
    Fault.STALE: {"orders_fresh"},
    Fault.NULLS: {"orders_customer_present", "order_items_keys_present"},
    Fault.DUPLICATES: {"orders_unique"},
    Fault.OUT_OF_RANGE: {"order_item_prices_valid"},
    Fault.ORPHANS: {"order_items_products_known"},
    Fault.PII_LEAK: {"staging_products_free_of_pii"},  # caught in staging, before a product table is built
    Fault.VOLUME_DROP: {"orders_daily_volume"},
    Fault.SCHEMA_DRIFT: {"order_items_schema", "order_item_prices_valid"},  # the second cannot run: an error
    Fault.FUTURE_TS: {"orders_not_in_future"},
    Fault.MISSING_VALUES: {"order_items_values_present"},
}
FAULT_DIMENSION = {
    Fault.STALE: "freshness",
    Fault.NULLS: "completeness",
    Fault.DUPLICATES: "uniqueness",
    Fault.OUT_OF_RANGE: "validity",
    Fault.ORPHANS: "accuracy",
    Fault.PII_LEAK: "governance",
    Fault.VOLUME_DROP: "completeness",
    Fault.SCHEMA_DRIFT: "schema",
    Fault.FUTURE_TS: "validity",
    Fault.MISSING_VALUES: "completeness",
}


@pytest.mark.parametrize("fault", sorted(FAULT_FAILURES))
def test_each_fault_fails_the_slos_of_its_dimension_and_a_blocking_failure_stops_the_build(
    tmp_path: Path, fault: Fault
) -> None:
    settings = make_settings(tmp_path, make_sources(tmp_path / "src", orders=4_000, faults=frozenset({fault})))
    build = run_build(settings)
    failed = {r["slo"]: r for r in build.results if r["passed"] is not True}
    assert FAULT_FAILURES[fault] <= set(failed), sorted(failed)
    assert FAULT_DIMENSION[fault] in {r["dimension"] for r in failed.values()}
    blocking = [r for r in failed.values() if r["severity"] == "error"]
    assert build.published == (not blocking)
    with ResultsStore(settings.results_path) as store:  # a stopped run's evaluations are kept too
        kept = store.evaluations(run_id=build.run_id)
        assert sorted((e.slo_id, e.passed) for e in kept) == sorted((r["slo"], r["passed"]) for r in build.results)
    assert settings.database.exists() == (not blocking)
    if blocking:
        # Downstream of a failed blocking check nothing is materialized: never the publish step, and no product
        # table at all when the failure is on a source.
        downstream = [PUBLISH_KEY]
        if any(r["dataset"].startswith("raw.") for r in blocking):
            downstream += [dg.AssetKey(t.name.split(".")) for t in PRODUCT_TABLES]
        with dg.DagsterInstance.from_config(str(settings.dagster_home.resolve())) as instance:
            for key in downstream:
                assert instance.get_latest_materialization_event(key) is None, key
            run = instance.get_run_by_id(build.run_id)
            assert run is not None and run.status == dg.DagsterRunStatus.FAILURE


def test_a_future_dated_order_fails_its_own_slo_and_does_not_hide_stale_data(tmp_path: Path) -> None:
    """Three-day-old data with one order dated a month ahead: freshness ignores the future order (and fails), the
    validity SLO fails on it, and both block the publish."""
    faults = frozenset({Fault.STALE, Fault.FUTURE_TS})
    settings = make_settings(tmp_path, make_sources(tmp_path / "src", orders=2_000, faults=faults))
    build = run_build(settings)
    failed = {r["slo"]: r for r in build.results if r["passed"] is not True}
    assert {"orders_fresh", "orders_not_in_future"} <= set(failed)
    assert failed["orders_fresh"]["observed"] >= 3 * 86400  # the age of the newest order at or before --as-of
    assert failed["orders_not_in_future"]["observed"] == pytest.approx(1 - 1 / 2_000)
    assert not build.published and not settings.database.exists()


def test_check_results_carry_the_slo_record(built_product: Settings) -> None:
    with dg.DagsterInstance.from_config(str(built_product.dagster_home.resolve())) as instance:
        key = dg.AssetCheckKey(dg.AssetKey(["raw", "orders"]), "orders_fresh")
        record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
        assert record is not None and record.event is not None
        evaluation = record.event.dagster_event.event_specific_data  # type: ignore[union-attr]
        result = evaluation.metadata["slo_result"].value  # type: ignore[union-attr]
        assert isinstance(result, dict)
        assert result["slo"] == "orders_fresh" and result["dimension"] == "freshness" and result["passed"] is True
        assert result["threshold"] == {"bound": "max", "value": 26 * 3600.0, "min": None, "max": 26 * 3600.0}
        assert isinstance(result["observed"], float) and result["observed"] >= 0


def _spec_with(tmp_path: Path, slo_yaml: str) -> Path:
    text = (REPO / "tests" / "specs" / "good" / "minimal.yaml").read_text()
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "s.yaml").write_text(text + slo_yaml)
    return tmp_path / "spec"


def test_a_check_that_cannot_run_is_an_error_and_the_others_still_run(tmp_path: Path, built_product: Settings) -> None:
    spec = _spec_with(
        tmp_path,
        """  - id: broken
    description: Names a column that does not exist.
    dimension: completeness
    dataset: raw.orders
    indicator: {type: non_null_ratio, columns: [no_such_column]}
    threshold: {min: 0.99}
    severity: error
    objective: 0.99
    windows: [7d]
    protects: {use_case: targeting}
""",
    )
    by_id = {e.slo.id: e for e in shipped_evaluations(built_product.database, spec)}
    assert by_id["broken"].observed is None and "no_such_column" in str(by_id["broken"].error)
    assert by_id["orders_fresh"].error is None and by_id["orders_fresh"].observed is not None


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE main.x AS SELECT 1",
        "COPY (SELECT 1) TO '/tmp/slo_exfiltrate.csv'",
        "SELECT count(*) FROM read_csv('/etc/passwd')",
    ],
)
def test_custom_sql_cannot_write_or_read_files(tmp_path: Path, built_product: Settings, sql: str) -> None:
    spec = _spec_with(
        tmp_path,
        f"""  - id: sneaky
    description: Tries to write.
    dimension: accuracy
    dataset: raw.orders
    indicator: {{type: custom_sql, sql: "{sql}"}}
    threshold: {{min: 0.5}}
    severity: error
    objective: 0.99
    windows: [7d]
    protects: {{use_case: targeting}}
""",
    )
    _, issues = validate([spec])
    # Refused when the spec is validated, on the parse tree: not a SELECT, or a SELECT that reads a file.
    assert [i.path for i in issues] == ["slos.1.indicator.sql"]
    assert "must be a SELECT" in issues[0].message or "table function" in issues[0].message
    assert not Path("/tmp/slo_exfiltrate.csv").exists()


def test_the_check_connection_still_refuses_a_file_read_the_parse_check_would_catch(built_product: Settings) -> None:
    """The second line of defence, on its own: the read-only connection with external access off."""
    with open_for_checks(built_product.database) as con, pytest.raises(duckdb.Error, match="disabled"):
        con.execute("SELECT count(*) FROM read_csv('/etc/passwd')").fetchall()


def test_scan_indicators_of_a_dataset_share_one_plan_entry() -> None:
    specs, _ = validate([REPO / "slo_definitions"])
    plan = compile_plan(all_slos([s.spec for s in specs]))
    for dataset, slos in plan.scans:
        assert {s.dataset for s in slos} == {dataset} and all(s.kind in SCAN_KINDS for s in slos)
    assert len(plan.slos) == len(plan.singles) + sum(len(s) for _, s in plan.scans)


@pytest.mark.parametrize(
    ("observed", "bound", "value", "expected"),
    [
        (0.99, "min", 0.99, True),
        (0.989, "min", 0.99, False),
        (3600.0, "max", 86400.0, True),
        (90000.0, "max", 86400.0, False),
        (0.0, "max", 0.0, True),
        (None, "min", 0.5, None),
    ],
)
def test_passes_compares_with_the_bound(
    observed: float | None, bound: str, value: float, expected: bool | None
) -> None:
    assert passes(observed, Threshold.of(bound, value)) is expected  # type: ignore[arg-type]


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 95) == 19.0
    assert percentile(values, 100) == 20.0
    assert percentile([5.0], 50) == 5.0


def _slo_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dagster_project.cli.main", "check", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_slo_check_json_and_exit_codes(tmp_path: Path, built_product: Settings) -> None:
    as_of = AS_OF.isoformat()
    store = tmp_path / "results.sqlite"
    ok = _slo_check("--db", str(built_product.database), "--json", "--as-of", as_of, "--results", str(store))
    assert ok.returncode == 0, ok.stderr
    payload = json.loads(ok.stdout)
    assert set(payload) == {"run_id", "as_of", "results"} and len(payload["results"]) == 31
    assert {"slo", "dimension", "dataset", "passed", "observed", "threshold", "severity"} <= set(payload["results"][0])
    assert all(r["passed"] is True for r in payload["results"])
    with ResultsStore(store) as kept:
        assert [(e.run_id, e.slo_id, e.passed) for e in kept.evaluations()] == [
            (payload["run_id"], r["slo"], True) for r in payload["results"]
        ]
        assert {e.evaluated_at for e in kept.evaluations()} == {AS_OF}

    stale = _slo_check(
        "--db", str(built_product.database), "--as-of", "2026-12-31T00:00:00Z", "--results", str(store), "--no-record"
    )
    assert stale.returncode == 1
    assert "orders_fresh" in stale.stdout and "FAIL" in stale.stdout
    with ResultsStore(store) as kept:
        assert kept.count() == 31

    bad_spec = _slo_check(
        "--db", str(built_product.database), "--slos", str(REPO / "tests/specs/bad/unknown_goal.yaml")
    )
    assert bad_spec.returncode == 2 and "unknown goal 'world_peace'" in bad_spec.stderr

    no_db = _slo_check("--db", str(tmp_path / "missing.duckdb"))
    assert no_db.returncode == 2 and "Traceback" not in no_db.stderr


def test_a_runaway_custom_sql_check_in_a_build_times_out_and_blocks_the_publish(tmp_path: Path) -> None:
    runaway = """  - id: runaway_check
    description: Never finishes.
    dimension: accuracy
    dataset: raw.orders
    indicator:
      type: custom_sql
      sql: >-
        WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 10000000000)
        SELECT count(*)::DOUBLE FROM r
    threshold: {min: 0.5}
    severity: error
    objective: 0.99
    windows: [7d]
    protects: {use_case: campaign_targeting}
    timeout: 1s
"""
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "s.yaml").write_text(
        (REPO / "slo_definitions" / "product_affinity.yaml").read_text() + runaway
    )
    settings = replace(
        make_settings(tmp_path, make_sources(tmp_path / "src", orders=1_000)), spec_paths=(tmp_path / "spec",)
    )
    build = run_build(settings)
    assert not build.published and not settings.database.exists()
    by_slo = {r["slo"]: r for r in build.results}
    assert by_slo["runaway_check"]["passed"] is None and by_slo["runaway_check"]["error"] == "timed out after 1s"
    assert by_slo["orders_fresh"]["passed"] is True  # the others on raw.orders still evaluated
