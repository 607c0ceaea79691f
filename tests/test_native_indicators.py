"""Indicator values on small hand-made tables, computed independently: the cases a review found wrong."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dagster_project.engines.native import evaluate, open_for_checks
from dagster_project.indicators.registry import make
from dagster_project.slo.domain import Slo, Threshold
from dagster_project.slo.evaluation import Evaluation
from dagster_project.slo.plan import compile_plan

AS_OF = datetime(2026, 11, 27, 6, 0)


def make_slo(kind: str, dataset: str = "s.t", bound: str = "min", value: float = 0.5, **params: Any) -> Slo:
    return Slo(
        id=f"{kind}_{len(params)}",
        product="p",
        dimension="validity",
        dataset=dataset,
        indicator=make(kind, **params),
        threshold=Threshold.of(bound, value),  # type: ignore[arg-type]
        severity="error",
        objective=0.99,
        windows_s=(604800.0,),
        protects=("goal", "g"),
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "t.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA s")
    con.execute(
        "CREATE TABLE s.t AS SELECT * FROM (VALUES (1, 1.0::DOUBLE, 10.00::DECIMAL(10,2), 'a', 5.0),"
        " (1, 2.0, 20.00, 'b', 5.0), (NULL, 3.0, 30.00, NULL, NULL), (NULL, 4.0, 40.00, 'b', NULL))"
        " AS v(k, d, dec, txt, amount)"
    )
    con.execute("CREATE TABLE s.zero AS SELECT 0.0::DOUBLE AS amount")
    con.execute("CREATE TABLE s.ref AS SELECT * FROM (VALUES (1), (2), (NULL)) AS v(key)")
    con.execute("CREATE TABLE s.orphans AS SELECT range + 100 AS key FROM range(50)")
    con.execute("CREATE TABLE s.empty (amount DOUBLE)")
    con.close()
    return path


def observe(db: Path, slo: Slo) -> Evaluation:
    with open_for_checks(db) as con:
        (evaluation,) = evaluate(con, compile_plan([slo]), AS_OF)
    return evaluation


@pytest.mark.parametrize(
    ("column", "values", "expected"),
    [("d", [1, 2, 3], 0.75), ("dec", [10, 20, 30], 0.75), ("k", [1.0], 1.0), ("txt", ["a"], 1 / 3)],
)
def test_in_set_compares_numbers_as_numbers(db: Path, column: str, values: list[Any], expected: float) -> None:
    assert observe(db, make_slo("in_set", column=column, values=values)).observed == pytest.approx(expected)


def test_uniqueness_leaves_out_keys_with_a_null_part(db: Path) -> None:
    # k = [1, 1, NULL, NULL]: two complete keys, one distinct.
    assert observe(db, make_slo("uniqueness", columns=["k"])).observed == pytest.approx(0.5)
    assert observe(db, make_slo("uniqueness", columns=["k", "txt"])).observed == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("expected_types", "observed"),
    [
        ({"k": "INT32", "d": "FLOAT8", "dec": "DECIMAL(10, 2)", "txt": "TEXT"}, 1.0),
        ({"k": "BIGINT", "d": "DOUBLE"}, 0.5),
    ],
)
def test_schema_types_compare_in_duckdbs_spelling(db: Path, expected_types: dict[str, str], observed: float) -> None:
    assert observe(db, make_slo("schema", columns=expected_types)).observed == observed


@pytest.mark.parametrize(
    ("dataset", "reference", "expected"),
    [("s.zero", "s.zero", 0.0), ("s.empty", "s.empty", 0.0), ("s.t", "s.zero", 1.0), ("s.t", "s.t", 0.0)],
)
def test_reconciliation_judges_zero_and_empty_sums(db: Path, dataset: str, reference: str, expected: float) -> None:
    slo = make_slo(
        "reconciliation",
        dataset=dataset,
        bound="max",
        value=0.01,
        column="amount",
        reference_dataset=reference,
        reference_column="amount",
    )
    evaluation = observe(db, slo)
    assert evaluation.error is None and evaluation.observed == expected


def test_custom_sql_may_return_a_decimal(db: Path) -> None:
    assert observe(db, make_slo("custom_sql", sql="SELECT 0.75")).observed == 0.75


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TEMP MACRO nullif(a, b) AS 1e18; SELECT 1.0",
        "DETACH raw",
        "ATTACH ':memory:' AS fake",
        "LOAD json",
        "SELECT 1; SELECT 2",
    ],
)
def test_free_sql_that_is_not_one_select_is_refused_and_changes_nothing(db: Path, sql: str) -> None:
    forging = make_slo("custom_sql", sql=sql)
    victim = make_slo(
        "reconciliation",
        dataset="s.t",
        bound="max",
        value=0.01,
        column="amount",
        reference_dataset="s.zero",
        reference_column="amount",
    )
    with open_for_checks(db) as con:
        results = {e.slo.kind: e for e in evaluate(con, compile_plan([forging, victim]), AS_OF)}
    assert results["custom_sql"].observed is None and "free SQL" in str(results["custom_sql"].error)
    assert results["reconciliation"].observed == 1.0


@pytest.mark.parametrize(
    ("dataset", "column", "reference_column", "expected"),
    [
        ("s.orphans", "key", "key", 0.0),  # no key found, and the reference has a null: 0, not "no rows" 1.0
        ("s.t", "k", "key", 1.0),  # both non-null keys are 1, found
    ],
)
def test_referential_integrity_with_nulls_in_the_reference(
    db: Path, dataset: str, column: str, reference_column: str, expected: float
) -> None:
    slo = make_slo(
        "referential_integrity",
        dataset=dataset,
        column=column,
        reference_dataset="s.ref",
        reference_column=reference_column,
    )
    evaluation = observe(db, slo)
    assert evaluation.error is None and evaluation.observed == expected


def test_referential_integrity_on_a_missing_reference_column_is_an_error_not_a_pass(db: Path) -> None:
    """Unqualified, DuckDB would bind the name to the checked table's own column and find every key."""
    slo = make_slo(
        "referential_integrity", dataset="s.orphans", column="key", reference_dataset="s.zero", reference_column="key"
    )
    evaluation = observe(db, slo)
    assert (evaluation.observed, evaluation.error) == (None, "column key not found in s.zero")


def test_max_age_reads_only_rows_at_or_before_the_evaluation_time(tmp_path: Path) -> None:
    # A back-dated check (or a row dated in the future) must not see later rows: the age is that of the newest row
    # at or before --as-of, never negative, and the same rows row_volume counts.
    path = tmp_path / "ts.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA s")
    con.execute(
        "CREATE TABLE s.orders AS SELECT * FROM (VALUES (TIMESTAMP '2026-11-24 06:00:00'),"
        " (TIMESTAMP '2026-11-27 05:00:00'), (TIMESTAMP '2026-11-30 00:00:00')) AS v(ts)"
    )
    con.execute("CREATE TABLE s.future AS SELECT TIMESTAMP '2027-01-01 00:00:00' AS ts")
    con.close()
    slo = make_slo("max_age", dataset="s.orders", bound="max", value=86400.0, column="ts")
    with open_for_checks(path) as con:
        (now,) = evaluate(con, compile_plan([slo]), AS_OF)
        (earlier,) = evaluate(con, compile_plan([slo]), datetime(2026, 11, 25, 6, 0))
        (only_future,) = evaluate(
            con, compile_plan([make_slo("max_age", dataset="s.future", bound="max", value=86400.0, column="ts")]), AS_OF
        )
    assert now.observed == 3600.0  # 05:00 on the 27th, not the row dated the 30th
    assert earlier.observed == 86400.0  # as of the 25th, the newest row is the 24th's
    assert only_future.observed is None and only_future.error is not None
    assert "at or before the evaluation time" in only_future.error


def test_not_in_future_counts_timestamps_beyond_the_tolerance_as_invalid(tmp_path: Path) -> None:
    # A check at 06:00 with 5 minutes' tolerance: 05:00 and 06:04 are fine, 06:06 and next year are not; a null is
    # completeness's concern and not judged.
    path = tmp_path / "ts.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA s")
    con.execute(
        "CREATE TABLE s.orders AS SELECT * FROM (VALUES (TIMESTAMP '2026-11-27 05:00:00'),"
        " (TIMESTAMP '2026-11-27 06:04:00'), (TIMESTAMP '2026-11-27 06:06:00'), (TIMESTAMP '2027-01-01 00:00:00'),"
        " (NULL)) AS v(ts)"
    )
    con.close()
    assert observe(path, make_slo("not_in_future", dataset="s.orders", column="ts", tolerance=300.0)).observed == 0.5
    assert observe(path, make_slo("not_in_future", dataset="s.orders", column="ts", tolerance=0.0)).observed == 0.25
    later = make_slo("not_in_future", dataset="s.orders", column="ts", tolerance=300.0)
    with open_for_checks(path) as con:
        (evaluation,) = evaluate(con, compile_plan([later]), datetime(2027, 1, 1, 0, 0))
    assert evaluation.observed == 1.0  # checked later, nothing lies in its future


@pytest.mark.parametrize(
    ("kind", "params", "ignored", "failed"),
    [
        # amount: 5.0, 5.0, NULL, NULL; txt: 'a', 'b', NULL, 'b'
        ("in_range", {"column": "amount", "min": 0, "max": 10}, 1.0, 0.5),
        ("in_set", {"column": "txt", "values": ["a", "b"]}, 1.0, 0.75),
        ("matches_pattern", {"column": "txt", "regex": "[ab]"}, 1.0, 0.75),
    ],
)
def test_validity_ratios_count_nulls_as_violations_only_when_told(
    db: Path, kind: str, params: dict[str, Any], ignored: float, failed: float
) -> None:
    assert observe(db, make_slo(kind, **params)).observed == ignored
    assert observe(db, make_slo(kind, **params, nulls="ignore")).observed == ignored
    assert observe(db, make_slo(kind, **params, nulls="fail")).observed == failed


def test_no_pii_counts_every_matching_row_of_every_text_column(tmp_path: Path) -> None:
    """Counted over each column's distinct values, the sum is still one per matching row and column: repeated values
    count every time, nulls never, an empty table 0; alone and fused with another SLO of the same table."""
    path = tmp_path / "pii.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA s")
        con.execute(
            "CREATE TABLE s.t AS SELECT * FROM (VALUES ('a@b.io', 'x'), ('a@b.io', '+44 20 7946 0958'), (NULL, 'x'),"
            " ('ok', '+44 20 7946 0958'), ('c@d.org', NULL), ('ok', 'y')) AS v(mail, note)"
        )
        con.execute("CREATE TABLE s.empty (mail VARCHAR)")
    pii = make_slo("no_pii", bound="max", value=0, patterns=["email", "phone"], columns=None)
    assert observe(path, pii).observed == 5  # mail: 2 + 1 rows, note: 2 rows
    only_mail = make_slo("no_pii", bound="max", value=0, patterns=["email", "phone"], columns=["mail"])
    assert observe(path, only_mail).observed == 3
    phones = make_slo("no_pii", bound="max", value=0, patterns=["phone"], columns=None)
    assert observe(path, phones).observed == 2
    with open_for_checks(path) as con:
        fused = evaluate(con, compile_plan([pii, make_slo("non_null_ratio", columns=["mail"])]), AS_OF)
    assert [e.observed for e in fused] == [5, pytest.approx(5 / 6)]
    assert observe(path, make_slo("no_pii", dataset="s.empty", bound="max", value=0, patterns=["email"])).observed == 0


def test_no_pii_runs_its_patterns_over_distinct_values_not_rows(tmp_path: Path) -> None:
    """A 10M-line category column has a few dozen values: matching each row took 0.7 s of the build's checks."""
    import json

    from dagster_project.engines.native_sql import scan_expression

    con = duckdb.connect()
    con.execute("CREATE SCHEMA s")
    con.execute("CREATE TABLE s.t AS SELECT ['Books', 'Garden', 'Toys'][1 + i % 3] AS category FROM range(30000) r(i)")
    slo = make_slo("no_pii", bound="max", value=0, patterns=["email", "phone"], columns=None)
    profile = tmp_path / "profile.json"
    con.execute("PRAGMA enable_profiling = 'json'")
    con.execute(f"SET profiling_output = '{profile}'")
    assert con.execute(f"SELECT {scan_expression(slo, AS_OF, ['category'])} FROM s.t").fetchall() == [(0,)]

    def operators(node: dict[str, Any]) -> list[dict[str, Any]]:
        return [node, *(n for child in node.get("children", []) for n in operators(child))]

    found = [n for root in json.loads(profile.read_text())["operator"] for n in operators(root)]
    # The patterns are applied after grouping: the only rows reaching them are the 3 values.
    groups = [n for n in found if n["type"] == "HASH_GROUP_BY"]
    assert groups and all(n["intermediate_rows"] == 3 for n in groups)
