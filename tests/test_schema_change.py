"""Schema change: a schema SLO can forbid columns it does not declare (`additional_columns: false`), and
`schema_change` counts the columns added, removed or retyped since the SLO's previous evaluation, which the results
store keeps (the history mechanism: the caller reads it in one query before evaluation; the engines never open the
store). The first evaluation is the baseline; without a store there is nothing to compare with, which is an error."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pytest

from dagster_project.checking import read_history
from dagster_project.indicators.base import History, HistoryWanted, Measured, Previous
from dagster_project.indicators.registry import make
from dagster_project.results.history import read_history as read_store_history
from dagster_project.results.store import ResultsStore
from dagster_project.slo.domain import Slo, Threshold
from dagster_project.spec.validate import validate
from tests.cli_support import run_slo
from tests.server_support import PostgresCluster

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

AS_OF = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)

CHANGE_SLO = """\
  - id: orders_schema_stable
    dimension: schema
    dataset: raw.orders
    indicator: {type: schema_change}
    threshold: {max: 0}
    severity: error
    objective: 0.99
"""

STRICT_SLO = """\
  - id: orders_schema_strict
    dimension: schema
    dataset: raw.orders
    indicator:
      type: schema
      columns: {order_id: BIGINT, amount: DOUBLE}
      additional_columns: false
    threshold: {min: 1.0}
    severity: error
    objective: 0.99
"""


def _spec(folder: Path, slos: str, server: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "shop.yaml"
    path.write_text(f"version: 1\ndata_product: {{id: shop, owner: data-team}}\n{server}slos:\n{slos}")
    return path


def _database(path: Path, *statements: str) -> Path:
    with duckdb.connect(str(path)) as con:
        for statement in statements:
            con.execute(statement)
    return path


def _check(spec: Path, db: Path, as_of: datetime, *extra: str) -> tuple[int, dict[str, dict[str, Any]], str]:
    done = run_slo(
        "check", "--json", "--db", str(db), "--slos", str(spec), "--as-of", as_of.isoformat(), *extra, cwd=spec.parent
    )
    payload = json.loads(done.stdout) if done.stdout.strip() else {"results": []}
    return done.returncode, {r["slo"]: r for r in payload["results"]}, done.stderr


def test_schema_change_records_a_baseline_then_counts_added_and_retyped_columns_across_runs(tmp_path: Path) -> None:
    db = _database(
        tmp_path / "warehouse.duckdb", "CREATE SCHEMA raw", "CREATE TABLE raw.orders (order_id BIGINT, amount DOUBLE)"
    )
    spec, store = _spec(tmp_path / "specs", CHANGE_SLO), tmp_path / "results.sqlite"
    code, first, stderr = _check(spec, db, AS_OF, "--results", str(store))
    assert code == 0, stderr
    baseline = first["orders_schema_stable"]
    assert baseline["observed"] == 0 and baseline["status"] == "ok"
    assert baseline["detail"].startswith("no previous evaluation: this one (2 columns) is the baseline")

    code, second, stderr = _check(spec, db, AS_OF + timedelta(hours=1), "--results", str(store))
    assert code == 0 and second["orders_schema_stable"]["observed"] == 0, stderr  # nothing changed

    _database(
        db, "ALTER TABLE raw.orders ADD COLUMN channel VARCHAR", "ALTER TABLE raw.orders ALTER amount TYPE BIGINT"
    )
    code, third, stderr = _check(spec, db, AS_OF + timedelta(hours=2), "--results", str(store))
    changed = third["orders_schema_stable"]
    assert code == 1 and changed["status"] == "FAIL" and changed["observed"] == 2, stderr
    assert "added channel VARCHAR" in changed["detail"] and "retyped amount DOUBLE -> BIGINT" in changed["detail"]
    assert changed["detail"].endswith(f"(since {(AS_OF + timedelta(hours=1)).isoformat()})")

    # The next run compares with the changed schema, which the store now keeps: no new change.
    code, fourth, stderr = _check(spec, db, AS_OF + timedelta(hours=3), "--results", str(store))
    assert code == 0 and fourth["orders_schema_stable"]["observed"] == 0, stderr
    with ResultsStore(store) as kept:
        columns = [e.extra["kept"]["columns"] for e in kept.evaluations("orders_schema_stable")]
    assert columns[0] == {"order_id": "BIGINT", "amount": "DOUBLE"}
    assert columns[-1] == {"order_id": "BIGINT", "amount": "BIGINT", "channel": "VARCHAR"}


def test_schema_change_removed_column_is_named_and_counted(tmp_path: Path) -> None:
    indicator = make("schema_change")
    before = Previous(AS_OF, 0.0, "ok", {"columns": {"a": "BIGINT", "b": "VARCHAR"}})
    judged = indicator.judge(Measured(None, kept={"columns": {"a": "BIGINT"}}), History((before,)), AS_OF)
    assert judged.value == 1.0 and judged.detail is not None and judged.detail.startswith("removed b VARCHAR")
    assert judged.kept == {"columns": {"a": "BIGINT"}}  # the new schema is what the next run compares with


def test_schema_change_without_a_results_store_is_an_error_not_a_silent_pass(tmp_path: Path) -> None:
    db = _database(tmp_path / "warehouse.duckdb", "CREATE SCHEMA raw", "CREATE TABLE raw.orders (order_id BIGINT)")
    spec, store = _spec(tmp_path / "specs", CHANGE_SLO), tmp_path / "never.sqlite"
    code, results, _stderr = _check(spec, db, AS_OF, "--results", str(store), "--no-record")
    result = results["orders_schema_stable"]
    assert code == 1 and result["status"] == "ERROR" and result["observed"] is None
    assert "no results store to compare with" in result["error"] and not store.exists()


def test_additional_columns_false_fails_on_an_undeclared_column_and_names_it(tmp_path: Path) -> None:
    db = _database(
        tmp_path / "warehouse.duckdb",
        "CREATE SCHEMA raw",
        "CREATE TABLE raw.orders (order_id BIGINT, amount DOUBLE, card_number VARCHAR)",
    )
    lenient = STRICT_SLO.replace("orders_schema_strict", "orders_schema").replace("additional_columns: false", "")
    spec = _spec(tmp_path / "specs", STRICT_SLO + lenient)
    code, results, stderr = _check(spec, db, AS_OF, "--no-record")
    strict = results["orders_schema_strict"]
    assert code == 1 and strict["status"] == "FAIL", stderr
    assert strict["observed"] == pytest.approx(2 / 3)
    assert strict["detail"] == "undeclared card_number" and strict["error"] is None
    assert results["orders_schema"]["observed"] == 1.0 and results["orders_schema"]["status"] == "ok"


@pytest.mark.parametrize(
    ("indicator", "needle", "message"),
    [
        ("{type: schema, columns: {a: BIGINT}, additional_columns: sometimes}", "sometimes", "valid boolean"),
        ("{type: schema_change, columns: {a: BIGINT}}", "columns", "columns"),
    ],
)
def test_bad_schema_fields_are_reported_at_their_file_and_line(
    tmp_path: Path, indicator: str, needle: str, message: str
) -> None:
    slo = CHANGE_SLO.replace("{type: schema_change}", indicator)
    spec = _spec(tmp_path, slo)
    _specs, issues = validate([spec])
    line = next(n for n, text in enumerate(spec.read_text().splitlines(), start=1) if needle in text)
    assert issues and any(f"{spec}:{line}:" in str(i) and message in str(i) for i in issues), [str(i) for i in issues]


def _slo(slo_id: str, kind: str = "schema_change") -> Slo:
    return Slo(
        id=slo_id,
        product="p",
        dimension="schema",
        dataset="s.t",
        indicator=make(kind),
        threshold=Threshold.of("max", 0),
        severity="error",
        objective=0.99,
        windows_s=(86400.0,),
        protects=("goal", "g"),
    )


def _record(slo_id: str, observed: float | None, kept: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "slo": slo_id,
        "product": "p",
        "dimension": "schema",
        "dataset": "s.t",
        "indicator": "schema_change",
        "observed": observed,
        "threshold": {"bound": "max", "value": 0, "min": None, "max": 0},
        "passed": None if observed is None else observed == 0,
        "status": "ERROR" if observed is None else "ok",
        "severity": "error",
        "engine": "native",
        "error": None if observed is not None else "boom",
        "kept": kept,
    }


def test_history_is_what_was_observed_up_to_the_evaluation_time_oldest_first_cut_per_slo(tmp_path: Path) -> None:
    store = tmp_path / "results.sqlite"
    with ResultsStore(store) as s:
        for hour in range(5):
            s.append(f"r{hour}", AS_OF + timedelta(hours=hour), [_record("a", hour, {"n": hour}), _record("b", hour)])
        s.append("err", AS_OF + timedelta(hours=5), [_record("a", None)])  # an error: not history
        s.append("later", AS_OF + timedelta(hours=9), [_record("a", 9.0)])  # after the evaluation time
        wanted = {
            "a": HistoryWanted(last=2),
            "b": HistoryWanted(last=None, window_s=3 * 3600),
            "never": HistoryWanted(),
        }
        history = read_store_history(s, wanted, AS_OF + timedelta(hours=6))
    # a: its last two with a value (the error at hour 5 is not history, hour 9 is after the evaluation time).
    assert [(p.observed, p.kept) for p in history["a"].evaluations] == [(3.0, {"n": 3}), (4.0, {"n": 4})]
    assert history["a"].last is not None and history["a"].last.evaluated_at == AS_OF + timedelta(hours=4)
    # b: every evaluation of the last three hours, oldest first.
    assert [p.observed for p in history["b"].evaluations] == [3.0, 4.0]
    assert history["never"] == History() and history["never"].available


def test_the_caller_reads_history_only_for_slos_that_need_it_and_a_missing_store_is_a_first_run(
    tmp_path: Path,
) -> None:
    slos = [_slo("changes"), _slo("plain", "row_count")]
    assert read_history(slos, AS_OF, None) == {}  # no store: the evaluator says so
    first = read_history(slos, AS_OF, tmp_path / "not_yet.sqlite")
    assert first == {"changes": History()} and not (tmp_path / "not_yet.sqlite").exists()


@pytest.mark.heavy
def test_schema_change_on_postgres_with_a_postgres_results_store(tmp_path: Path, postgres: PostgresCluster) -> None:
    data, results = postgres.create_database(), postgres.create_database()
    postgres.execute("CREATE SCHEMA raw; CREATE TABLE raw.orders (order_id bigint, amount double precision)", data)
    server = (
        f"server: {{type: postgres, host: 127.0.0.1, port: {postgres.port}, database: {data}, "
        f"user: {postgres.user}, password_env: SHOP_PG_PASSWORD}}\n"
    )
    spec = _spec(tmp_path / "specs", CHANGE_SLO, server)
    env = {"SHOP_PG_PASSWORD": postgres.password, **postgres.env()}

    def check(as_of: datetime) -> tuple[int, dict[str, Any], str]:
        done = run_slo(
            "check", "--json", "--slos", str(spec), "--results", postgres.url(results), "--as-of", as_of.isoformat(),
            "--db", str(tmp_path / "unused.duckdb"), cwd=tmp_path, env=env,
        )  # fmt: skip
        payload = json.loads(done.stdout) if done.stdout.strip() else {"results": [{}]}
        return done.returncode, payload["results"][0], done.stderr

    code, first, stderr = check(AS_OF)
    assert code == 0 and first["observed"] == 0 and "baseline" in first["detail"], stderr
    postgres.execute("ALTER TABLE raw.orders ADD COLUMN channel text; ALTER TABLE raw.orders DROP COLUMN amount", data)
    code, second, stderr = check(AS_OF + timedelta(hours=1))
    assert code == 1 and second["observed"] == 2, stderr
    assert "added channel" in second["detail"] and "removed amount" in second["detail"]


@pytest.mark.heavy
def test_schema_change_and_undeclared_columns_agree_on_duckdb_postgres_and_spark(
    tmp_path: Path, postgres: PostgresCluster, spark: SparkSession
) -> None:
    import psycopg

    from dagster_project.datagen.transfer import to_parquet_folder, to_postgres
    from dagster_project.engines.adapter import EngineAdapter
    from dagster_project.engines.duckdb_adapter import open_adapter
    from dagster_project.engines.evaluate import evaluate
    from dagster_project.engines.postgres import PostgresAdapter
    from dagster_project.engines.spark import SparkAdapter
    from dagster_project.slo.plan import compile_plan

    db = _database(
        tmp_path / "agree.duckdb",
        "CREATE SCHEMA m",
        "CREATE TABLE m.orders (order_id BIGINT, amount DOUBLE, note VARCHAR)",
        "INSERT INTO m.orders VALUES (1, 2.5, 'x')",
    )
    strict = Slo(
        id="strict",
        product="p",
        dimension="schema",
        dataset="m.orders",
        indicator=make("schema", columns={"order_id": "BIGINT", "amount": "DOUBLE"}, additional_columns=False),
        threshold=Threshold.of("min", 1.0),
        severity="error",
        objective=0.99,
        windows_s=(86400.0,),
        protects=("goal", "g"),
    )
    changes = Slo(**{**_slo("changes").__dict__, "dataset": "m.orders"})
    plan, naive = compile_plan([strict, changes]), AS_OF.replace(tzinfo=None)

    def judge(adapter: EngineAdapter) -> list[tuple[str, float | None, str | None]]:
        first = {e.slo.id: e for e in evaluate(adapter, plan, naive, {"changes": History()})}
        kept = dict((first["changes"].kept or {})["columns"])
        assert set(kept) == {"order_id", "amount", "note"}, adapter.name
        # As if `note` came after the previous evaluation: that evaluation's columns without it.
        before = Previous(AS_OF, 0.0, "ok", {"columns": {k: v for k, v in kept.items() if k != "note"}})
        second = {e.slo.id: e for e in evaluate(adapter, plan, naive, {"changes": History((before,))})}
        return [
            ("baseline", first["changes"].observed, None),
            ("strict", first["strict"].observed, first["strict"].detail),
            ("changed", second["changes"].observed, (second["changes"].detail or "").split(" (since")[0]),
        ]

    with open_adapter(db) as duck:
        on_duckdb = judge(duck)
    database = postgres.create_database()
    to_postgres(db, postgres.dsn(database))
    pg: EngineAdapter = PostgresAdapter.from_connection(psycopg.connect(postgres.dsn(database)), "postgres")
    try:
        on_postgres = judge(pg)
    finally:
        pg.close()
    to_parquet_folder(db, tmp_path / "spark-tables")
    on_spark_adapter = SparkAdapter(spark)
    on_spark_adapter.register_parquet_tables(tmp_path / "spark-tables", replace=True)
    on_spark = judge(on_spark_adapter)
    assert on_duckdb[0] == ("baseline", 0.0, None) and on_duckdb[1] == ("strict", 2 / 3, "undeclared note")
    assert on_duckdb[2][:2] == ("changed", 1.0) and (on_duckdb[2][2] or "").startswith("added note ")
    for engine, got in (("postgres", on_postgres), ("spark", on_spark)):
        assert [g[:2] for g in got] == [d[:2] for d in on_duckdb], engine
        assert got[1][2] == "undeclared note" and (got[2][2] or "").startswith("added note "), engine
