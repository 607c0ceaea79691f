"""What each command loads: heavy dependencies (numpy, pyarrow, pandas, GX, Dagster, ...) only on the paths that use
them, so that `slo check` and `slo validate` stay sub-second in a CI pipeline or a sensor that calls them thousands of
times a day. Modules are read from `python -X importtime` of the real command, never timed here (see `make
bench-quick` for the times)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dagster_project.settings import Settings
from tests.cli_support import run_slo

REPO = Path(__file__).resolve().parent.parent

# Each costs from tens of milliseconds (prometheus_client) to seconds (great_expectations, dagster).
HEAVY = {
    "numpy",
    "pyarrow",
    "pandas",
    "great_expectations",
    "dagster",
    "prometheus_client",
    "jinja2",
    "mlxtend",
    "psycopg",
    "pyspark",
    "ruamel",
    "scipy",
    "sqlalchemy",
}


def imported_by(*args: str, cwd: Path = REPO) -> set[str]:
    """The top-level packages a whole `slo` command imports, from the interpreter's own import log."""
    return {name.split(".")[0] for name in modules_imported_by(*args, cwd=cwd)}


def modules_imported_by(*args: str, cwd: Path = REPO) -> set[str]:
    """Every module a whole `slo` command imports (dotted names), from the interpreter's own import log."""
    return logged(*args, cwd=cwd)[0]


def logged(*args: str, cwd: Path = REPO) -> tuple[set[str], str]:
    """Every module a whole `slo` command imports, and what it printed on stdout (what it did)."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "dagster_project.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode in (0, 1), run.stderr[-2000:]
    lines = [line.split("|")[-1] for line in run.stderr.splitlines() if line.startswith("import time:")]
    assert lines, "python -X importtime printed nothing"
    return {line.strip() for line in lines}, run.stdout


def test_help_loads_only_the_standard_library_and_the_command_line() -> None:
    loaded = imported_by("--help")
    assert not loaded & (HEAVY | {"pydantic", "duckdb", "sqlglot", "yaml"}), loaded


def test_validate_loads_no_heavy_dependency(tmp_path: Path) -> None:
    loaded = imported_by("validate", "--state-dir", str(tmp_path))  # nothing remembered: the spec is parsed
    assert not loaded & HEAVY, loaded & HEAVY
    assert {"pydantic", "yaml"} <= loaded  # and the check is real: the spec was read


def test_validate_with_remembered_verdicts_loads_no_database_driver(tmp_path: Path) -> None:
    """Checking the spec's SQL is what needs DuckDB in `slo validate`; once its verdicts are remembered in the state
    folder (spec/sql_cache.py), neither DuckDB nor any other driver is loaded (measures, time limits and the product's
    build modules load DuckDB only where a database is opened)."""
    imported_by("validate", "--state-dir", str(tmp_path))  # remembers
    modules, said = logged("validate", "--state-dir", str(tmp_path))
    loaded = {name.split(".")[0] for name in modules}
    assert not loaded & {"duckdb", "_duckdb", "psycopg", "pyspark", "sqlite3"}, loaded
    assert "valid: 31 SLOs" in said  # and the spec was read and checked


def test_check_loads_no_heavy_dependency(built_product: Settings, tmp_path: Path) -> None:
    loaded = imported_by("check", "--db", str(built_product.database), "--results", str(tmp_path / "r.sqlite"))
    assert not loaded & HEAVY, loaded & HEAVY
    assert {"duckdb", "sqlite3"} <= loaded  # it did evaluate and record


def test_warm_check_loads_no_sqlglot(built_product: Settings, tmp_path: Path) -> None:
    """Once every verdict and rendered query is remembered in the state folder (spec/sql_cache.py), `slo check` builds
    no SQL tree: the indicators, the plan and the database check reach sqlglot and indicators/sql.py through
    indicators/lazy.py, which imports them at first use. A cold run does load them (the check is real)."""
    args = ("check", "--db", str(built_product.database), "--state-dir", str(tmp_path), "--no-record")
    cold = imported_by(*args)  # remembers
    assert "sqlglot" in cold
    modules, said = logged(*args)
    assert not any(name.split(".")[0] == "sqlglot" for name in modules)
    assert "dashboard_query_latency" in said  # it did read the spec and evaluate


def test_warm_validate_loads_no_sqlglot(tmp_path: Path) -> None:
    imported_by("validate", "--state-dir", str(tmp_path))  # remembers
    modules, said = logged("validate", "--state-dir", str(tmp_path))
    assert not any(name.split(".")[0] == "sqlglot" for name in modules)
    assert "valid: 31 SLOs" in said


def test_a_check_found_clean_before_loads_neither_yaml_nor_pydantic(built_product: Settings, tmp_path: Path) -> None:
    """Once a clean check is remembered in the state folder (verify/check_memory.py), `slo check` against a database
    that answers the same neither parses a spec (PyYAML) nor imports pydantic: the SLOs are read in their domain form
    and evaluated. A cold run does both (the check is real)."""
    args = ("check", "--db", str(built_product.database), "--state-dir", str(tmp_path), "--no-record")
    cold = modules_imported_by(*args)  # remembers
    assert {"yaml", "pydantic", "pydantic.plugin._loader"} <= cold
    warm, said = logged(*args)
    assert not warm & {"yaml", "pydantic"}, sorted(warm & {"yaml", "pydantic"})
    assert "dashboard_query_latency" in said  # it did evaluate the remembered SLOs


@pytest.mark.parametrize("command", ["generate-data", "run", "serve", "report", "rules", "dashboards", "tree", "store"])
def test_every_command_help_loads_no_heavy_dependency(command: str) -> None:
    loaded = imported_by(command, "--help")
    assert not loaded & HEAVY, loaded & HEAVY


def test_start_up_imports_run_without_collection_and_the_collector_resumes_after() -> None:
    """cli/startup.py: no collection while a command imports; the objects made are frozen and collection goes on as it
    was; when the command ends they are handed back, so a process running many commands collects them."""
    import gc

    from dagster_project.cli.main import main
    from dagster_project.cli.startup import thaw, uncollected

    assert gc.isenabled()
    before = gc.get_freeze_count()
    with uncollected():
        assert not gc.isenabled()
        made: list[list[int]] = [[] for _ in range(1000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= before + len(made)
    thaw()
    assert gc.get_freeze_count() == 0
    gc.disable()  # a caller that turned collection off keeps it off
    try:
        with uncollected():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
        thaw()
    with pytest.raises(SystemExit):
        main(["--help"])
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_check_remembers_the_stores_integrity_check_in_its_state_folder(
    built_product: Settings, tmp_path: Path
) -> None:
    """results/store.py: remember_checks_in - the next `slo check` within the hour does not read the whole store."""
    import json

    store = tmp_path / "r.sqlite"
    args = ("check", "--db", str(built_product.database), "--state-dir", str(tmp_path), "--results", str(store))
    assert run_slo(*args).returncode in (0, 1)
    memory = json.loads((tmp_path / "cache" / "store_checks.json").read_text())
    assert list(memory) == [f"{store.stat().st_dev}:{store.stat().st_ino}"]
    assert run_slo(*args, "--no-record").returncode in (0, 1)  # nothing recorded or checked: the memory stays
    assert json.loads((tmp_path / "cache" / "store_checks.json").read_text()) == memory


def test_a_second_build_in_the_same_state_folder_renders_no_sql(tmp_path: Path) -> None:
    """`slo run` remembers its checks' SQL in the state folder as `slo check` does (spec/sql_cache.py), and the
    results store's integrity check (results/store.py): a second build of the same spec builds no SQL tree (0.2 s of
    a small build); the first one does."""
    state = str(tmp_path / "state")
    args = ("run", "--data-dir", str(REPO / "sample_data"), "--state-dir", state, "--as-of", "2026-11-27T06:00:00Z")
    assert "sqlglot" in imported_by(*args)
    assert (tmp_path / "state" / "cache" / "sql.json").is_file()
    assert (tmp_path / "state" / "cache" / "store_checks.json").is_file()
    assert "sqlglot" not in imported_by(*args)


def test_a_command_ends_without_a_leak_report_from_duckdb(built_product: Settings) -> None:
    """The commands leave their start-up objects frozen at exit (cli/startup.py); DuckDB 2.0.0's bindings then print
    nanobind's leak report (~50 lines) on stderr at every exit, 2.0.1's do not: pyproject.toml admits 2.0.1 on."""
    run = subprocess.run(
        [sys.executable, "-m", "dagster_project.cli.main", "check", "--db", str(built_product.database), "--no-record"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode in (0, 1), run.stderr[-2000:]
    assert "leaked" not in run.stderr and "nanobind" not in run.stderr, run.stderr[-2000:]


# What a warm `slo check` imports to evaluate remembered SLOs: the domain SLOs pickled in the state folder are
# evaluated without validating anything, so none of it may need pydantic (~0.06-0.09 s to import, and the models more).
EVALUATION_PATH = (
    "dagster_project.checking",
    "dagster_project.engines.evaluate",
    "dagster_project.engines.duckdb_adapter",
    "dagster_project.engines.servers",
    "dagster_project.results.store",
    "dagster_project.exporter.push",
    "dagster_project.slo.report",
    "dagster_project.cli.table",
    "dagster_project.indicators.registry",
)


def test_the_evaluation_path_and_the_remembered_domain_slos_load_without_pydantic(tmp_path: Path) -> None:
    """The domain SLOs of every bundled spec and of the good test specs (anomaly, metric: nested and declared-unit
    indicators), pickled here, are read back in a fresh process that imports the evaluation path (checking, the
    evaluator, the DuckDB adapter, the results store, the push, the report and the table) and reads each SLO's
    definition, unit and kind: pydantic is never imported."""
    import pickle

    from dagster_project.slo.from_spec import all_slos
    from dagster_project.spec.validate import validate

    files = [*sorted((REPO / "slo_definitions").glob("*.yaml")), *sorted((REPO / "tests/specs/good").glob("*.yaml"))]
    slos = []
    for file in files:  # one at a time: the test specs reuse the bundled spec's ids
        specs, issues = validate([file])
        assert specs and not issues, issues
        slos += all_slos([s.spec for s in specs])
    assert {s.kind for s in slos} >= {"anomaly", "metric", "schema", "custom_sql"}  # nested, declared units, catalog
    remembered = tmp_path / "slos.pickle"
    remembered.write_bytes(pickle.dumps(slos, protocol=pickle.HIGHEST_PROTOCOL))
    script = f"""
import importlib, pickle, sys
for name in {EVALUATION_PATH!r}:
    importlib.import_module(name)
with open({str(remembered)!r}, "rb") as file:
    slos = pickle.load(file)
seen = [(s.id, s.definition.type, s.unit, s.kind) for s in slos]
assert len(seen) == {len(slos)}, seen
assert "pydantic" not in sys.modules, sorted(m for m in sys.modules if m.startswith("dagster_project"))
"""
    run = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
