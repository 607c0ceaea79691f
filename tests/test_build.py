"""The data product built by the real Dagster job: contract columns, metadata, planted pairs found, no PII."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from dagster_project.datagen.catalog import PLANTED_PAIRS
from dagster_project.defs.factory import build_definitions
from dagster_project.product.tables import BUILT_TABLES, PRODUCT_TABLES
from dagster_project.settings import Settings
from dagster_project.sources import SOURCE_TABLES
from dagster_project.spec.models import NoPii
from dagster_project.spec.validate import validate
from dagster_project.warehouse.build_log import BUILD_LOG_SCHEMA
from dagster_project.warehouse.connection import connect
from tests.conftest import BUILD_JOB, REPO, make_settings, make_sources

# The public contract of schema product_affinity: names, columns and their order.
CONTRACT = {
    "product_pair_affinity": [
        "product_a",
        "product_b",
        "pair_orders",
        "support",
        "confidence_ab",
        "confidence_ba",
        "lift",
    ],
    "category_affinity": [
        "category_a",
        "category_b",
        "pair_orders",
        "support",
        "confidence_ab",
        "confidence_ba",
        "lift",
    ],
    "customer_metrics": [
        "customer_key",
        "orders",
        "purchase_frequency",
        "total_spend",
        "avg_order_value",
        "distinct_categories",
        "first_order_ts",
        "last_order_ts",
    ],
    "cross_sell_recommendations": ["customer_key", "rank", "product_id", "score"],
    "north_star_daily": ["metric_date", "metric", "value"],
}


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE product_affinity.{table}").fetchall()]


def test_every_product_table_has_the_contract_columns(built_product: Settings) -> None:
    with connect(built_product.database, read_only=True) as con:
        _check_contract(con)


def _check_contract(con: duckdb.DuckDBPyConnection) -> None:
    tables = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'product_affinity'"
        ).fetchall()
    }
    assert tables == set(CONTRACT)
    for table, columns in CONTRACT.items():
        assert _columns(con, table) == columns, table
        assert con.execute(f"SELECT count(*) FROM product_affinity.{table}").fetchall()[0][0] > 0, table
    assert {t.table for t in PRODUCT_TABLES} == set(CONTRACT)
    assert all(dict(t.columns).keys() == set(CONTRACT[t.table]) for t in PRODUCT_TABLES)


def test_planted_pairs_are_the_highest_lift_pairs(built_product: Settings) -> None:
    con = duckdb.connect(str(built_product.database), read_only=True)  # opened as a user would, by file name
    top = con.execute(
        f"SELECT product_a, product_b FROM product_affinity.product_pair_affinity ORDER BY lift DESC "
        f"LIMIT {len(PLANTED_PAIRS)}"
    ).fetchall()
    assert set(top) == set(PLANTED_PAIRS)


def test_no_pii_column_or_value_reaches_the_published_database(built_product: Settings) -> None:
    """Every table of the published file, not only the product schema: raw data stays in the landing file."""
    assert built_product.data_dir is not None
    source = duckdb.connect()
    pii_values = {
        v
        for row in source.execute(
            f"SELECT full_name, email, phone FROM read_csv('{built_product.data_dir / 'customers.csv'}')"
        ).fetchall()
        for v in row
    }
    pii_columns = {c for t in SOURCE_TABLES for c in t.pii_columns} | {"customer_id"}
    email = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}")
    con = duckdb.connect(str(built_product.database), read_only=True)
    columns = con.execute(
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns"
    ).fetchall()
    assert {schema for schema, *_ in columns} == {"staging", "product_affinity", "build_log"}
    for schema, table, column, data_type in columns:
        assert column not in pii_columns, (schema, table, column)
        if data_type != "VARCHAR":
            continue
        values = {r[0] for r in con.execute(f'SELECT DISTINCT "{column}" FROM "{schema}"."{table}"').fetchall()}
        assert not values & pii_values, (schema, table, column)
        assert not any(email.search(v) for v in values if v), (schema, table, column)
        if column == "customer_key":
            assert all(re.fullmatch(r"[0-9a-f]{16}", v) for v in values)


def test_every_published_table_with_text_is_watched_by_exactly_one_blocking_pii_slo(built_product: Settings) -> None:
    """What a consumer may read is the published file: the product tables and the staging tables they are built from
    (the accuracy SLO reconciles against staging, product names come from it). Every one of them with a text column
    has an error-severity no_pii SLO over all its text columns, and no_pii SLOs watch nothing else."""
    con = duckdb.connect(str(built_product.database), read_only=True)
    with_text = {
        f"{schema}.{table}"
        for schema, table in con.execute(
            "SELECT DISTINCT table_schema, table_name FROM information_schema.columns WHERE data_type = 'VARCHAR'"
        ).fetchall()
    }
    built = {t.name for t in BUILT_TABLES}
    # The build's own bookkeeping (asset names, run ids) holds nothing from the sources.
    assert {t.split(".")[0] for t in with_text - built} == {BUILD_LOG_SCHEMA}
    (loaded,), issues = validate([REPO / "slo_definitions"])
    assert issues == []
    pii_slos = [(s, s.indicator) for s in loaded.spec.slos if isinstance(s.indicator, NoPii)]
    assert sorted(s.dataset for s, _ in pii_slos) == sorted(with_text & built)
    for slo, indicator in pii_slos:
        assert slo.severity == "error" and slo.threshold.max == 0, slo.id
        assert indicator.columns is None and {"email", "phone"} <= set(indicator.patterns), slo.id


PLANTED_EMAIL = "jane.doe.4711@example.org"


def _plant(path: Path, key: str, column: str) -> None:
    """Rewrite one CSV source with the first row's `column` replaced by an e-mail address (all values kept as text)."""
    source = f"read_csv('{path}', all_varchar = true)"
    duckdb.execute(
        f"""COPY (SELECT * REPLACE (CASE WHEN {key} = (SELECT min({key}) FROM {source})
                                    THEN '{PLANTED_EMAIL}' ELSE {column} END AS {column}) FROM {source})
            TO '{path}.new' (HEADER, FORMAT csv)"""
    )
    Path(f"{path}.new").replace(path)
    assert duckdb.execute(f"SELECT count(*) FROM {source} WHERE {column} = '{PLANTED_EMAIL}'").fetchall() == [(1,)]


@pytest.mark.parametrize(
    ("source", "key", "column", "caught_by"),
    [
        ("orders", "order_id", "channel", "staging_orders_free_of_pii"),
        ("customers", "customer_id", "country", "staging_customers_free_of_pii"),
        ("products", "product_id", "product_name", "staging_products_free_of_pii"),
    ],
)
def test_an_email_planted_in_a_source_free_text_column_is_caught_and_never_published(
    tmp_path: Path, source: str, key: str, column: str, caught_by: str
) -> None:
    from dagster_project.defs.runner import run_build

    src = make_sources(tmp_path / "src", orders=1_000)
    _plant(src / f"{source}.csv", key, column)
    settings = make_settings(tmp_path, src)
    build = run_build(settings)
    failed = {r["slo"]: r for r in build.results if r["passed"] is not True}
    assert caught_by in failed and failed[caught_by]["observed"] >= 1, sorted(failed)
    assert failed[caught_by]["severity"] == "error"
    assert not build.published and not settings.database.exists()


def test_materializations_carry_row_counts_and_column_schema(built_product: Settings) -> None:
    with dg.DagsterInstance.from_config(str(built_product.dagster_home.resolve())) as instance:
        for table in PRODUCT_TABLES:
            event = instance.get_latest_materialization_event(dg.AssetKey(table.name.split(".")))
            assert event is not None and event.asset_materialization is not None, table.name
            metadata = event.asset_materialization.metadata
            row_count = metadata["dagster/row_count"].value
            assert isinstance(row_count, int) and row_count > 0
            schema = metadata["dagster/column_schema"].value
            assert isinstance(schema, dg.TableSchema)
            assert [c.name for c in schema.columns] == CONTRACT[table.table]
            assert all(c.description for c in schema.columns)


def test_definitions_load_with_the_build_job_and_every_asset() -> None:
    defs = build_definitions(Settings())
    job = defs.resolve_job_def(BUILD_JOB)
    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    assert {f"raw/{t.name}" for t in SOURCE_TABLES} <= keys
    assert {t.name.replace(".", "/") for t in PRODUCT_TABLES} <= keys
    assert "product_affinity/published_database" in keys
    assert job.executor_def.name == "in_process"


def test_dagster_loads_the_definitions_from_the_repository_root() -> None:
    """What `dagster dev` does first: find [tool.dagster] in pyproject.toml and load the module."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "slo_monitor" in result.stdout + result.stderr


def test_a_build_reports_its_steps_as_they_finish(tmp_path: Path) -> None:
    from dagster_project.defs.runner import run_build

    calls: list[tuple[int, int]] = []
    settings = make_settings(tmp_path, make_sources(tmp_path / "src", orders=300))
    build = run_build(settings, progress=lambda done, total: calls.append((done, total)))
    assert build.published and calls
    assert [d for d, _t in calls] == sorted(d for d, _t in calls)  # never goes back
    assert calls[-1] == (build.steps, build.steps)  # the last report is the whole build


def _built_listening(settings: Settings, event: str, listener: Callable[..., None]) -> Any:
    """A published build of `settings`, `listener` hearing SQLAlchemy's pool `event` (connect, checkout) meanwhile."""
    import sqlalchemy as sa

    from dagster_project.defs.runner import run_build

    sa.event.listen(sa.pool.Pool, event, listener)
    try:
        build = run_build(settings)
    finally:
        sa.event.remove(sa.pool.Pool, event, listener)
    assert build.published
    return build


def test_the_event_log_opens_a_few_connections_per_build_not_one_per_event(tmp_path: Path) -> None:
    """Dagster's default SQLite event log opened (and fsynced) a connection per event; the build's keeps them open,
    in write-ahead-log mode, and what it writes is read back by Dagster's default storage (`make dev`)."""
    import sqlite3

    opened: list[str] = []

    def count(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        opened.append(dbapi_connection.execute("PRAGMA database_list").fetchall()[0][2])

    settings = make_settings(tmp_path, make_sources(tmp_path / "src", orders=300))
    build = _built_listening(settings, "connect", count)
    run_shard = settings.dagster_home.resolve() / "history" / "runs" / f"{build.run_id}.db"
    with dg.DagsterInstance.from_config(str(settings.dagster_home.resolve())) as instance:  # Dagster's own classes
        events = instance.all_logs(build.run_id)
        assert len(instance.get_run_step_stats(build.run_id)) == build.steps
        checks = instance.all_logs(build.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        assert len(checks) == len(build.results)
    assert len(events) > 100
    assert 0 < opened.count(str(run_shard)) <= 3
    with sqlite3.connect(run_shard) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_the_event_log_keeps_one_connection_per_file_for_a_build_with_a_transaction_per_event(tmp_path: Path) -> None:
    """Checking a pooled connection out and back in for every event and asset-index write (~280 per small build) cost
    ~0.025 s (issue 11): the build's event log keeps one connection per file open for the run; each operation is still
    its own transaction, so what a step stored is there for Dagster's own classes (`make dev`) as before."""

    checkouts: list[str] = []

    def count(dbapi_connection: Any, _record: object, _proxy: object) -> None:
        checkouts.append(dbapi_connection.execute("PRAGMA database_list").fetchall()[0][2])

    settings = make_settings(tmp_path, make_sources(tmp_path / "src", orders=300))
    build = _built_listening(settings, "checkout", count)
    runs = settings.dagster_home.resolve() / "history" / "runs"
    assert checkouts.count(str(runs / f"{build.run_id}.db")) <= 10  # creating the file's tables takes a few
    assert checkouts.count(str(runs / "index.db")) <= 10
    with dg.DagsterInstance.from_config(str(settings.dagster_home.resolve())) as instance:  # Dagster's own classes
        assert len(instance.get_run_step_stats(build.run_id)) == build.steps
        checks = instance.all_logs(build.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        assert len(checks) == len(build.results)


def _python(script: str) -> subprocess.CompletedProcess[str]:
    """`script` run by a fresh interpreter from the repository, which must succeed (its output, for the test)."""
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result


def test_a_build_does_not_import_pandas(tmp_path: Path) -> None:
    """pyarrow's pa.array imports pandas to ask whether a numpy vector is a pandas one: 0.3-0.7 s of every build."""
    make_sources(tmp_path / "src", orders=300)  # the generator may use pandas; the build must not
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from dagster_project.defs.runner import run_build\n"
        "from tests.conftest import make_settings\n"
        f"tmp = Path({str(tmp_path)!r})\n"
        "assert run_build(make_settings(tmp, tmp / 'src')).published\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pandas')[:3])\n"
    )
    result = _python(script)
    assert result.stdout.strip() == "[]"


def test_every_sqlite_file_of_the_build_instance_commits_without_an_fsync(tmp_path: Path) -> None:
    """Dagster's run and schedule storages open their own engines: their connections (the fresh instance's tables
    are created through them, a statement at a time) get the event log's write-ahead log and synchronous = NORMAL
    too; SQLite files outside the instance's folder keep SQLite's defaults."""
    import sqlite3

    import sqlalchemy as sa

    from dagster_project.defs.instance import build_instance

    home = tmp_path / "dagster"
    with build_instance(home) as instance:
        storages: dict[str, Any] = {"runs": instance.run_storage, "schedules": instance.schedule_storage}
        for name, storage in storages.items():
            with storage.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1, name  # NORMAL (FULL is 2)
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal", name
        other = sa.create_engine(f"sqlite:///{tmp_path / 'other.db'}")
        with other.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "delete"
        other.dispose()
    for path in (home / "history" / "runs.db", home / "schedules" / "schedules.db"):
        with sqlite3.connect(path) as con:
            assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_fresh_build_instance_reads_dagsters_migration_scripts_once_and_is_stamped_at_their_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dagster read its ~90 migration scripts anew for every schema revision it checked or stamped (seven times for a
    fresh instance, issue 11); they are read once per process now, and every file is still stamped at the head
    revision, which Dagster's own classes (`make dev`) check when they open the instance."""
    import sqlite3

    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from dagster._core.storage.sql import ALEMBIC_SCRIPTS_LOCATION

    from dagster_project.defs.instance import build_instance

    made: list[str] = []
    init = ScriptDirectory.__init__

    def counting(self: ScriptDirectory, dir: str, *args: Any, **kwargs: Any) -> None:
        made.append(dir)
        init(self, dir, *args, **kwargs)

    monkeypatch.setattr(ScriptDirectory, "__init__", counting)
    for name in ("first", "second"):
        with build_instance(tmp_path / name) as instance:
            instance.add_run(dg.DagsterRun(job_name="a_job", run_id=f"{name}-run"))
    assert len(made) <= 1
    monkeypatch.setattr(ScriptDirectory, "__init__", init)
    config = Config()
    config.set_main_option("script_location", ALEMBIC_SCRIPTS_LOCATION)
    head = ScriptDirectory.from_config(config).get_current_head()
    home = tmp_path / "second"
    for path in (home / "history" / "runs.db", home / "schedules" / "schedules.db", home / "history/runs/index.db"):
        with sqlite3.connect(path) as con:
            assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [(head,)], path
    with dg.DagsterInstance.from_config(str(home.resolve())) as instance:
        assert instance.get_run_by_id("second-run") is not None


def test_the_build_instance_checkpoints_its_files_when_it_closes_not_after_every_operation(tmp_path: Path) -> None:
    """SQLite checkpoints a write-ahead log into its file (with an fsync) whenever the last connection to it closes,
    and Dagster's run and schedule storages open and close one per operation: the build instance holds one idle
    connection per file while it is open, so the logs are folded in once, when it is disposed - and Dagster's own
    classes (`make dev`) read what it wrote."""
    from dagster_project.defs.instance import build_instance

    home = tmp_path / "dagster"
    logs = [home / "history" / "runs.db-wal", home / "schedules" / "schedules.db-wal"]
    with build_instance(home) as instance:
        instance.add_run(dg.DagsterRun(job_name="a_job", run_id="a-run-id"))
        assert instance.get_run_by_id("a-run-id") is not None
        assert all(log.exists() and log.stat().st_size > 0 for log in logs)
    assert not any(log.exists() for log in logs)
    with dg.DagsterInstance.from_config(str(home.resolve())) as instance:
        assert instance.get_run_by_id("a-run-id") is not None
        with instance.run_storage.connect() as conn:  # type: ignore[attr-defined]
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # Dagster's class, SQLite's default


def test_a_build_runs_the_slo_checks_of_each_asset_in_the_assets_own_step(tmp_path: Path) -> None:
    """A step of their own per asset cost ~50 ms of Dagster's fixed cost and its events each (issue 11): the checks
    run right after their asset is made, in its step. Only checks that also read another table the build makes
    independently (referential SLOs on raw.order_items) keep a step, which runs after every source is loaded. Every
    check is still evaluated, recorded and visible in Dagster."""
    from dagster_project.defs.runner import run_build

    settings = make_settings(tmp_path, make_sources(tmp_path / "src", orders=300))
    build = run_build(settings)
    assert build.published
    with dg.DagsterInstance.from_config(str(settings.dagster_home.resolve())) as instance:
        steps = {s.step_key for s in instance.get_run_step_stats(build.run_id)}
        checks = instance.all_logs(build.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        by_step = {e.step_key for e in checks}
    assert {s for s in steps if s.startswith("slo_checks__")} == {"slo_checks__raw__order_items"}
    assert len(steps) == build.steps == 16  # 15 assets, one check step
    assert "raw__orders" in by_step and "product_affinity__published_database" in by_step
    assert len(checks) == len(build.results) == 31


def test_slo_run_builds_with_dagsters_imported_objects_out_of_the_garbage_collectors_sight(tmp_path: Path) -> None:
    """`slo run` imports Dagster (~280,000 objects that live as long as the process); the collector walked them again
    and again during the build (~640 collections, ~0.33 s of a 20,000-line build, issue 11). They are frozen out of
    its sight before the build starts (cli/startup.py), and the collector stays on for what the build makes."""
    src = make_sources(tmp_path / "src", orders=300)
    script = (
        "import gc, sys\n"
        "import dagster_project.cli.progress as progress\n"  # no Dagster; its bar is made right before the build
        "from dagster_project.cli.main import main\n"
        "assert 'dagster' not in sys.modules\n"  # `slo run` imports it
        "bar = progress.ProgressBar.__init__\n"
        "def watched(*args, **kwargs):\n"
        "    import dagster\n"
        "    tracked = {id(o) for o in gc.get_objects()}\n"  # the frozen generation is not listed
        "    print(gc.isenabled(), id(dagster.JobDefinition) in tracked, file=sys.stderr)\n"
        "    bar(*args, **kwargs)\n"
        "progress.ProgressBar.__init__ = watched\n"
        f"code = main(['run', '--data-dir', {str(src)!r}, '--state-dir', {str(tmp_path / 'state')!r},"
        " '--as-of', '2026-11-27T06:00:00Z'])\n"
        "assert code == 0, code\n"
    )
    result = _python(script)
    seen = next(line for line in result.stderr.splitlines() if line.startswith(("True ", "False ")))
    enabled, dagster_tracked = seen.split()
    assert enabled == "True"
    assert dagster_tracked == "False"


def test_slo_run_as_a_command_ends_without_thawing_what_its_start_up_froze(tmp_path: Path) -> None:
    """Handed back to the collector at the end of the command, the ~300,000 objects `slo run`'s imports froze made the
    interpreter's shutdown walk and free them all: 0.4 s of a 20,000-line build's wall time (issue 11). As the
    process's command line (`slo`, python -m) main leaves them frozen; a caller passing arguments gets them back
    (tests/test_startup.py)."""
    src = make_sources(tmp_path / "src", orders=300)
    argv = [
        "slo",
        "run",
        "--data-dir",
        str(src),
        "--state-dir",
        str(tmp_path / "state"),
        "--as-of",
        "2026-11-27T06:00:00Z",
    ]
    script = (
        "import atexit, gc, runpy, sys\n"
        "atexit.register(lambda: print('frozen at exit', gc.get_freeze_count(), file=sys.stderr))\n"
        f"sys.argv = {argv!r}\n"
        "runpy.run_module('dagster_project.cli.main', run_name='__main__')\n"
    )
    result = _python(script)
    frozen = next(line for line in result.stderr.splitlines() if line.startswith("frozen at exit"))
    assert int(frozen.split()[-1]) > 100_000


def test_slo_run_leaves_the_steps_output_on_the_terminal_and_ui_runs_capture_theirs(tmp_path: Path) -> None:
    """Capturing a run's stdout and stderr into files for the UI took four `tail` processes per build (issue 11);
    `slo run` shows them on the terminal instead. The instance's dagster.yaml is unchanged, so runs launched from
    the UI (`make dev`) still capture theirs."""
    from dagster._core.storage.local_compute_log_manager import LocalComputeLogManager

    from dagster_project.defs.runner import run_build

    settings = make_settings(tmp_path, make_sources(tmp_path / "src", orders=300))
    build = run_build(settings)
    assert build.published
    home = settings.dagster_home.resolve()
    assert not (home / "storage" / build.run_id / "compute_logs").exists()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.compute_log_manager, LocalComputeLogManager)
        assert len(instance.get_run_step_stats(build.run_id)) == build.steps
