"""Failed-row samples (issue 14, point 5): a row-level SLO that declares `samples: {keys: [...]}` keeps the keys of
up to `limit` failing rows with its result (one bounded query on the engine that evaluated it), honouring its
where/partition; a key column marked as PII (`pii_columns`) is shown as *** and its values never reach the store; a
failing sample query leaves the verdict as it was; the same keys come back from DuckDB, PostgreSQL and Spark."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pytest

from dagster_project.engines.adapter import EngineAdapter, EngineError
from dagster_project.engines.duckdb_adapter import open_adapter
from dagster_project.engines.evaluate import evaluate
from dagster_project.errors import EXIT_USAGE
from dagster_project.results.store import ResultsStore
from dagster_project.slo.domain import Slo
from dagster_project.slo.from_spec import slos_from_spec
from dagster_project.slo.plan import compile_plan
from dagster_project.slo.report import as_json
from dagster_project.spec.validate import validate
from tests.cli_support import run_slo
from tests.conftest import REPO
from tests.server_support import copied_to_servers

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from tests.server_support import PostgresCluster

SPEC = REPO / "tests" / "specs" / "good" / "orders_samples.yaml"
CHECKED_AT = "2026-11-27T06:00:00Z"
AS_OF = datetime(2026, 11, 27, 6)
SECRET = "zelda.secret.9431"  # in the PII column `email` of the rows that fail order_emails_valid

# Thirty orders; which fail which SLO is written into each column (see make_orders).
EXPECTED: dict[str, list[list[Any]] | None] = {
    "amounts_in_range": [[5], [6], [23]],
    "web_amounts_in_range": [[5], [23]],  # where: channel = 'web' (odd orders)
    "recent_amounts_in_range": [[23]],  # partition: the last 12h (orders 19..30)
    "status_known": [[9]],  # 16 is null: not judged
    "order_emails_valid": [[4, "***"], [11, "***"]],  # email is PII: masked
    "order_refs_unique": [[12], [13], [25], [26], [27]],
    "customers_known": [[7], [19]],
    "notes_present": [[3], [6], [9]],  # limit 3 of ten
    "no_phone_in_notes": [[8]],
    "placed_not_in_future": [[30]],
    "order_refs_well_formed": None,  # every row passes: no sample query at all
}


def make_orders(db: Path) -> Path:
    with duckdb.connect(str(db)) as con:
        con.execute(
            f"""CREATE TABLE orders AS
            SELECT i AS order_id,
                   CASE WHEN i % 2 = 1 THEN 'web' ELSE 'store' END AS channel,
                   CASE i WHEN 7 THEN 99 WHEN 19 THEN 98 ELSE i % 10 + 1 END AS customer_id,
                   CASE WHEN i IN (4, 11) THEN '{SECRET} at example' ELSE 'buyer' || i || '@example.com' END AS email,
                   CASE WHEN i IN (5, 6, 23) THEN -10 ELSE i * 3 END AS amount,
                   CASE WHEN i = 9 THEN 'lost' WHEN i = 16 THEN NULL WHEN i % 2 = 0 THEN 'shipped' ELSE 'placed' END
                       AS status,
                   CASE WHEN i = 13 THEN 'R-12' WHEN i IN (25, 26, 27) THEN 'R-25' ELSE 'R-' || i END AS order_ref,
                   CASE WHEN i = 8 THEN 'call me on +44 20 7946 0958' WHEN i % 3 = 0 THEN NULL ELSE 'ok' END AS note,
                   CASE WHEN i = 30 THEN TIMESTAMP '2026-11-29 00:00:00'
                        ELSE TIMESTAMP '2026-11-27 06:00:00' - (31 - i) * INTERVAL 1 HOUR END AS placed_at
            FROM range(30, 0, -1) t(i)"""  # written newest first: the order comes from ORDER BY, not the table
        )
        con.execute("CREATE TABLE customers AS SELECT i AS customer_id FROM range(1, 11) t(i)")
    return db


def _slos() -> list[Slo]:
    (loaded,), issues = validate([SPEC])
    assert issues == []
    return slos_from_spec(loaded.spec)


def _sampled(evaluations: Sequence[Any]) -> dict[str, list[list[Any]] | None]:
    out = {}
    for e in evaluations:
        record = as_json(e)["samples"]
        out[e.slo.id] = None if record is None else record["rows"]
    return out


def test_failing_rows_keys_are_sampled_for_every_row_level_indicator_on_duckdb(tmp_path: Path) -> None:
    db = make_orders(tmp_path / "orders.duckdb")
    with open_adapter(db) as adapter:
        evaluations = evaluate(adapter, compile_plan(_slos()), AS_OF)
    assert _sampled(evaluations) == EXPECTED
    assert all(e.error is None for e in evaluations)


def test_slos_judged_by_gx_keep_the_same_samples_as_natively(tmp_path: Path) -> None:
    """The GX engine judges what it can express; the samples of those SLOs are the same bounded query on the same
    database, so `slo check --engine gx` shows the same failing keys."""
    from dagster_project.engines import gx, gx_suite

    db = make_orders(tmp_path / "orders.duckdb")
    with open_adapter(db) as adapter:
        evaluations, _ = gx.evaluate_on(adapter, compile_plan(_slos()), AS_OF, tmp_path / "gx", build_docs=False)
    by_gx = {e.slo.id for e in evaluations if e.engine == "gx"}
    assert by_gx and by_gx == {s.id for s in _slos() if gx_suite.expressible(s)}
    assert _sampled(evaluations) == EXPECTED
    assert {i: EXPECTED[i] for i in by_gx if EXPECTED[i]}  # some SLO judged by GX has failing rows to show


def test_dagster_shows_the_failing_rows_keys_with_the_check(tmp_path: Path) -> None:
    import dagster as dg

    from dagster_project.build_api import BuildParams
    from dagster_project.defs.check_jobs import CHECK_JOB
    from dagster_project.defs.factory import build_definitions
    from dagster_project.settings import Settings

    db = make_orders(tmp_path / "orders.duckdb")
    settings = Settings(
        state_dir=tmp_path / "state", db_path=db, spec_paths=(SPEC,), results_db=tmp_path / "results.sqlite",
        build=BuildParams(as_of=AS_OF),
    )  # fmt: skip
    with dg.DagsterInstance.ephemeral() as instance:
        job = build_definitions(settings).resolve_job_def(CHECK_JOB)
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    by_name = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert by_name["amounts_in_range"].metadata["failing_rows"].value == "failing rows by order_id: 5, 6, 23"
    assert (
        by_name["order_emails_valid"].metadata["failing_rows"].value
        == "failing rows by order_id, email: (4, ***), (11, ***)"
    )
    assert "failing_rows" not in by_name["order_refs_well_formed"].metadata  # no failing rows: no samples taken


def test_a_sample_keeps_at_most_its_limit_of_rows_first_by_key(tmp_path: Path) -> None:
    db = make_orders(tmp_path / "orders.duckdb")
    slos = {s.id: s for s in _slos()}
    assert slos["notes_present"].samples is not None and slos["notes_present"].samples.limit == 3
    default = slos["amounts_in_range"].samples
    assert default is not None and default.limit == 5  # no limit written: the default
    one = dataclasses.replace(slos["order_refs_unique"], samples=dataclasses.replace(default, limit=2))
    with open_adapter(db) as adapter:
        (evaluation,) = evaluate(adapter, compile_plan([one]), AS_OF)
    assert evaluation.samples is not None and evaluation.samples.rows == ((12,), (13,))


def test_samples_are_shown_by_check_kept_in_the_store_and_shown_by_explain_and_the_report(tmp_path: Path) -> None:
    db, results = make_orders(tmp_path / "orders.duckdb"), tmp_path / "results.sqlite"
    common = ("--slos", str(SPEC), "--db", str(db), "--results", str(results))
    run = run_slo("check", *common, "--as-of", CHECKED_AT, "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    by_id = {r["slo"]: r for r in json.loads(run.stdout)["results"]}
    assert {slo: r["samples"] and r["samples"]["rows"] for slo, r in by_id.items()} == EXPECTED
    assert by_id["order_emails_valid"]["samples"] == {
        "keys": ["order_id", "email"], "limit": 5, "rows": [[4, "***"], [11, "***"]], "error": None,
    }  # fmt: skip
    with ResultsStore(results) as store:
        kept = {e.slo_id: e.extra.get("samples") for e in store.evaluations()}
    assert kept["customers_known"] == {"keys": ["order_id"], "limit": 5, "rows": [[7], [19]], "error": None}
    assert kept["order_refs_well_formed"] is None

    text = run_slo("check", *common, "--as-of", CHECKED_AT, "--no-record", cwd=tmp_path)
    assert "customers_known (main.orders): failing rows by order_id: 7, 19" in text.stdout
    assert "order_refs_unique (main.orders): failing rows by order_id (first 5): 12, 13, 25, 26, 27" in text.stdout
    assert "order_emails_valid (main.orders): failing rows by order_id, email: (4, ***), (11, ***)" in text.stdout
    assert "order_refs_well_formed (main.orders): failing" not in text.stdout

    explain = run_slo("explain", "web_amounts_in_range", *common[:2], "--results", str(results), cwd=tmp_path)
    assert explain.returncode == 0, explain.stderr
    assert "failing rows by order_id: 5, 23" in explain.stdout.splitlines()[2]
    as_data = run_slo("explain", "web_amounts_in_range", *common[:2], "--results", str(results), "--json")
    assert json.loads(as_data.stdout)["latest"]["samples"]["rows"] == [[5], [23]]

    out = tmp_path / "report"
    report = run_slo("report", *common, "--as-of", CHECKED_AT, "-o", str(out), cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    page = (out / "orders_samples.html").read_text()
    assert "id='samples-status_known'>failing rows by order_id: 9<" in page  # a breach: its samples under it


def test_a_pii_columns_value_never_reaches_the_store(tmp_path: Path) -> None:
    db, results = make_orders(tmp_path / "orders.duckdb"), tmp_path / "results.sqlite"
    run = run_slo(
        "check", "--slos", str(SPEC), "--db", str(db), "--results", str(results), "--as-of", CHECKED_AT, "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert SECRET not in run.stdout  # not in the results either
    with ResultsStore(results) as store:
        rows = [repr(dataclasses.astuple(e)) for e in store.evaluations()]
        sampled = {e.slo_id: e.extra["samples"]["rows"] for e in store.evaluations() if e.extra.get("samples")}
    assert sampled["order_emails_valid"] == [[4, "***"], [11, "***"]]  # the failing rows were sampled, masked
    assert not any(SECRET in row for row in rows)
    for file in tmp_path.iterdir():  # the store and any journal beside it, byte by byte
        if file.name.startswith("results.sqlite"):
            assert SECRET.encode() not in file.read_bytes(), file.name
    with duckdb.connect(str(db), read_only=True) as con:  # and it is there to leak
        assert con.execute("SELECT count(*) FROM orders WHERE email LIKE ?", [f"{SECRET}%"]).fetchone() == (2,)


class _SamplesFail:
    """A DuckDB adapter whose sample queries (and only those) fail; it records the time limit each query ran under."""

    def __init__(self, inner: EngineAdapter, error: Exception) -> None:
        self.inner, self.error = inner, error
        self.limits: list[tuple[str, float, int | None]] = []
        self.name, self.dialect, self.label = inner.name, inner.dialect, inner.label

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def fetch(self, sql: str, timeout_s: float, max_rows: int | None = 2) -> list[tuple[Any, ...]]:
        self.limits.append((sql, timeout_s, max_rows))
        if "ORDER BY" in sql:
            raise self.error
        return self.inner.fetch(sql, timeout_s, max_rows)


@pytest.mark.parametrize("error", [EngineError("Binder Error: oops"), RuntimeError("something else")])
def test_a_failing_sample_query_leaves_the_value_and_verdict_and_becomes_a_note(
    tmp_path: Path, error: Exception
) -> None:
    db = make_orders(tmp_path / "orders.duckdb")
    slos = [s for s in _slos() if s.id in ("customers_known", "amounts_in_range")]
    slos = [dataclasses.replace(s, timeout_s=7.0) for s in slos]
    with open_adapter(db) as adapter:
        plain = {e.slo.id: as_json(e) for e in evaluate(adapter, compile_plan(slos), AS_OF)}
        failing = _SamplesFail(adapter, error)
        broken = {e.slo.id: as_json(e) for e in evaluate(failing, compile_plan(slos), AS_OF)}
    for slo_id, record in broken.items():
        samples = record.pop("samples")
        assert samples["rows"] == [] and samples["error"].startswith("samples not taken: ")
        assert plain[slo_id].pop("samples")["rows"]  # it did sample without the failure
        assert record == plain[slo_id]  # value, verdict, status, error: all as they were
    sample_queries = [(timeout, rows) for sql, timeout, rows in failing.limits if "ORDER BY" in sql]
    assert sample_queries == [(7.0, 5), (7.0, 5)]  # under the SLO's time limit, bounded


def _spec_with(tmp_path: Path, slo_lines: str, head: str = "") -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(
        "version: 1\ndata_product: {id: p, owner: t}\n" + head + "slos:\n  - id: s\n    dimension: validity\n"
        "    dataset: main.orders\n    threshold: {min: 0.5}\n    severity: error\n    objective: 0.99\n" + slo_lines
    )
    return path


@pytest.mark.parametrize(
    ("head", "lines", "at", "message"),
    [
        ("", "    indicator: {type: row_count}\n    samples: {keys: [order_id]}\n", (11, "slos.0.samples"),
         "row_count judges no single row"),
        ("", "    indicator: {type: in_range, column: amount, min: 0}\n    samples: {keys: [order_id], limit: 101}\n",
         (11, "slos.0.samples.limit"), "less than or equal to 100"),
        ("", "    indicator: {type: in_range, column: amount, min: 0}\n    samples: {keys: [order_id], limit: 0}\n",
         (11, "slos.0.samples.limit"), "greater than or equal to 1"),
        ("", "    indicator: {type: in_range, column: amount, min: 0}\n    samples: {keys: [order id]}\n",
         (11, "slos.0.samples.keys.0"), "is not a column name"),
        ("", "    indicator: {type: in_range, column: amount, min: 0}\n    samples:\n      keys: [a, b, a]\n",
         (12, "slos.0.samples.keys.2"), "listed twice"),
        ("pii_columns: {main.orders: [email]}\n",
         "    indicator: {type: valid_format, column: email, format: email}\n    samples: {keys: [email]}\n",
         (12, "slos.0.samples.keys"), "every key column is marked as PII"),
    ],
)  # fmt: skip
def test_a_wrong_samples_declaration_is_refused_at_its_line(
    tmp_path: Path, head: str, lines: str, at: tuple[int, str], message: str
) -> None:
    _, issues = validate([_spec_with(tmp_path, lines, head)])
    assert [(i.line, i.path) for i in issues] == [at], issues
    assert message in issues[0].message


PII_KEYED = """\
  - id: customers_have_a_country
    description: Every customer has a country.
    dimension: completeness
    dataset: raw.customers
    indicator: {type: non_null_ratio, columns: [country]}
    samples: {keys: [customer_id, email]}
    threshold: {min: 0.99}
    severity: warn
    objective: 0.99
    windows: [7d]
    protects: {use_case: affinity_analysis}
"""


def test_a_sample_key_the_build_declares_personal_data_must_be_marked_as_pii(tmp_path: Path) -> None:
    """The example's build declares raw.customers.email personal data (SourceColumn(pii=True)): a spec sampling it
    as a key without listing it in pii_columns is refused at the key's line; listed, the spec is valid."""
    spec = tmp_path / "product_affinity.yaml"
    text = (REPO / "slo_definitions" / "product_affinity.yaml").read_text() + PII_KEYED
    spec.write_text(text)
    run = run_slo("validate", str(spec), cwd=tmp_path)
    line = text.splitlines().index("    samples: {keys: [customer_id, email]}") + 1
    assert run.returncode == EXIT_USAGE, run.stdout + run.stderr
    assert f"{spec}:{line}:" in run.stdout + run.stderr
    assert "key column 'email' is personal data in the build's source raw.customers" in run.stdout + run.stderr
    spec.write_text(text.replace("slos:\n", "pii_columns: {raw.customers: [email]}\nslos:\n", 1))
    assert run_slo("validate", str(spec), cwd=tmp_path).returncode == 0


def test_a_sample_key_missing_from_the_database_is_refused_at_its_line(tmp_path: Path) -> None:
    db = make_orders(tmp_path / "orders.duckdb")
    lines = "    indicator: {type: in_range, column: amount, min: 0}\n    samples:\n      keys: [order_id, nope]\n"
    spec = _spec_with(tmp_path, lines)
    run = run_slo("check", "--slos", str(spec), "--db", str(db), "--no-record", cwd=tmp_path)
    assert run.returncode == 2
    assert f"{spec}:12:" in run.stderr and "slos.0.samples.keys.1: column 'nope' does not exist" in run.stderr


@pytest.mark.heavy
def test_the_same_sample_keys_come_back_from_duckdb_postgres_and_spark(
    tmp_path: Path, postgres: PostgresCluster, spark: SparkSession
) -> None:
    db = make_orders(tmp_path / "orders.duckdb")
    plan = compile_plan(_slos())
    with copied_to_servers(db, postgres, spark, tmp_path / "spark-tables") as (pg, on_spark_adapter):
        on_postgres = _sampled(evaluate(pg, plan, AS_OF))
        on_spark = _sampled(evaluate(on_spark_adapter, plan, AS_OF))
    assert on_postgres == EXPECTED
    assert on_spark == EXPECTED
