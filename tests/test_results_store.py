"""The results store keeps every evaluation: exact round trips, errors kept as errors, one run all-or-nothing even
when its writer is killed, concurrent writers all counted, and a file that is not a store refused clearly."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dagster_project.results.store import SCHEMA_VERSION, ResultsStore, ResultsStoreError, record

WHEN = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def result(slo: str, passed: bool | None, observed: float | None = 0.5, error: str | None = None) -> dict[str, Any]:
    return {
        "slo": slo,
        "product": "p",
        "dimension": "validity",
        "dataset": "raw.orders",
        "observed": observed,
        "threshold": {"bound": "min", "value": 0.99},
        "passed": passed,
        "severity": "error",
        "engine": "native",
        "error": error,
    }


def test_a_run_round_trips_with_its_values_and_its_errors(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    records = [result("a", True, 0.995), result("b", False, 0.25), result("c", None, None, "column x not found")]
    assert record(path, "run-1", WHEN, records) == 3
    with ResultsStore(path) as store:
        kept = store.evaluations()
    assert [(e.run_id, e.slo_id, e.observed, e.passed, e.error) for e in kept] == [
        ("run-1", "a", 0.995, True, None),
        ("run-1", "b", 0.25, False, None),
        ("run-1", "c", None, None, "column x not found"),
    ]
    assert {(e.evaluated_at, e.bound, e.threshold, e.severity, e.engine) for e in kept} == {
        (WHEN, "min", 0.99, "error", "native")
    }
    assert all(e.recorded_at >= WHEN for e in kept)


def test_runs_append_and_never_replace(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    record(path, "run-1", WHEN, [result("a", True)])
    record(path, "run-2", WHEN, [result("a", False)])
    with ResultsStore(path) as store:
        assert store.count() == 2
        assert [e.passed for e in store.evaluations(slo_id="a")] == [True, False]
        assert [e.slo_id for e in store.evaluations(run_id="run-2")] == ["a"]


def test_a_file_that_is_not_a_store_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("these are my notes, not a database\n" * 200)
    with pytest.raises(ResultsStoreError, match=r"notes\.sqlite: cannot open the results store"):
        record(path, "run-1", WHEN, [result("a", True)])
    assert path.read_text().startswith("these are my notes")


def test_a_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(ResultsStoreError, match="is newer than this tool's"):
        record(path, "run-1", WHEN, [result("a", True)])


def _writer(path: str, run: str, n: int) -> None:
    for i in range(n):
        record(Path(path), f"{run}-{i}", WHEN, [result(f"s{j}", j % 2 == 0) for j in range(25)])


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_writer, args=(str(path), f"w{k}", 40)) for k in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
        assert w.exitcode == 0
    with ResultsStore(path) as store:
        assert store.count() == 4 * 40 * 25


def test_a_writer_killed_mid_run_leaves_whole_runs_only(tmp_path: Path) -> None:
    """Runs of 1,000 evaluations written back to back; SIGKILL lands wherever it lands."""
    path = tmp_path / "r.sqlite"
    script = textwrap.dedent(
        f"""
        from datetime import UTC, datetime
        from pathlib import Path
        from dagster_project.results.store import record
        from tests.test_results_store import result
        i = 0
        while True:
            record(Path({str(path)!r}), f"run-{{i}}", datetime.now(UTC), [result(f"s{{j}}", True) for j in range(1000)])
            print(i, flush=True)
            i += 1
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent
    )
    assert proc.stdout is not None
    for _ in range(3):  # at least three whole runs written, then kill it while it writes more
        assert proc.stdout.readline() != ""
    time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with ResultsStore(path) as store:
        count = store.count()
        per_run = store.con.execute("SELECT count(*) FROM evaluations GROUP BY run_id").fetchall()
        assert store.con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert count >= 3000 and count % 1000 == 0
    assert {n for (n,) in per_run} == {1000}
    record(path, "after", WHEN, [result("a", True)])  # and the next run succeeds
    with ResultsStore(path) as store:
        assert store.count() == count + 1


def test_a_version_1_store_is_upgraded_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    con = sqlite3.connect(path)
    con.execute(  # version 1's table: no detail column
        "CREATE TABLE evaluations (seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, slo_id TEXT NOT NULL,"
        " product TEXT NOT NULL, dimension TEXT NOT NULL, dataset TEXT NOT NULL, evaluated_at REAL NOT NULL,"
        " recorded_at REAL NOT NULL, observed REAL, bound TEXT NOT NULL, threshold REAL NOT NULL, passed INTEGER,"
        " severity TEXT NOT NULL, engine TEXT NOT NULL, error TEXT)"
    )
    con.execute(
        "INSERT INTO evaluations (run_id, slo_id, product, dimension, dataset, evaluated_at, recorded_at, observed,"
        " bound, threshold, passed, severity, engine, error) VALUES"
        " ('old', 'a', 'p', 'validity', 'raw.orders', 1.0, 1.0, 0.5, 'min', 0.9, 0, 'error', 'native', NULL)"
    )
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()
    record(path, "new", WHEN, [{**result("a", False), "detail": "missing x"}])
    with ResultsStore(path) as store:
        assert [(e.run_id, e.detail) for e in store.evaluations()] == [("old", None), ("new", "missing x")]
        assert store.con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_version_2_store_is_upgraded_and_new_rows_keep_their_indicator_and_objective(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    record(path, "old", WHEN, [result("a", True)])
    con = sqlite3.connect(path)  # make it a version 2 store: no indicator, no objective
    con.execute("ALTER TABLE evaluations DROP COLUMN indicator")
    con.execute("ALTER TABLE evaluations DROP COLUMN objective")
    con.execute("PRAGMA user_version = 2")
    con.commit()
    con.close()
    record(path, "new", WHEN, [{**result("a", False), "indicator": "in_range", "objective": 0.995}])
    with ResultsStore(path) as store:
        rows = [(e.run_id, e.indicator, e.objective) for e in store.evaluations()]
        assert rows == [("old", None, None), ("new", "in_range", 0.995)]
        assert store.con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3


def test_a_store_path_under_a_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ResultsStoreError, match=r"afile/r\.sqlite: cannot open the results store"):
        record(tmp_path / "afile" / "r.sqlite", "run-1", WHEN, [result("a", True)])


def _first_open(path: str) -> str:
    try:
        record(Path(path), "r", WHEN, [result("a", True)])
        return "ok"
    except ResultsStoreError as exc:
        return str(exc)


def test_processes_creating_a_store_at_once_all_succeed(tmp_path: Path) -> None:
    """Switching a new store to WAL is not covered by the busy timeout: losers of that race must try again."""
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(8) as pool:
        for i in range(20):
            path = str(tmp_path / f"r{i}.sqlite")
            assert pool.map(_first_open, [path] * 8) == ["ok"] * 8
            with ResultsStore(Path(path)) as store:
                assert store.count() == 8
