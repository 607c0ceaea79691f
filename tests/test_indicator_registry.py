"""The indicator registry and the engine-neutral plan: every indicator renders in every dialect, the portable nodes
render as each engine needs, the evaluator runs on any adapter (one scan per dataset), free SQL and regexes are
judged per dialect, and validation refuses an indicator an engine cannot run, at its place."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot

from dagster_project.engines.adapter import Catalog, Column, EngineError
from dagster_project.engines.duckdb_adapter import DuckDBAdapter, open_adapter
from dagster_project.engines.evaluate import evaluate
from dagster_project.indicators import sql
from dagster_project.indicators.registry import REGISTRY, make
from dagster_project.slo.domain import Slo, Threshold
from dagster_project.slo.plan import compile_plan, scan_query, single_query
from dagster_project.spec.free_sql import FreeSqlRejected, regex_error, require_single_select
from dagster_project.spec.validate import engine_issues, validate

AS_OF = datetime(2026, 11, 27, 6, 0, 0, 250000)

# One example of each indicator type (domain fields, durations in seconds). A new type must add one: the test below
# fails until it renders in every dialect.
SAMPLES: dict[str, dict[str, Any]] = {
    "max_age": {"column": "ts"},
    "non_null_ratio": {"columns": ["a", "b"]},
    "row_volume": {"timestamp_column": "ts", "period": 3600.0, "baseline_periods": 3},
    "in_range": {"column": "a", "min": 0.5, "max": 10},
    "in_set": {"column": "a", "values": [1, 2.5]},
    "matches_pattern": {"column": "b", "regex": r"\bx[0-9]+"},
    "not_in_future": {"column": "ts", "tolerance": 0.5},
    "referential_integrity": {"column": "a", "reference_dataset": "s.r", "reference_column": "k"},
    "reconciliation": {"column": "a", "reference_dataset": "s.r", "reference_column": "k"},
    "uniqueness": {"columns": ["a", "b"]},
    "schema": {"columns": {"a": "INT64"}},
    "build_duration": {},
    "query_latency": {"query_id": "q", "sql": "SELECT 1"},
    "query_availability": {"query_id": "q", "sql": "SELECT 1"},
    "no_pii": {"patterns": ["email", "iban"], "columns": ["b"]},
    "custom_sql": {"sql": "SELECT 1.0"},
    "row_count": {},
    "metric": {"aggregate": "percentile", "column": "a", "percentile": 0.9},
    "valid_format": {"column": "b", "format": "phone"},
    "schema_change": {},
    "anomaly": {"metric": make("non_null_ratio", columns=["a"]), "training_s": 86400.0 * 28},
}


def make_slo(kind: str, dataset: str = "s.t", **fields: Any) -> Slo:
    return Slo(
        id=kind,
        product="p",
        dimension="validity",
        dataset=dataset,
        indicator=make(kind, **(fields or SAMPLES[kind])),
        threshold=Threshold.of("min", 0.5),
        severity="error",
        objective=0.99,
        windows_s=(86400.0,),
        protects=("goal", "g"),
    )


def measured_sql(slo: Slo) -> sqlglot.exp.Expr | None:
    measured = slo.definition.measured
    if measured == "scan":
        return scan_query(slo.dataset, [slo], AS_OF, ["b"]).fused
    if measured == "query":
        return single_query(slo, AS_OF)
    return None


@pytest.mark.parametrize("dialect", sql.DIALECTS)
def test_every_indicator_renders_in_every_dialect_as_sql_that_dialect_reads_back(dialect: str) -> None:
    assert set(SAMPLES) == set(REGISTRY)
    rendered = 0
    for kind in REGISTRY:
        tree = measured_sql(make_slo(kind))
        if tree is None:
            continue
        text = sql.render(tree, dialect)
        (parsed,) = sqlglot.parse(text, read=dialect)
        assert isinstance(parsed, sqlglot.exp.Query), (kind, text)
        assert "EPOCH_SECONDS" not in text.upper() and "NUMBER_OR_NULL" not in text.upper(), text
        rendered += 1
    assert rendered == 16  # the scan and query indicators; the others run the spec's SQL or read the catalog


@pytest.mark.parametrize(
    ("kind", "dialect", "expected"),
    [
        # Epoch seconds with microseconds: Spark's unix_timestamp would truncate to whole seconds.
        ("max_age", "duckdb", "EPOCH(CAST('2026-11-27 06:00:00.250000' AS TIMESTAMP))"),
        ("max_age", "postgres", "DATE_PART('epoch', CAST('2026-11-27 06:00:00.250000' AS TIMESTAMP))"),
        (
            "max_age",
            "spark",
            "UNIX_MICROS(CAST(CAST('2026-11-27 06:00:00.250000' AS TIMESTAMP) AS TIMESTAMP)) AS DOUBLE) / 1000000",
        ),
        # A regex full match: DuckDB's own, anchored elsewhere (PostgreSQL spells \b as \y; Java's $ would also
        # match before a final newline).
        ("matches_pattern", "duckdb", 'REGEXP_FULL_MATCH(CAST("b" AS TEXT), ' + r"'\bx[0-9]+')"),
        ("matches_pattern", "postgres", 'CAST("b" AS TEXT) ~ ' + r"'^(?:\yx[0-9]+)$'"),
        ("matches_pattern", "spark", r"CAST(`b` AS STRING) RLIKE '^(?:\\bx[0-9]+)\\z'"),
        # count_if: PostgreSQL has none.
        ("non_null_ratio", "duckdb", 'COUNT_IF(NOT "a" IS NULL AND NOT "b" IS NULL)'),
        ("non_null_ratio", "postgres", 'SUM(CASE WHEN NOT "a" IS NULL AND NOT "b" IS NULL THEN 1 ELSE 0 END)'),
        ("non_null_ratio", "spark", "COUNT_IF(NOT `a` IS NULL AND NOT `b` IS NULL)"),
        # A number or null: TRY_CAST on DuckDB only (PostgreSQL has none; Spark's CAST raises under ANSI mode).
        ("in_set", "duckdb", 'TRY_CAST("a" AS DOUBLE) IN (1.0, 2.5)'),
        ("in_set", "postgres", 'CASE WHEN CAST("a" AS TEXT) ~ '),
        ("in_set", "spark", "CASE WHEN CAST(`a` AS STRING) RLIKE "),
        # Distinct tuples: a tuple on DuckDB and PostgreSQL, several arguments on Spark.
        ("uniqueness", "spark", "COUNT(DISTINCT `a`, `b`) FILTER(WHERE NOT `a` IS NULL AND NOT `b` IS NULL)"),
        ("uniqueness", "postgres", 'COUNT(DISTINCT CASE WHEN "a" IS NULL THEN NULL WHEN "b" IS NULL'),
        # DOUBLE division and casts to text.
        ("reconciliation", "postgres", 'CAST(SUM("a") AS DOUBLE PRECISION)'),
        ("no_pii", "spark", "GROUP BY CAST(`b` AS STRING)"),
    ],
)
def test_what_engines_spell_differently_renders_as_each_engine_needs(kind: str, dialect: str, expected: str) -> None:
    tree = measured_sql(make_slo(kind))
    assert tree is not None
    assert expected in sql.render(tree, dialect)


def test_an_unknown_dialect_is_refused() -> None:
    tree = measured_sql(make_slo("max_age"))
    assert tree is not None
    with pytest.raises(ValueError, match="unknown dialect 'oracle'"):
        sql.render(tree, "oracle")


def test_spec_values_stay_literals_in_every_dialect() -> None:
    hostile = make_slo("in_set", column="a", values=["x') OR 1=1 --", "y"])
    tree = measured_sql(hostile)
    assert tree is not None
    for dialect in sql.DIALECTS:
        (parsed,) = sqlglot.parse(sql.render(tree, dialect), read=dialect)
        assert parsed is not None
        literals = {lit.this for lit in parsed.find_all(sqlglot.exp.Literal) if lit.is_string}
        assert "x') OR 1=1 --" in literals


# --- the evaluator on any adapter ---------------------------------------------------------------------------------


class RecordingAdapter:
    """An adapter that only forwards to DuckDB and keeps every query it is given: what an engine receives."""

    name = "recording"
    dialect = "duckdb"
    label = "recording"

    def __init__(self, inner: DuckDBAdapter, fail_when: str | None = None) -> None:
        self.inner, self.fail_when = inner, fail_when
        self.queries: list[str] = []
        self.catalogs = 0

    def catalog(self) -> Catalog:
        self.catalogs += 1
        return self.inner.catalog()

    def fetch(self, sql: str, timeout_s: float, max_rows: int | None = 2) -> list[tuple[Any, ...]]:
        self.queries.append(sql)
        if self.fail_when is not None and self.fail_when in sql:
            raise EngineError("Binder Error: the engine refused it")
        return self.inner.fetch(sql, timeout_s, max_rows)

    def describe(self, sql: str, timeout_s: float) -> list[Column]:
        return self.inner.describe(sql, timeout_s)

    def same_type(self, expected: str, actual: Column) -> bool:
        return self.inner.same_type(expected, actual)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "t.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA s")
    con.execute(
        "CREATE TABLE s.t AS SELECT * FROM (VALUES (1, 'x1', TIMESTAMP '2026-11-27 05:00:00'),"
        " (2, 'mail a@b.io', TIMESTAMP '2026-11-26 05:00:00'), (NULL, NULL, NULL)) AS v(a, b, ts)"
    )
    con.execute("CREATE TABLE s.r AS SELECT * FROM (VALUES (1), (3)) AS v(k)")
    con.close()
    return path


@pytest.fixture
def adapter(db: Path) -> Iterator[DuckDBAdapter]:
    with open_adapter(db) as opened:
        yield opened


def test_the_evaluator_scans_each_dataset_once_and_reads_the_catalog_once(adapter: DuckDBAdapter) -> None:
    slos = [make_slo(k) for k in ("max_age", "non_null_ratio", "in_range", "uniqueness", "no_pii")]
    slos += [make_slo("referential_integrity"), make_slo("schema", columns={"a": "INT4", "b": "STRING"})]
    recording = RecordingAdapter(adapter)
    evaluations = {e.slo.id: e for e in evaluate(recording, compile_plan(slos), AS_OF)}
    assert recording.catalogs == 1
    scans = [q for q in recording.queries if q.endswith('FROM "s"."t"') and " AS m0" in q]
    assert len(scans) == 1 and " AS m4" in scans[0]  # the five scan indicators in one query
    assert evaluations["max_age"].observed == pytest.approx(3600.25)
    assert evaluations["non_null_ratio"].observed == pytest.approx(2 / 3)
    assert evaluations["no_pii"].observed == 1.0
    assert evaluations["referential_integrity"].observed == pytest.approx(1 / 2)
    assert (evaluations["schema"].observed, evaluations["schema"].detail) == (1.0, None)  # as DuckDB spells them


def test_a_failing_scan_falls_back_to_one_query_per_slo_on_any_adapter(adapter: DuckDBAdapter) -> None:
    slos = [make_slo("in_range"), make_slo("matches_pattern")]
    recording = RecordingAdapter(adapter, fail_when="REGEXP_FULL_MATCH")
    evaluations = {e.slo.id: e for e in evaluate(recording, compile_plan(slos), AS_OF)}
    assert evaluations["in_range"].observed == 1.0
    assert evaluations["matches_pattern"].error == "Binder Error: the engine refused it"
    assert len(recording.queries) == 3  # the fused scan, then each alone


def test_a_missing_reference_column_is_named_before_anything_runs(adapter: DuckDBAdapter) -> None:
    slo = make_slo("referential_integrity", column="a", reference_dataset="s.r", reference_column="nope")
    recording = RecordingAdapter(adapter)
    (evaluation,) = evaluate(recording, compile_plan([slo]), AS_OF)
    assert evaluation.error == "column nope not found in s.r" and recording.queries == []


def test_free_sql_is_checked_in_the_adapters_dialect_before_it_runs(adapter: DuckDBAdapter) -> None:
    recording = RecordingAdapter(adapter)
    recording.dialect = "postgres"
    slo = make_slo("custom_sql", sql="SELECT 1.0 FROM s.t FOR UPDATE")
    (evaluation,) = evaluate(recording, compile_plan([slo]), AS_OF)
    assert evaluation.error == "free SQL must only read: LOCK is not allowed" and recording.queries == []


# --- the DuckDB adapter ----------------------------------------------------------------------------------------------


def test_the_duckdb_catalog_names_tables_as_specs_do_with_type_families(tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA s")
    con.execute(
        "CREATE TABLE s.t (i BIGINT, d DECIMAL(10,2), f DOUBLE, v VARCHAR, b BOOLEAN, day DATE, ts TIMESTAMP,"
        " tz TIMESTAMPTZ, l INTEGER[])"
    )
    con.close()
    landing = tmp_path / "c.duckdb.landing"
    con = duckdb.connect(str(landing))
    con.execute("CREATE TABLE orders (id INTEGER)")
    con.close()
    with open_adapter(path) as opened:
        catalog = opened.catalog()
        families = {c.name: c.family for c in catalog.columns("s.t")}
        assert families == {
            "i": "integer",
            "d": "decimal",
            "f": "float",
            "v": "text",
            "b": "boolean",
            "day": "date",
            "ts": "timestamp",
            "tz": "timestamp",
            "l": "other",
        }
        assert catalog.exists("raw.orders") and catalog.text_columns("s.t") == ["v"]
        (i_col,) = (c for c in catalog.columns("s.t") if c.name == "i")
        assert opened.same_type("INT64", i_col) and not opened.same_type("INTEGER", i_col)
        with pytest.raises(EngineError, match="Catalog Error"):
            opened.fetch("SELECT * FROM s.nope", 5.0)
        with pytest.raises(EngineError):
            opened.fetch("CREATE TABLE s.u (x INT)", 5.0)  # read-only


# --- free SQL and regexes, per dialect ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dialect", "query", "message"),
    [
        ("postgres", "SELECT pg_read_file('/etc/passwd')", "pg_read_file() is not allowed"),
        ("postgres", "SELECT a FROM s.t FOR UPDATE", "LOCK is not allowed"),
        ("postgres", "SELECT 1; SELECT 2", "exactly one statement, found 2"),
        ("spark", "SELECT reflect('java.lang.Runtime', 'getRuntime')", "reflect() is not allowed"),
        ("spark", "INSERT INTO s.t SELECT * FROM s.t", "must be a SELECT"),
    ],
)
def test_free_sql_is_refused_in_each_engines_dialect(dialect: str, query: str, message: str) -> None:
    with pytest.raises(FreeSqlRejected, match=message.replace("(", r"\(").replace(")", r"\)")):
        require_single_select(query, dialect=dialect)


def test_free_sql_in_postgres_syntax_is_read_as_postgres_not_duckdb() -> None:
    require_single_select("SELECT a::text, b ILIKE 'x%' FROM s.t WHERE a ~ '^[0-9]+$'", dialect="postgres")
    require_single_select("SELECT `a` FROM s.t LATERAL VIEW explode(b) e AS x", dialect="spark")


@pytest.mark.parametrize(
    ("regex", "duckdb_says", "elsewhere"),
    [
        (r"(?<=a)b", "invalid perl operator", "lookaround"),
        (r"(a)\1", "invalid escape sequence", "backreferences"),
        (r"a\Z", "invalid escape sequence", r"\\A, \\Z and \\z"),
        (r"[0-9", "missing ]", "unterminated character set"),
        (r"\bx[0-9]+\\1", None, None),  # an escaped backslash before 1 is no backreference
    ],
)
def test_regexes_are_judged_by_the_engine_that_runs_them(
    regex: str, duckdb_says: str | None, elsewhere: str | None
) -> None:
    for dialect, expected in (("duckdb", duckdb_says), ("postgres", elsewhere), ("spark", elsewhere)):
        error = regex_error(regex, dialect)
        assert (error is None) == (expected is None), (dialect, error)
        if expected is not None:
            assert expected in str(error) or __import__("re").search(expected, str(error)), (dialect, error)


# --- validation: indicators an engine cannot run ---------------------------------------------------------------------


def test_an_indicator_the_engine_cannot_run_is_refused_at_its_place(tmp_path: Path) -> None:
    spec = tmp_path / "spark.yaml"
    spec.write_text(
        textwrap.dedent(
            """\
            version: 1
            data_product: {id: shop, owner: team}
            consumer_queries:
              - {id: lookup, use_case: u, sql: SELECT 1}
            slos:
              - id: fresh
                dimension: freshness
                dataset: s.t
                indicator: {type: max_age, column: ts}
                threshold: {max: 24h}
                severity: error
                objective: 0.99
              - id: fast
                dimension: performance
                dataset: s.t
                indicator: {type: query_latency, query: lookup}
                threshold: {max: 500ms}
                severity: warn
                objective: 0.99
              - id: built
                dimension: performance
                dataset: s.t
                indicator: {type: build_duration}
                threshold: {max: 1h}
                severity: warn
                objective: 0.99
            """
        )
    )
    specs, _issues = validate([spec])
    (loaded,) = specs
    assert engine_issues(loaded, "duckdb") == []
    spark = [(i.line, i.path, i.message.split(":")[0]) for i in engine_issues(loaded, "spark")]
    assert spark == [
        (16, "slos.1.indicator.type", "query_latency cannot run on spark (only on duckdb, postgres)"),
        (23, "slos.2.indicator.type", "build_duration cannot run on spark (only on duckdb)"),
    ]
    assert [i.path for i in engine_issues(loaded, "postgres")] == ["slos.2.indicator.type"]


def test_row_count_counts_every_row_in_the_datasets_one_scan(adapter: DuckDBAdapter) -> None:
    slos = [make_slo("row_count"), make_slo("non_null_ratio"), make_slo("row_count", dataset="s.r")]
    slos[2] = Slo(**{**slos[2].__dict__, "id": "ref_rows"})
    recording = RecordingAdapter(adapter)
    evaluations = {e.slo.id: e for e in evaluate(recording, compile_plan(slos), AS_OF)}
    assert (evaluations["row_count"].observed, evaluations["ref_rows"].observed) == (3.0, 2.0)
    assert evaluations["row_count"].slo.unit == "count"
    assert len(recording.queries) == 2  # one scan per dataset, row_count fused into s.t's


def test_a_spec_models_fields_read_for_its_domain_form_are_its_dump() -> None:
    """Definition.from_spec reads a model's fields itself (a remembered spec's models have no serializer built yet,
    spec/spec_cache.py): for every indicator of every spec file here, exactly what pydantic's model_dump gives."""
    from dagster_project.indicators.base import _plain

    repo = Path(__file__).resolve().parent.parent
    files = [
        *sorted((repo / "slo_definitions").glob("*.yaml")),
        *sorted((repo / "tests" / "specs").rglob("*.yaml")),
    ]
    seen: set[str] = set()
    for file in files:
        for loaded in validate([file])[0]:
            for slo in loaded.spec.slos:
                assert _plain(slo.indicator) == slo.indicator.model_dump(), (file, slo.id)
                seen.add(slo.indicator.type)
    assert {"anomaly", "metric", "schema", "custom_sql"} <= seen  # nested models, lists, mappings, declared units
