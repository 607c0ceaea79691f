"""Indicator values on small hand-made tables, computed independently: the cases a review found wrong."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dagster_project.engines.native import evaluate, open_for_checks
from dagster_project.indicators.registry import make
from dagster_project.indicators.valid_format import FORMATS
from dagster_project.slo.domain import Slo, Threshold
from dagster_project.slo.evaluation import Evaluation
from dagster_project.slo.plan import compile_plan
from dagster_project.spec.validate import validate
from tests.format_samples import FORMAT_SAMPLES, PII_SAMPLES

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


# --- absolute metrics, formats, missing values, PII patterns (issue 14) --------------------------------------------


@pytest.mark.parametrize(
    ("aggregate", "column", "percentile", "expected"),
    [
        ("sum", "dec", None, 100.0),
        ("avg", "amount", None, 5.0),  # nulls left out, as SQL's avg leaves them: not 2.5
        ("min", "d", None, 1.0),
        ("max", "dec", None, 40.0),
        ("stddev", "d", None, (5 / 3) ** 0.5),  # the sample stddev (n - 1)
        ("percentile", "d", 0.9, 3.7),  # between the 3rd and 4th value: 3 + 0.7 * (4 - 3)
        ("percentile", "k", 0.5, 1.0),
        ("distinct_count", "k", None, 1.0),
        ("distinct_count", "txt", None, 2.0),
    ],
)
def test_a_metric_aggregates_one_column_ignoring_nulls_as_sql_does(
    db: Path, aggregate: str, column: str, percentile: float | None, expected: float
) -> None:
    slo = make_slo("metric", aggregate=aggregate, column=column, percentile=percentile)
    evaluation = observe(db, slo)
    assert evaluation.error is None
    assert evaluation.observed == pytest.approx(expected, rel=1e-12)
    assert slo.unit == "number"


@pytest.mark.parametrize("aggregate", ["sum", "avg", "min", "max", "stddev", "percentile"])
def test_a_metric_over_no_values_is_an_error_result_not_a_number(db: Path, aggregate: str) -> None:
    percentile = 0.5 if aggregate == "percentile" else None
    evaluation = observe(db, make_slo("metric", dataset="s.empty", aggregate=aggregate, column="amount",
                                      percentile=percentile))  # fmt: skip
    assert evaluation.observed is None
    assert str(evaluation.error).startswith("no value: s.empty has")


def test_the_distinct_count_of_no_rows_is_zero(db: Path) -> None:
    assert observe(db, make_slo("metric", dataset="s.empty", aggregate="distinct_count", column="amount")).observed == 0


def test_a_sample_stddev_of_one_value_is_no_value(db: Path) -> None:
    evaluation = observe(db, make_slo("metric", dataset="s.zero", aggregate="stddev", column="amount"))
    assert evaluation.observed is None and "fewer than two values" in str(evaluation.error)


def test_the_percentile_interpolates_bit_for_bit_as_postgres_and_spark_do(tmp_path: Path) -> None:
    # Two values where lo + (hi - lo) * d (PostgreSQL's percentile_cont, Spark's percentile) and DuckDB's own
    # quantile_cont (lo * (1 - d) + hi * d) differ in the last bit.
    lo, hi = 72.81259730525967, 130.50356376583113
    path = tmp_path / "p.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA s")
        con.execute(f"CREATE TABLE s.p AS SELECT * FROM (VALUES ({lo}), ({hi}), (NULL)) AS v(x)")
        assert con.execute("SELECT quantile_cont(x, 0.9) FROM s.p").fetchone() != (lo + (hi - lo) * 0.9,)
    slo = make_slo("metric", dataset="s.p", aggregate="percentile", column="x", percentile=0.9)
    assert observe(path, slo).observed == lo + (hi - lo) * 0.9


@pytest.mark.parametrize("unit", ["count", "number", "duration"])
def test_custom_sql_declares_any_unit_and_defaults_to_a_ratio(db: Path, unit: str) -> None:
    slo = make_slo("custom_sql", sql="SELECT count(*) * 1.5 FROM s.t", unit=unit)
    assert (slo.unit, observe(db, slo).observed) == (unit, 6.0)
    assert make_slo("custom_sql", sql="SELECT 0.5").unit == "ratio"


@pytest.mark.parametrize(
    ("missing_values", "expected"),
    [((), 0.75), (("b",), 0.25), (("a", "b"), 0.0), (("B", " b"), 0.75)],  # compared exactly: case and spaces count
)
def test_listed_missing_values_count_as_missing_like_nulls(
    db: Path, missing_values: tuple[str, ...], expected: float
) -> None:
    # txt = ['a', 'b', NULL, 'b']
    slo = make_slo("non_null_ratio", columns=["txt"], missing_values=missing_values)
    assert observe(db, slo).observed == pytest.approx(expected)


def test_a_missing_value_written_as_a_number_is_refused_asking_for_its_text(tmp_path: Path) -> None:
    """Missing values are compared as text; a bare 0 would be '0' on one engine and '0.0' on another."""
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "version: 1\ndata_product: {id: p, owner: o}\nslos:\n  - id: s\n    dimension: completeness\n"
        "    dataset: s.t\n    indicator: {type: non_null_ratio, columns: [n], missing_values: ['N/A', 0]}\n"
        "    threshold: {min: 0.9}\n    severity: error\n    objective: 0.99\n"
    )
    _, issues = validate([spec])
    assert [(i.line, i.message) for i in issues] == [
        (7, "missing values are compared as text: quote 0 as the text it is stored as, e.g. '0'")
    ]


def _samples_table(path: Path, values: list[str]) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS s")
        con.execute("CREATE OR REPLACE TABLE s.v (i INTEGER, v VARCHAR)")
        con.executemany("INSERT INTO s.v VALUES (?, ?)", list(enumerate(values)))


@pytest.mark.parametrize("format_", sorted(FORMAT_SAMPLES))
def test_each_built_in_format_matches_its_valid_samples_and_none_of_its_invalid_ones(
    tmp_path: Path, format_: str
) -> None:
    valid, invalid = FORMAT_SAMPLES[format_]
    path = tmp_path / "f.duckdb"
    for values, expected in ((valid, 1.0), (invalid, 0.0)):
        _samples_table(path, values)
        evaluation = observe(path, make_slo("valid_format", dataset="s.v", column="v", format=format_))
        wrong = [v for v in values if (re.fullmatch(FORMATS[format_], v) is not None) != (expected == 1.0)]
        assert (evaluation.observed, wrong) == (expected, [])  # DuckDB (RE2) and Python's re (GX) alike


@pytest.mark.parametrize("pattern", sorted(PII_SAMPLES))
def test_each_pii_pattern_finds_its_samples_and_nothing_in_the_others(tmp_path: Path, pattern: str) -> None:
    found, clean = PII_SAMPLES[pattern]
    path = tmp_path / "p.duckdb"
    for values, expected in ((found, len(found)), (clean, 0)):
        _samples_table(path, values)
        slo = make_slo("no_pii", dataset="s.v", bound="max", value=0, patterns=[pattern], columns=["v"])
        assert observe(path, slo).observed == expected, values


def test_the_phone_pattern_finds_us_numbers_however_they_are_written(tmp_path: Path) -> None:
    # The issue's case: only +CC numbers were found, 3 of 4 US-format numbers missed.
    path = tmp_path / "p.duckdb"
    _samples_table(path, ["+1 555 123 4567", "(555) 123-4567", "555-123-4567", "555.123.4567"])
    slo = make_slo("no_pii", dataset="s.v", bound="max", value=0, patterns=["phone"])
    assert observe(path, slo).observed == 4
