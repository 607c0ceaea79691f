"""The `slo` command as a user runs it: help, generate-data, run on the snapshot and on fresh sample data."""

from __future__ import annotations

import hashlib
import json
import shlex
import subprocess
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.errors import EXIT_USAGE
from dagster_project.results.store import ResultsStore
from tests.cli_support import run_slo
from tests.conftest import BUILD_JOB, REPO

SPECS = REPO / "slo_definitions"


def slo(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return run_slo(*args, cwd=cwd, timeout=300)


def test_help_lists_the_commands_and_exit_codes() -> None:
    result = slo("--help")
    assert result.returncode == 0
    for text in ("run", "generate-data", "exit codes"):
        assert text in result.stdout


def test_usage_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    for args, message in [
        (("generate-data", "--out", str(tmp_path), "--fault", "gremlins"), "unknown kind 'gremlins'"),
        (("generate-data", "--out", str(tmp_path), "--as-of", "last tuesday"), "--as-of: cannot parse"),
        (("generate-data", "--out", str(tmp_path), "--orders", "0"), "must be at least 1"),
        (("frobnicate",), "invalid choice"),
    ]:
        result = slo(*args)
        assert result.returncode == EXIT_USAGE, args
        assert message in result.stderr
        assert "Traceback" not in result.stderr


def test_committed_snapshot_is_what_its_manifest_regenerates(tmp_path: Path) -> None:
    manifest = json.loads((REPO / "sample_data" / "manifest.json").read_text())
    argv = shlex.split(manifest["command"])
    assert argv[:4] == ["slo", "generate-data", "--out", "sample_data"]
    result = slo("generate-data", "--out", str(tmp_path), *argv[4:])
    assert result.returncode == 0, result.stderr
    for name in ("customers.csv", "products.csv", "orders.csv", "order_items.csv"):
        committed = hashlib.sha256((REPO / "sample_data" / name).read_bytes()).hexdigest()
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == committed, (
            f"sample_data/{name} is stale: regenerate with `{manifest['command']}`"
        )


def test_run_on_the_snapshot_prints_tables_affinities_and_north_star(tmp_path: Path) -> None:
    result = slo(
        "run",
        "--data-dir",
        str(REPO / "sample_data"),
        "--state-dir",
        str(tmp_path / "state"),
        "--as-of",
        "2026-11-27T00:00:00Z",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "published" in out.splitlines()[0] and "NOT published" not in out
    assert f"SLOs (31 evaluated, recorded in {tmp_path / 'state' / 'results.sqlite'}):" in out
    assert " FAIL" not in out and " ERROR" not in out
    assert "product_affinity.product_pair_affinity" in out and "19,318" in out
    assert "Printer + Ink Cartridge" in out
    assert "North Star cross_sell_revenue_share (last 28 days): " in out
    assert (tmp_path / "state" / "warehouse.duckdb").exists()


def test_run_without_data_generates_fresh_sample_and_records_runs_in_the_instance(tmp_path: Path) -> None:
    state = tmp_path / "state"
    for _ in range(2):
        result = slo("run", "--state-dir", str(state), "--sample-orders", "800", "--slos", str(SPECS), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "sample data: 800 orders ending" in result.stdout
    with dg.DagsterInstance.from_config(str(state / "dagster")) as instance:
        runs = instance.get_runs(filters=dg.RunsFilter(job_name=BUILD_JOB))
        assert len(runs) == 2
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    with ResultsStore(state / "results.sqlite") as store:  # every SLO of each run, under the Dagster run id
        for run in runs:
            assert len(store.evaluations(run_id=run.run_id)) == 31
        assert store.count() == 2 * 31


def test_run_json_is_one_object_with_the_run_id_the_store_keeps(tmp_path: Path) -> None:
    state = tmp_path / "state"
    args = ["run", "--data-dir", str(REPO / "sample_data"), "--state-dir", str(state), "--json"]
    result = slo(*args, "--as-of", "2026-11-27T00:00:00Z")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert set(payload) >= {"run_id", "as_of", "results"} and payload["as_of"] == "2026-11-27T00:00:00+00:00"
    assert len(payload["results"]) == 31 and all(r["passed"] is True for r in payload["results"])
    with ResultsStore(state / "results.sqlite") as store:
        kept = store.evaluations(run_id=payload["run_id"])
    assert sorted(e.slo_id for e in kept) == sorted(r["slo"] for r in payload["results"])


def test_run_on_two_orders_builds_empty_affinity_tables(tmp_path: Path) -> None:
    src = tmp_path / "src"
    generated = slo("generate-data", "--out", str(src), "--orders", "2", "--days", "1", cwd=tmp_path)
    assert generated.returncode == 0, generated.stderr
    result = slo(
        "run", "--data-dir", str(src), "--state-dir", str(tmp_path / "state"), "--slos", str(SPECS), cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "none: no product pair was bought together" in result.stdout
    # No baseline day to compare with: the (warn) volume SLO cannot be judged, and says why.
    assert "orders_daily_volume" in result.stdout and "ERROR" in result.stdout


def test_every_command_has_help_with_examples() -> None:
    for command in ("run", "check", "validate", "schema", "serve", "rules", "dashboards", "tree", "explain", "report"):
        result = slo(command, "--help")
        assert result.returncode == 0 and "examples:" in result.stdout, command


def test_a_command_line_builds_the_same_parser_for_its_command_as_the_whole_one() -> None:
    """cli/main.py builds only the named command's options; its help, the top-level help and the parsed arguments
    are those of the parser with every command built."""
    import argparse

    from dagster_project.cli.main import build_parser

    whole = build_parser()
    commands = next(a for a in whole._actions if isinstance(a, argparse._SubParsersAction))
    assert len(commands.choices) >= 15
    assert build_parser(["--debug"]).format_help() == whole.format_help()
    for name, parser in commands.choices.items():
        lazy = build_parser(["--debug", name, "--help"])
        lazy_commands = next(a for a in lazy._actions if isinstance(a, argparse._SubParsersAction))
        assert lazy.format_help() == whole.format_help(), name
        assert lazy_commands.choices[name].format_help() == parser.format_help(), name
        assert len(lazy_commands.choices[name]._actions) > 1, name  # more than -h: built whole
    args = ["check", "--db", "x.duckdb", "--json", "--as-of", "2026-11-27T06:00:00Z"]
    assert vars(build_parser(args).parse_args(args)) == vars(whole.parse_args(args))


def test_status_colours_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster_project.cli.table import colour_status

    table = "slo  status\n---  ------\na    ok\nb    FAIL"
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert colour_status(table).splitlines()[3] == "b    \033[31;1mFAIL\033[0m"
    monkeypatch.setenv("NO_COLOR", "1")
    assert colour_status(table) == table
    monkeypatch.setattr("sys.stdout.isatty", lambda: False)
    monkeypatch.delenv("NO_COLOR")
    assert colour_status(table) == table


def test_the_slo_table_fits_80_columns_when_grouped_by_dataset() -> None:
    from dagster_project.cli.table import narrow_table

    results = json.loads((REPO / "tests" / "golden" / "check_results.json").read_text())
    table = narrow_table(results)
    assert max(len(line) for line in table.splitlines()) <= 80
    assert table.splitlines()[0] == results[0]["dataset"] and len(table.splitlines()) == len(results) + len(
        {r["dataset"] for r in results}
    )
