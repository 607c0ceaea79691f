"""The Great Expectations engine: its translation of SLOs into expectations (with numbers), its guard against GX's
silent all-failed results, real GX objects and Data Docs in a file context, and - the differential test - the same
pass/fail and the same observed values as the native engine on clean data and on every generator fault."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dagster_project.datagen.faults import Fault
from dagster_project.defs.runner import run_build
from dagster_project.engines import gx, gx_suite
from dagster_project.engines.native import evaluate, open_for_checks
from dagster_project.indicators.registry import make
from dagster_project.settings import Settings
from dagster_project.slo.decide import passes
from dagster_project.slo.domain import Slo, Threshold
from dagster_project.slo.evaluation import Evaluation
from dagster_project.slo.from_spec import all_slos
from dagster_project.slo.plan import compile_plan
from dagster_project.spec.validate import validate
from tests.conftest import AS_OF, REPO, make_settings, make_sources

NAIVE_AS_OF = AS_OF.replace(tzinfo=None)


def shipped_slos() -> list[Slo]:
    specs, issues = validate([REPO / "slo_definitions"])
    assert issues == []
    return all_slos([s.spec for s in specs])


def slo(kind: str, params: dict[str, Any], threshold: float = 0.99) -> Slo:
    return Slo(
        id=f"t_{kind}",
        product="p",
        dimension="validity",
        dataset="raw.orders",
        indicator=make(kind, **params),
        threshold=Threshold.of("min", threshold),
        severity="error",
        objective=0.99,
        windows_s=(86400.0,),
        protects=("goal", "g"),
    )


# --- translation and observed values, with numbers -------------------------------------------------------------


def test_multi_column_completeness_counts_each_row_once_through_row_conditions() -> None:
    t = gx_suite.translate(slo("non_null_ratio", {"columns": ["a", "b", "c"]}))
    assert [(p.expectation, p.kwargs["column"], p.not_null_first) for p in t.parts] == [
        ("ExpectColumnValuesToNotBeNull", "a", ()),
        ("ExpectColumnValuesToNotBeNull", "b", ("a",)),
        ("ExpectColumnValuesToNotBeNull", "c", ("a", "b")),
    ]
    # 200 rows: 6 with a null, 3 more with b null (a present), 1 more with c null (a, b present): 190 complete.
    results = [
        {"element_count": 200, "unexpected_count": 6},
        {"element_count": 194, "unexpected_count": 3},
        {"element_count": 191, "unexpected_count": 1},
    ]
    assert gx_suite.observed(t, results) == pytest.approx(190 / 200)
    assert gx_suite.observed(t, [{"element_count": 0, "unexpected_count": 0}] * 3) == 1.0


def test_value_ratios_count_only_present_values() -> None:
    t = gx_suite.translate(slo("in_range", {"column": "price", "min": 0.01, "max": None}))
    assert t.parts[0].kwargs == {"column": "price", "min_value": 0.01, "max_value": None, "mostly": 0.99}
    result = {"element_count": 100, "missing_count": 20, "unexpected_count": 4}
    assert gx_suite.observed(t, [result]) == pytest.approx(1 - 4 / 80)
    assert gx_suite.observed(t, [{"element_count": 5, "missing_count": 5, "unexpected_count": 0}]) == 1.0


def test_patterns_are_full_matches_as_natively() -> None:
    t = gx_suite.translate(slo("matches_pattern", {"column": "k", "regex": "[0-9a-f]{16}|x"}))
    assert t.parts[0].kwargs["regex"] == "^(?:[0-9a-f]{16}|x)\\Z"


def test_compound_keys_become_one_key_column() -> None:
    t = gx_suite.translate(slo("uniqueness", {"columns": ["product_a", "product_b"]}, threshold=1.0))
    assert t.parts[0].expectation == "ExpectColumnProportionOfUniqueValuesToBeBetween"
    assert t.parts[0].kwargs == {"column": "(product_a, product_b)", "min_value": 1.0}
    assert t.batch == (gx_suite.BatchColumn("(product_a, product_b)", ("product_a", "product_b"), "key"),)
    present = {"element_count": 8, "unexpected_count": 0}
    assert gx_suite.observed(t, [{"observed_value": 0.75}, present]) == 0.75
    # No key present (an empty table, or every key null): 1.0 as natively, whatever GX's proportion says.
    assert gx_suite.observed(t, [{"observed_value": 0.0}, {"element_count": 3, "unexpected_count": 3}]) == 1.0


def test_sets_and_patterns_compare_text_and_numbers_as_natively() -> None:
    numbers = gx_suite.translate(slo("in_set", {"column": "k", "values": [1, 2]}))
    assert numbers.batch == (gx_suite.BatchColumn("k", ("k",), "DOUBLE"),)
    assert numbers.parts[0].kwargs["value_set"] == [1.0, 2.0]
    words = gx_suite.translate(slo("in_set", {"column": "k", "values": ["1", "x"]}))
    assert words.batch == (gx_suite.BatchColumn("k", ("k",), "VARCHAR"),)
    pattern = gx_suite.translate(slo("matches_pattern", {"column": "ts", "regex": "2026-.*"}))
    assert pattern.batch == (gx_suite.BatchColumn("ts", ("ts",), "VARCHAR"),)


@pytest.mark.parametrize(
    "result",
    [
        {},  # what GX's SQL path on DuckDB returns: success False and nothing else
        {"element_count": None, "unexpected_count": None, "missing_count": None},
        {"observed_value": None},
    ],
)
def test_a_result_without_numbers_is_an_error_never_a_failed_check(result: Mapping[str, Any]) -> None:
    for t in (
        gx_suite.translate(slo("in_set", {"column": "c", "values": ["web"]})),
        gx_suite.translate(slo("uniqueness", {"columns": ["order_id"]})),
    ):
        with pytest.raises(gx_suite.MissingResult):
            gx_suite.observed(t, [result, result])


def test_native_only_indicators_say_why() -> None:
    kinds: dict[str, dict[str, Any]] = {
        "max_age": {"column": "ts"},
        "row_volume": {"timestamp_column": "ts"},
        "not_in_future": {"column": "ts"},
        "schema": {"columns": {"a": "BIGINT"}},
        "no_pii": {},
        "query_latency": {"query_id": "q", "sql": "SELECT 1"},
        "referential_integrity": {"column": "a", "reference_dataset": "s.r", "reference_column": "a"},
    }
    for kind, params in kinds.items():
        assert not gx_suite.expressible(slo(kind, params))
        with pytest.raises(ValueError, match="native-only"):
            gx_suite.translate(slo(kind, params))


# --- the real engine -----------------------------------------------------------------------------------------------


def gx_and_native(db: Path, landing: Path, root: Path) -> tuple[list[Evaluation], list[Evaluation], gx.GxRun]:
    plan = compile_plan(shipped_slos())
    with open_for_checks(db, landing=landing) as con:
        gx_evaluations, run = gx.evaluate(con, plan, NAIVE_AS_OF, root)
        native = evaluate(con, plan, NAIVE_AS_OF)
    return gx_evaluations, native, run


def test_clean_data_gx_evaluates_every_expressible_slo_with_real_gx_objects(
    tmp_path: Path, built_product: Settings
) -> None:
    evaluations, _, run = gx_and_native(built_product.database, built_product.landing_database, tmp_path)
    by_engine = {e.slo.id: e.engine for e in evaluations}
    expressible = {s.id for s in shipped_slos() if gx_suite.expressible(s)}
    assert len(expressible) >= 8
    assert {i for i, engine in by_engine.items() if engine == "gx"} == expressible
    # The guard: every GX evaluation has a value and passes. GX's silent failure (all failed, no values) cannot.
    gx_only = [e for e in evaluations if e.engine == "gx"]
    assert [(e.slo.id, e.error) for e in gx_only if e.error or e.observed is None] == []
    assert all(passes(e.observed, e.slo.threshold) for e in gx_only)
    # Real GX objects in the file context: suites per dataset, their validation definitions, the checkpoint, docs.
    context = tmp_path / "gx"
    assert run.checkpoints == ("slo__product_affinity",)
    assert (context / "checkpoints" / "slo__product_affinity.json").is_file()
    suites = {p.stem for p in (context / "expectations").glob("*.json")}
    assert suites == {gx.gx_name("product_affinity", s.dataset) for s in shipped_slos() if s.id in expressible}
    assert run.data_docs is not None and run.data_docs.is_file()
    assert "slo__product_affinity__raw_orders" in run.data_docs.read_text()
    checkpoint = json.loads((context / "checkpoints" / "slo__product_affinity.json").read_text())
    assert len(checkpoint["validation_definitions"]) == len(suites)


def test_a_missing_column_is_an_error_for_its_slos_only(tmp_path: Path, built_product: Settings) -> None:
    broken = slo("in_set", {"column": "no_such_column", "values": ["web"]})
    fine = slo("in_set", {"column": "channel", "values": ["web", "app", "store"]})
    fine = Slo(**{**fine.__dict__, "id": "fine", "dataset": "raw.orders"})
    quantities = make("in_range", column="quantity", min=1, max=100)
    other = Slo(**{**broken.__dict__, "id": "other_table", "dataset": "raw.order_items", "indicator": quantities})
    with open_for_checks(built_product.database, landing=built_product.landing_database) as con:
        run = gx.run_checkpoints(con, [broken, fine, other], tmp_path, build_docs=False)
    by_id = {e.slo.id: e for e in run.evaluations}
    assert by_id["t_in_set"].observed is None and "no_such_column" in str(by_id["t_in_set"].error)
    assert by_id["other_table"].observed == 1.0 and by_id["other_table"].error is None
    assert by_id["fine"].observed == 1.0 and by_id["fine"].error is None  # same table, columns that exist


# --- differential: native and GX agree ---------------------------------------------------------------------------

FAULTS = sorted(Fault)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Settings]:
    """Clean data and each fault, built once for this module (a blocked build leaves its .build file behind)."""
    out = {}
    for name, faults in [("clean", frozenset()), *((f.value, frozenset({f})) for f in FAULTS)]:
        tmp = tmp_path_factory.mktemp(f"diff_{name}")
        settings = make_settings(tmp, make_sources(tmp / "src", orders=3_000, faults=faults))
        run_build(settings)
        out[name] = settings
    return out


@pytest.mark.parametrize("case", ["clean", *(f.value for f in FAULTS)])
def test_native_and_gx_agree_on_every_expressible_slo(case: str, builds: dict[str, Settings], tmp_path: Path) -> None:
    settings = builds[case]
    published = settings.database.exists()  # else a blocking SLO stopped the build: judge what it built
    db = settings.database if published else settings.build_database
    landing = settings.landing_database if published else settings.build_landing_database
    gx_evaluations, native, _ = gx_and_native(db, landing, tmp_path)
    native_by_id = {e.slo.id: e for e in native}
    compared = 0
    for g in gx_evaluations:
        if g.engine != "gx":
            continue
        n = native_by_id[g.slo.id]
        assert (g.error is None) == (n.error is None), (g.slo.id, g.error, n.error)
        assert passes(g.observed, g.slo.threshold) == passes(n.observed, n.slo.threshold), (g, n)
        if n.observed is not None:
            assert g.observed == pytest.approx(n.observed, abs=1e-9), g.slo.id
            compared += 1
    # Every GX SLO on a table that exists (a blocked build leaves later tables unbuilt: both engines say so).
    assert compared == sum(1 for g in gx_evaluations if g.engine == "gx" and g.error is None)
    assert compared >= (8 if case == "clean" else 5)
    # Where the two agree on a number below 1, the fault really moved it: the comparison is not of 1.0 with 1.0 only.
    moved = {g.slo.id for g in gx_evaluations if g.engine == "gx" and g.observed not in (None, 1.0)}
    assert moved == MOVED_BY.get(case, set())


# The GX-expressible SLOs each fault moves (the others hit freshness, volume, governance or cross-table checks).
MOVED_BY = {
    Fault.DUPLICATES.value: {"orders_unique"},
    Fault.NULLS.value: {"order_items_keys_present", "orders_customer_present"},
    Fault.OUT_OF_RANGE.value: {"order_item_prices_valid", "order_item_quantities_valid"},
    Fault.MISSING_VALUES.value: {"order_items_values_present"},  # the range checks leave the nulls to it
}


def test_slo_check_with_the_gx_engine(tmp_path: Path, built_product: Settings) -> None:
    args = ["--db", str(built_product.database), "--json", "--engine", "gx", "--as-of", AS_OF.isoformat()]
    result = subprocess.run(
        [sys.executable, "-m", "dagster_project.cli.main", "check", *args, "--results", str(tmp_path / "r.sqlite")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    engines = {r["slo"]: r["engine"] for r in payload["results"]}
    assert engines["orders_unique"] == "gx" and engines["orders_fresh"] == "native"
    assert all(r["passed"] is True for r in payload["results"])
    assert "GX Data Docs: " in result.stderr and (tmp_path / "gx" / "uncommitted" / "data_docs").is_dir()


def test_each_run_regenerates_the_gx_objects_so_a_stale_context_cannot_break_it(
    tmp_path: Path, built_product: Settings
) -> None:
    first = slo("in_set", {"column": "channel", "values": ["web", "app", "store"]})
    quantities = make("in_range", column="quantity", min=1, max=100)
    second = Slo(**{**first.__dict__, "id": "quantities", "dataset": "raw.order_items", "indicator": quantities})
    with open_for_checks(built_product.database, landing=built_product.landing_database) as con:
        gx.run_checkpoints(con, [first], tmp_path, build_docs=False)
        # Left by an older spec or engine version: a validation definition naming a batch that no longer exists.
        stale = tmp_path / "gx" / "validation_definitions" / "slo__p__raw.orders.json"
        stale.write_text((tmp_path / "gx" / "validation_definitions" / "slo__p__raw_orders.json").read_text())
        # A suite of the user's own project in the same folder: never touched.
        (tmp_path / "gx" / "expectations" / "my_own_suite.json").write_text("{}")
        run = gx.run_checkpoints(con, [second], tmp_path, build_docs=False)
    assert [(e.slo.id, e.observed, e.error) for e in run.evaluations] == [("quantities", 1.0, None)]
    assert {p.name for p in (tmp_path / "gx" / "expectations").glob("*.json")} == {
        "slo__p__raw_order_items.json",
        "my_own_suite.json",
    }


def _edge_slo(id_: str, dataset: str, kind: str, threshold: float = 0.5, **params: Any) -> Slo:
    return Slo(**{**slo(kind, params, threshold).__dict__, "id": id_, "dataset": dataset})


EDGE_SLOS = [
    _edge_slo("empty_unique", "s.empty", "uniqueness", 1.0, columns=["k"]),
    _edge_slo("empty_compound_unique", "s.empty", "uniqueness", 1.0, columns=["k", "txt"]),
    _edge_slo("null_keys_unique", "s.t", "uniqueness", 1.0, columns=["nothing"]),
    _edge_slo("int_pattern", "s.t", "matches_pattern", regex="[0-9]+", column="k"),
    _edge_slo("int_in_string_set", "s.t", "in_set", column="k", values=["1", "2"]),
    _edge_slo("text_in_number_set", "s.t", "in_set", column="num_txt", values=[1, 2]),
    _edge_slo("timestamp_pattern", "s.t", "matches_pattern", regex="2026-.*", column="ts"),
    _edge_slo("nan_present", "s.t", "non_null_ratio", columns=["d"]),
    _edge_slo("nan_in_range", "s.t", "in_range", column="d", min=0, max=10),
    _edge_slo("nan_unbounded_above", "s.t", "in_range", column="d", min=0, max=None),
    # Not 0..10 again: a GX suite keeps only one of two expectations that differ only in their meta.
    _edge_slo("nulls_fail_in_range", "s.t", "in_range", column="d", min=0, max=100, nulls="fail"),
    _edge_slo("nulls_fail_in_set", "s.t", "in_set", column="num_txt", values=["1", "x"], nulls="fail"),
    _edge_slo("nulls_fail_pattern", "s.t", "matches_pattern", regex="[0-9]", column="num_txt", nulls="fail"),
]


def test_engines_agree_on_types_nulls_nan_and_empty_tables(tmp_path: Path) -> None:
    """The cases where a pandas batch would see something else than DuckDB: nullable integers, numbers against
    text, timestamps as text, NaN, and tables with no key at all."""
    path = tmp_path / "edge.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA s")
    con.execute(
        "CREATE TABLE s.t AS SELECT * FROM (VALUES"
        " (1, '1', TIMESTAMP '2026-11-27 06:00:00', 1.5::DOUBLE, NULL::INTEGER),"
        " (2, '2', TIMESTAMP '2026-11-27 07:00:00', 'NaN'::DOUBLE, NULL),"
        " (3, 'x', TIMESTAMP '2025-01-01 00:00:00', NULL, NULL),"
        " (NULL, NULL, NULL, 20.0, NULL)) AS v(k, num_txt, ts, d, nothing)"
    )
    con.execute("CREATE TABLE s.empty (k BIGINT, txt VARCHAR)")
    con.close()
    with open_for_checks(path) as con:
        run = gx.run_checkpoints(con, EDGE_SLOS, tmp_path, build_docs=False)
        native = {e.slo.id: e for e in evaluate(con, compile_plan(EDGE_SLOS), NAIVE_AS_OF)}
    got = {e.slo.id: e for e in run.evaluations}
    assert {i: e.error for i, e in got.items()} == {i: None for i in native}
    assert {i: e.error for i, e in native.items()} == {i: None for i in native}
    assert {i: e.observed for i, e in got.items()} == pytest.approx({i: e.observed for i, e in native.items()})
    assert native["text_in_number_set"].observed == pytest.approx(2 / 3)  # 'x' is not in {1, 2}
    assert native["nan_in_range"].observed == pytest.approx(1 / 3)  # NaN is out of 0..10 for DuckDB
    assert native["nulls_fail_in_range"].observed == pytest.approx(2 / 4)  # NaN and the null are violations
    assert native["nulls_fail_in_set"].observed == pytest.approx(2 / 4)
    assert native["nulls_fail_pattern"].observed == pytest.approx(2 / 4)
