"""The spec against a database, before anything is evaluated: `slo check` and `slo validate --db` report every
missing table or column, wrong column type, custom SQL, consumer query or measure that does not run there, as
file:line:col: dotted.path: message, and exit 2 whatever the SLO's severity; an SLO that still fails at run time is
recorded with its spec location."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from dagster_project.results.store import ResultsStore
from dagster_project.spec.validate import validate
from dagster_project.verify.database import database_issues
from dagster_project.warehouse.connection import connect
from tests.conftest import AS_OF, REPO

MINIMAL = (REPO / "tests" / "specs" / "good" / "minimal.yaml").read_text()

EXTRA_SLOS = """\
  - id: channels_known
    description: Known channels.
    dimension: validity
    dataset: raw.orders
    indicator: {type: in_set, column: channel, values: [web, app]}
    threshold: {min: 0.9}
    severity: warn
    objective: 0.99
    windows: [7d]
    protects: {use_case: targeting}
  - id: amounts_in_range
    description: Amounts are positive.
    dimension: validity
    dataset: raw.orders
    indicator: {type: in_range, column: amount, min: 0}
    threshold: {min: 0.9}
    severity: warn
    objective: 0.99
    windows: [7d]
    protects: {use_case: targeting}
  - id: custom_rule
    description: A custom rule.
    dimension: accuracy
    dataset: raw.orders
    indicator: {type: custom_sql, sql: "SELECT avg(CASE WHEN amount > 0 THEN 1.0 ELSE 0.0 END) FROM raw.orders"}
    threshold: {min: 0.5}
    severity: warn
    objective: 0.99
    windows: [7d]
    protects: {use_case: targeting}
"""


def make_database(path: Path) -> Path:
    """A small published database and its landing file, with what the minimal spec names."""
    with connect(path, landing=path.with_name(path.name + ".landing")) as con:
        con.execute("CREATE SCHEMA product_affinity")
        con.execute("CREATE TABLE product_affinity.north_star_daily (metric_date DATE, metric VARCHAR, value DOUBLE)")
        con.execute("INSERT INTO product_affinity.north_star_daily VALUES ('2026-11-26', 'share', 0.7)")
        con.execute(
            "CREATE TABLE product_affinity.cross_sell_recommendations"
            " (customer_key VARCHAR, rank BIGINT, product_id BIGINT, score DOUBLE)"
        )
        con.execute("CREATE TABLE raw.orders (order_id BIGINT, order_ts TIMESTAMP, channel VARCHAR, amount DOUBLE)")
        con.execute("INSERT INTO raw.orders VALUES (1, '2026-11-27 05:00:00', 'web', 12.5)")
    return path


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_database(tmp_path_factory.mktemp("db") / "warehouse.duckdb")


def write_spec(folder: Path, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "spec.yaml").write_text(text)
    return folder / "spec.yaml"


def at(spec: Path, needle: str) -> str:
    """'file:line:col' of the first occurrence of `needle` in the spec (where the loader places the issue)."""
    for number, line in enumerate(spec.read_text().splitlines(), start=1):
        if needle in line:
            return f"{spec}:{number}:{line.index(needle) + 1}"
    raise AssertionError(f"{needle!r} not in {spec}")


def slo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dagster_project.cli.main", *args], cwd=REPO, capture_output=True, text=True, timeout=300
    )


def test_the_minimal_spec_fits_the_small_database(tmp_path: Path, database: Path) -> None:
    specs, issues = validate([write_spec(tmp_path, MINIMAL + EXTRA_SLOS)])
    assert issues == []
    assert database_issues(specs, database) == []


def test_only_sql_written_in_the_spec_is_checked_as_free_sql_before_it_is_prepared(
    tmp_path: Path, database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each check costs two parses; an indicator's own query is rendered from a tree (quoted names, literal values)
    and is prepared as the engine runs it."""
    from dagster_project.spec.free_sql import require_single_select
    from dagster_project.spec.models import model_parts

    specs, issues = validate([write_spec(tmp_path, MINIMAL + EXTRA_SLOS)])
    assert issues == []
    checked: list[str] = []

    def recording(sql: str, *args: object, **kwargs: object) -> None:
        checked.append(sql)
        require_single_select(sql, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("dagster_project.verify.database.require_single_select", recording)
    assert database_issues(specs, database) == []
    spec = specs[0].spec
    written = {q.sql for q in spec.consumer_queries}
    written |= {getattr(s.indicator, "sql") for s in spec.slos if s.indicator.type == "custom_sql"}  # noqa: B009
    measures = model_parts(spec)[0]
    assert written and measures and len(spec.slos) > len(written)
    assert written <= set(checked)
    # The rest are the measures' queries, each built around the expression the spec writes.
    rest = [sql for sql in checked if sql not in written]
    assert len(rest) == len(measures) and all(f"({m.expression})" in sql for m, sql in zip(measures, rest, strict=True))


# (text replaced in MINIMAL + EXTRA_SLOS, by what, where the issue is written, its path, its message)
MISTAKES = {
    "missing_table": (
        "dataset: raw.orders\n    indicator: {type: max_age",
        "dataset: raw.order\n    indicator: {type: max_age",
        "dataset: raw.order",
        "slos.0.dataset",
        "dataset 'raw.order' does not exist",
    ),
    "missing_column": (
        "column: order_ts}",
        "column: ordered_at}",
        "column: ordered_at",
        "slos.0.indicator.column",
        "column 'ordered_at' does not exist in raw.orders (has amount, channel, order_id, order_ts)",
    ),
    "max_age_on_text": (
        "column: order_ts}",
        "column: channel}",
        "column: channel}",
        "slos.0.indicator.column",
        "max_age needs a timestamp or date column: raw.orders.channel is VARCHAR",
    ),
    "range_on_text": (
        "column: amount, min: 0",
        "column: channel, min: 0",
        "column: channel, min: 0",
        "slos.2.indicator.column",
        "in_range needs a numeric column: raw.orders.channel is VARCHAR",
    ),
    "custom_sql_missing_column": (
        "WHEN amount > 0",
        "WHEN amount_eur > 0",
        'sql: "SELECT',
        "slos.3.indicator.sql",
        'SQL does not run here: Binder Error: Referenced column "amount_eur" not found',
    ),
    "custom_sql_text": (
        "avg(CASE WHEN amount > 0 THEN 1.0 ELSE 0.0 END)",
        "max(channel)",
        'sql: "SELECT',
        "slos.3.indicator.sql",
        "SQL returns VARCHAR, not a number",
    ),
    "measure_misspelt_column": (
        "expression: avg(value)",
        "expression: sum(valeu)",
        "expression: sum(valeu)",
        "semantic_model.measures.0.expression",
        'expression does not run on product_affinity.north_star_daily: Binder Error: Referenced column "valeu"',
    ),
    "measure_text": (
        "expression: avg(value)",
        "expression: max(metric)",
        "expression: max(metric)",
        "semantic_model.measures.0.expression",
        "expression gives VARCHAR, not a number",
    ),
    "time_dimension_text": (
        "column: metric_date",
        "column: metric",
        "column: metric",
        "semantic_model.dimensions.0.column",
        "the North Star's time dimension needs a timestamp or date column",
    ),
    "consumer_query_missing_column": (
        "sql: SELECT 1",
        "sql: SELECT nothing FROM product_affinity.cross_sell_recommendations",
        "sql: SELECT nothing",
        "consumer_queries.0.sql",
        'SQL does not run here: Binder Error: Referenced column "nothing" not found',
    ),
}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_check_reports_a_spec_that_does_not_fit_the_database_at_its_place_and_exits_2(
    tmp_path: Path, database: Path, mistake: str
) -> None:
    old, new, needle, path, message = MISTAKES[mistake]
    text = MINIMAL + EXTRA_SLOS
    assert old in text
    spec = write_spec(tmp_path / "spec", text.replace(old, new, 1))
    store = tmp_path / "results.sqlite"
    result = slo("check", "--db", str(database), "--slos", str(spec), "--results", str(store))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{at(spec, needle)}: {path}: {message}"), lines
    assert lines[1:] == ["1 problem(s) found; nothing was evaluated"]
    assert "Traceback" not in result.stderr and not store.exists()  # nothing evaluated, nothing recorded
    # `slo validate --db` says the same.
    validated = slo("validate", str(spec), "--db", str(database))
    assert validated.returncode == 2
    assert [line for line in validated.stdout.splitlines() if ": warning: " not in line] == lines[:1]


def test_check_reports_every_mismatch_at_once_even_for_warn_slos(tmp_path: Path, database: Path) -> None:
    text = MINIMAL + EXTRA_SLOS
    for name in ("missing_column", "range_on_text", "custom_sql_missing_column", "measure_misspelt_column"):
        old, new, *_ = MISTAKES[name]
        text = text.replace(old, new, 1)
    spec = write_spec(tmp_path / "spec", text)
    result = slo("check", "--db", str(database), "--slos", str(spec), "--no-record")
    assert result.returncode == 2
    paths = [line.split(": ")[1] for line in result.stderr.splitlines()[:-1]]
    assert paths == [
        "semantic_model.measures.0.expression",
        "slos.0.indicator.column",
        "slos.2.indicator.column",  # severity warn: still a spec that does not fit
        "slos.3.indicator.sql",
    ]


def test_a_datasets_scans_are_prepared_as_one_query_as_the_engine_runs_them(
    tmp_path: Path, database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SLOs scanning raw.orders (max_age, in_set, in_range) are one query when evaluated (engines/evaluate.py:
    _scan): the database check prepares that query, not one per SLO."""
    from dagster_project.engines.duckdb_adapter import DuckDBAdapter
    from dagster_project.verify.database import _PREPARE_AS_OF

    specs, issues = validate([write_spec(tmp_path, MINIMAL + EXTRA_SLOS)])
    assert issues == []
    prepared: list[str] = []
    describe = DuckDBAdapter.describe

    def recording(self: DuckDBAdapter, sql: str, timeout_s: float) -> object:
        prepared.append(sql)
        return describe(self, sql, timeout_s)

    monkeypatch.setattr(DuckDBAdapter, "describe", recording)
    assert database_issues(specs, database) == []
    from dagster_project.slo import rendered
    from dagster_project.slo.from_spec import all_slos

    scans = [s for s in all_slos([specs[0].spec]) if s.dataset == "raw.orders" and s.definition.measured == "scan"]
    assert {s.id for s in scans} == {"orders_fresh", "channels_known", "amounts_in_range"}
    fused = rendered.scan("raw.orders", scans, ["channel"], "duckdb", _PREPARE_AS_OF)
    assert prepared.count(fused) == 1
    assert not any(rendered.scan_alone(s, ["channel"], "duckdb", _PREPARE_AS_OF) in prepared for s in scans)


def test_a_scan_that_does_not_bind_is_reported_at_each_of_its_slos(tmp_path: Path) -> None:
    """raw.orders is a view whose table was dropped: the catalog still lists its columns, so every rule above passes,
    but no query on it binds. The dataset's one scan fails to prepare; each of its SLOs is then prepared alone, and
    each is reported where it is written (exit 2, nothing evaluated)."""
    db = make_database(tmp_path / "warehouse.duckdb")
    with connect(db, landing=db.with_name(db.name + ".landing")) as con:
        con.execute("ALTER TABLE raw.orders RENAME TO orders_kept")
        con.execute("CREATE VIEW raw.orders AS SELECT * FROM raw.orders_kept")
        con.execute("DROP TABLE raw.orders_kept")
    spec = write_spec(tmp_path / "spec", MINIMAL + EXTRA_SLOS)
    result = slo("check", "--db", str(db), "--slos", str(spec), "--no-record")
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    unbound = [line for line in lines if "cannot be evaluated here" in line and "orders_kept does not exist" in line]
    # The three scans of raw.orders (max_age, in_set, in_range), each at its own indicator; the custom SQL on it too.
    assert [line.split(": ")[1] for line in unbound] == ["slos.0.indicator", "slos.1.indicator", "slos.2.indicator"]
    assert len({line.split(":")[1] for line in unbound}) == 3
    assert lines[-1] == "4 problem(s) found; nothing was evaluated"


def test_an_slo_that_fails_at_run_time_is_recorded_with_its_spec_location(tmp_path: Path, database: Path) -> None:
    # Prepares (binds) fine, fails only when it runs.
    text = (MINIMAL + EXTRA_SLOS).replace(
        "avg(CASE WHEN amount > 0 THEN 1.0 ELSE 0.0 END)", "error('boom at run time')::DOUBLE"
    )
    spec = write_spec(tmp_path / "spec", text)
    store = tmp_path / "results.sqlite"
    args = ["--slos", str(spec), "--json", "--results", str(store), "--as-of", AS_OF.isoformat()]
    result = slo("check", "--db", str(database), *args)
    assert result.returncode == 0, result.stderr  # a warn SLO that could not be evaluated does not block
    (custom,) = [r for r in json.loads(result.stdout)["results"] if r["slo"] == "custom_rule"]
    where = at(spec, "- id: custom_rule").rsplit(":", 1)[0]  # file:line
    assert custom["passed"] is None and custom["error"].startswith(f"{where}: ")
    assert "boom at run time" in custom["error"]
    with ResultsStore(store) as kept:
        (stored,) = [e for e in kept.evaluations() if e.slo_id == "custom_rule"]
    assert stored.error == custom["error"]


def test_check_still_evaluates_a_spec_that_fits(tmp_path: Path, database: Path) -> None:
    spec = write_spec(tmp_path / "spec", MINIMAL + EXTRA_SLOS)
    args = ["--slos", str(spec), "--json", "--no-record", "--as-of", AS_OF.isoformat()]
    result = slo("check", "--db", str(database), *args)
    assert result.returncode == 0, result.stderr
    assert {r["slo"]: r["passed"] for r in json.loads(result.stdout)["results"]} == {
        "orders_fresh": True,
        "channels_known": True,
        "amounts_in_range": True,
        "custom_rule": True,
    }


def test_a_column_a_schema_slo_promises_is_data_to_record_not_a_spec_mistake(tmp_path: Path) -> None:
    # The source's export renamed order_ts: the schema SLO that promises it fails and is recorded, the SLO reading
    # it records an error - exit 1 as for any failing error SLO, not exit 2 with nothing recorded.
    db = tmp_path / "warehouse.duckdb"
    with connect(db, landing=db.with_name(db.name + ".landing")) as con:
        con.execute("CREATE SCHEMA product_affinity")
        con.execute("CREATE TABLE product_affinity.north_star_daily (metric_date DATE, metric VARCHAR, value DOUBLE)")
        con.execute(
            "CREATE TABLE product_affinity.cross_sell_recommendations"
            " (customer_key VARCHAR, rank BIGINT, product_id BIGINT, score DOUBLE)"
        )
        con.execute("CREATE TABLE raw.orders (order_id BIGINT, ordered_at TIMESTAMP, channel VARCHAR, amount DOUBLE)")
    schema_slo = """\
  - id: orders_schema
    description: The orders export keeps its columns.
    dimension: schema
    dataset: raw.orders
    indicator: {type: schema, columns: {order_id: BIGINT, order_ts: TIMESTAMP}}
    threshold: {min: 1.0}
    severity: error
    objective: 0.99
    windows: [7d]
    protects: {use_case: targeting}
"""
    spec = write_spec(tmp_path / "spec", MINIMAL + schema_slo)
    store = tmp_path / "results.sqlite"
    result = slo("check", "--db", str(db), "--slos", str(spec), "--results", str(store), "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    by_slo = {r["slo"]: r for r in json.loads(result.stdout)["results"]}
    assert by_slo["orders_schema"]["passed"] is False and "order_ts" in (by_slo["orders_schema"]["detail"] or "")
    assert by_slo["orders_fresh"]["passed"] is None and by_slo["orders_fresh"]["error"]
    with ResultsStore(store) as kept:
        assert kept.count() == 2
    # Without the schema SLO the same database is a spec mistake, reported before anything runs.
    bare = write_spec(tmp_path / "bare", MINIMAL)
    refused = slo("check", "--db", str(db), "--slos", str(bare), "--results", str(tmp_path / "other.sqlite"))
    assert refused.returncode == 2 and "column 'order_ts' does not exist in raw.orders" in refused.stderr


# A query that would run for hours: ten billion rows crossed with themselves.
# Runs for hours without reading a file or a table function (both refused by validation): a recursive CTE.
RUNAWAY = (
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 10000000000)"
    " SELECT count(*)::DOUBLE FROM r"
)


def test_runaway_custom_sql_times_out_as_an_error_of_its_slo_and_the_others_still_run(
    tmp_path: Path, database: Path
) -> None:
    runaway = f"""\
  - id: runaway
    description: Never finishes.
    dimension: accuracy
    dataset: raw.orders
    indicator: {{type: custom_sql, sql: "{RUNAWAY}"}}
    threshold: {{min: 0.5}}
    severity: error
    objective: 0.99
    windows: [7d]
    protects: {{use_case: targeting}}
    timeout: 1s
"""
    spec = write_spec(tmp_path / "spec", MINIMAL + runaway + EXTRA_SLOS)
    store = tmp_path / "results.sqlite"
    args = ["--slos", str(spec), "--json", "--results", str(store), "--as-of", AS_OF.isoformat()]
    result = slo("check", "--db", str(database), *args)
    assert result.returncode == 1, result.stderr  # an error SLO that could not be evaluated blocks
    assert "Traceback" not in result.stderr
    by_slo = {r["slo"]: r for r in json.loads(result.stdout)["results"]}
    where = at(spec, "- id: runaway").rsplit(":", 1)[0]
    assert by_slo["runaway"]["passed"] is None
    assert by_slo["runaway"]["error"] == f"{where}: timed out after 1s"
    others = {slo_id: r["passed"] for slo_id, r in by_slo.items() if slo_id != "runaway"}
    assert others == {"orders_fresh": True, "channels_known": True, "amounts_in_range": True, "custom_rule": True}
    with ResultsStore(store) as kept:
        (stored,) = [e for e in kept.evaluations() if e.slo_id == "runaway"]
    assert stored.error == by_slo["runaway"]["error"]


def test_a_runaway_consumer_query_times_out_as_an_error_of_its_latency_slo(tmp_path: Path, database: Path) -> None:
    latency = """\
  - id: lookup_fast
    description: The lookup answers quickly.
    dimension: performance
    dataset: raw.orders
    indicator: {type: query_latency, query: lookup, runs: 3}
    threshold: {max: 10m}
    severity: warn
    objective: 0.99
    windows: [7d]
    protects: {use_case: targeting}
    timeout: 500ms
"""
    text = (MINIMAL + latency).replace("sql: SELECT 1", f'sql: "{RUNAWAY}"')
    spec = write_spec(tmp_path / "spec", text)
    args = ["--slos", str(spec), "--json", "--no-record", "--as-of", AS_OF.isoformat()]
    result = slo("check", "--db", str(database), *args)
    assert result.returncode == 0, result.stderr  # a warn SLO
    by_slo = {r["slo"]: r for r in json.loads(result.stdout)["results"]}
    assert by_slo["lookup_fast"]["passed"] is None and by_slo["lookup_fast"]["error"].endswith(
        ": timed out after 500ms"
    )
    assert by_slo["orders_fresh"]["passed"] is True


def test_a_runaway_measure_times_out_as_a_measure_without_a_value(database: Path) -> None:
    from dagster_project.engines.measures import measure_values
    from dagster_project.engines.native import open_for_checks

    text = MINIMAL.replace("expression: avg(value)", f"expression: avg(value) + ({RUNAWAY})")
    (runaway,), issues = validate([write_spec(database.parent / "runaway_measure", text)])
    (plain,), more = validate([write_spec(database.parent / "plain_measure", MINIMAL)])
    assert issues == more == []
    with open_for_checks(database) as con:
        values = measure_values(con, runaway.spec, AS_OF.replace(tzinfo=None), timeout_s=0.5)
        assert values["share"].value is None and values["share"].error == "timed out after 500ms"
        # The connection is usable afterwards: the interrupt does not reach the next query.
        assert measure_values(con, plain.spec, AS_OF.replace(tzinfo=None), timeout_s=60)["share"].value == 0.7


class _SlowToBind:
    """A connection whose binding never ends until it is interrupted (as DuckDB's own would, for SQL that runs while
    it is bound); everything else goes to the real connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con, self.interrupted = con, threading.Event()

    def execute(self, *args: object) -> object:
        return self.con.execute(*args)  # type: ignore[arg-type]

    def sql(self, _query: str) -> object:
        if self.interrupted.wait(timeout=60):
            raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")
        return self.con.sql("SELECT 1.0")  # never interrupted: prepared "fine" after a minute

    def interrupt(self) -> None:
        self.interrupted.set()


def test_preparing_sql_is_bounded_by_the_timeout_of_its_slo(tmp_path: Path, database: Path) -> None:
    from dagster_project.engines.duckdb_adapter import DuckDBAdapter
    from dagster_project.engines.native import open_for_checks
    from dagster_project.verify.database import _Checker

    with_timeout = MINIMAL + EXTRA_SLOS.replace(
        "protects: {use_case: targeting}\n", "protects: {use_case: targeting}\n    timeout: 200ms\n"
    )
    specs, issues = validate([write_spec(tmp_path / "spec", with_timeout)])
    assert issues == []
    with open_for_checks(database) as con:
        adapter = DuckDBAdapter(con, label=str(database))
        checker = _Checker(adapter)
        adapter.con = _SlowToBind(con)  # type: ignore[assignment]
        checker.slo(specs[0], 3)  # custom_rule: its SQL is prepared
    assert [(i.path, i.message) for i in checker.issues] == [
        ("slos.3.indicator.sql", "SQL does not run here: timed out after 200ms")
    ]


def test_a_row_filter_naming_a_missing_column_is_the_slos_error_at_run_time_not_a_spec_problem(
    tmp_path: Path, database: Path
) -> None:
    """The database check prepares a scan SLO's aggregate without its row filter, as it always has (the check and
    the evaluation share their rendered texts only where there is no filter): the filter's mistake is that SLO's
    error result, and the others still run."""
    filtered = """
  - id: orders_not_ahead
    description: No order dated ahead.
    dimension: validity
    dataset: raw.orders
    indicator: {type: not_in_future, column: order_ts, tolerance: 5m}
    where: "no_such_col = 1"
    threshold: {min: 1.0}
    severity: error
    objective: 0.99
    windows: [7d]
"""
    spec = write_spec(tmp_path / "spec", MINIMAL + filtered)
    result = slo("check", "--db", str(database), "--slos", str(spec), "--no-record", "--json")
    assert result.returncode == 1, result.stderr
    by_slo = {r["slo"]: r for r in json.loads(result.stdout)["results"]}
    assert "no_such_col" in by_slo["orders_not_ahead"]["error"]
    assert by_slo["orders_fresh"]["error"] is None


class _CountingConnection:
    """A connection that counts the catalog reads made through it."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con, self.catalog_reads = con, 0

    def execute(self, sql: str, *args: object) -> duckdb.DuckDBPyConnection:
        self.catalog_reads += "duckdb_columns()" in sql
        return self.con.execute(sql, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self.con, name)


def test_a_connection_opened_for_checks_reads_its_catalog_once_and_a_writable_one_every_time(tmp_path: Path) -> None:
    """`slo check`'s database check and its evaluation share one read-only connection, whose tables cannot change
    while it is open: its catalog is read once. A writable connection (a build creating tables) reads it anew."""
    from dagster_project.engines.duckdb_adapter import DuckDBAdapter, open_adapter

    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE t (a INTEGER)")
    with open_adapter(db) as adapter:
        counting = _CountingConnection(adapter.con)
        adapter.con = counting  # type: ignore[assignment]
        first, second = adapter.catalog(), adapter.catalog()
        assert first == second and first.exists("main.t")
        assert counting.catalog_reads == 1
    with duckdb.connect() as con:
        writable = DuckDBAdapter(con)
        assert not writable.catalog().exists("temp.u")
        con.execute("CREATE TEMP TABLE u (b INTEGER)")
        assert writable.catalog().exists("temp.u")
