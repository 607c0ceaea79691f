"""The results store keeps every evaluation: exact round trips, errors kept as errors, one run all-or-nothing even
when its writer is killed, concurrent writers all counted, a file that is not a store refused clearly and left as it
is, a damaged store refused for appends and named by its readers, and `slo store check|backup|migrate|copy`.

The tests of behaviour both backends share take the `at` fixture and run twice: on a SQLite file and on a database of
the session's private PostgreSQL cluster (tests/server_support.py); the password only in PGPASSWORD."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
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

from dagster_project.errors import EXIT_RUNTIME, EXIT_USAGE
from dagster_project.results import store as store_module
from dagster_project.results.address import PostgresUrl, StoreAddress
from dagster_project.results.store import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    OlderStoreError,
    ResultsStore,
    ResultsStoreError,
    record,
)
from tests.conftest import REPO
from tests.server_support import PostgresCluster
from tests.test_cli import slo

WHEN = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def new_postgres_store(cluster: PostgresCluster, monkeypatch: pytest.MonkeyPatch) -> PostgresUrl:
    """An empty database of the shared cluster; its URL has no password, PGPASSWORD has it (for child processes
    too)."""
    monkeypatch.setenv("PGPASSWORD", cluster.password)
    return PostgresUrl(cluster.url(cluster.create_database()))


@pytest.fixture(params=["sqlite", "postgresql"])
def at(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StoreAddress:
    """Where a new store goes: a SQLite file that does not exist yet, or an empty PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "r.sqlite"
    return new_postgres_store(request.getfixturevalue("postgres"), monkeypatch)


def raw(address: StoreAddress, *statements: str) -> list[tuple[Any, ...]]:
    """Run statements on the store's database behind its back (to make old or foreign stores); the last one's rows."""
    rows: list[tuple[Any, ...]] = []
    if isinstance(address, Path):
        con = sqlite3.connect(address, isolation_level=None)
        try:
            for statement in statements:
                rows = con.execute(statement).fetchall()
        finally:
            con.close()
        return rows
    import psycopg

    with psycopg.connect(address.url, autocommit=True) as pg:
        for statement in statements:
            cur = pg.execute(statement.encode())
            rows = cur.fetchall() if cur.description else []
    return rows


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


def test_a_run_round_trips_with_its_values_and_its_errors(at: StoreAddress) -> None:
    path = at
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


def test_runs_append_and_never_replace(at: StoreAddress) -> None:
    path = at
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


def test_a_store_from_a_newer_version_is_refused(at: StoreAddress) -> None:
    path = at
    if isinstance(path, Path):
        raw(path, f"PRAGMA application_id = {APPLICATION_ID}", f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    else:
        record(path, "run-0", WHEN, [result("a", True)])
        raw(path, f"UPDATE slo_results_store SET version = {SCHEMA_VERSION + 1}")
    with pytest.raises(
        ResultsStoreError, match=f"{path}: results store version {SCHEMA_VERSION + 1} is newer than this tool's"
    ):
        record(path, "run-1", WHEN, [result("a", True)])
    for command in ("check", "migrate"):
        run = slo("store", command, "--results", str(path))
        assert run.returncode == EXIT_RUNTIME and "is newer than this tool's" in one_error_line(run, path)


def _writer(path: str, run: str, n: int) -> None:
    for i in range(n):
        record(path, f"{run}-{i}", WHEN, [result(f"s{j}", j % 2 == 0) for j in range(25)])


def test_concurrent_writers_lose_nothing(at: StoreAddress) -> None:
    path = at
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_writer, args=(str(path), f"w{k}", 40)) for k in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
        assert w.exitcode == 0
    with ResultsStore(path) as store:
        assert store.count() == 4 * 40 * 25


def test_a_writer_killed_mid_run_leaves_whole_runs_only(at: StoreAddress) -> None:
    """Runs of 1,000 evaluations written back to back; SIGKILL lands wherever it lands."""
    path = at
    proc = _start_writer(path)
    assert proc.stdout is not None
    for _ in range(3):  # at least three whole runs written, then kill it while it writes more
        assert proc.stdout.readline() != ""
    time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with ResultsStore(path) as store:
        count = store.count()
        per_run = store.execute("SELECT count(*) FROM evaluations GROUP BY run_id").fetchall()
        if isinstance(path, Path):
            assert store.con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert count >= 3000 and count % 1000 == 0
    assert {n for (n,) in per_run} == {1000}
    record(path, "after", WHEN, [result("a", True)])  # and the next run succeeds
    with ResultsStore(path) as store:
        assert store.count() == count + 1


def test_a_version_1_store_is_refused_until_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
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
    with pytest.raises(OlderStoreError, match=r"older version \(version 1, .*run `slo store migrate --results "):
        record(path, "new", WHEN, [{**result("a", False), "detail": "missing x"}])
    assert raw(path, "PRAGMA user_version") == [(1,)]
    migrated = slo("store", "migrate", "--results", str(path))
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout == f"migrated {path} from version 1 to {SCHEMA_VERSION}; every row kept\n"
    record(path, "new", WHEN, [{**result("a", False), "detail": "missing x"}])
    with ResultsStore(path) as store:
        assert [(e.run_id, e.detail) for e in store.evaluations()] == [("old", None), ("new", "missing x")]
        assert store.con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


_LATER_COLUMNS = ("indicator", "objective", "threshold_max", "status", "extra")  # added in versions 3 and 4


def _make_version_2(path: StoreAddress) -> None:
    """A version 2 store of one run: no indicator, no objective, no levels (and, in SQLite, no application id yet)."""
    record(path, "old", WHEN, [result("a", True)])
    drops = [f"ALTER TABLE evaluations DROP COLUMN {c}" for c in _LATER_COLUMNS]
    if isinstance(path, Path):
        raw(path, "PRAGMA application_id = 0", *drops, "PRAGMA user_version = 2")
    else:
        raw(path, *drops, "UPDATE slo_results_store SET version = 2")


def test_readers_and_writers_never_upgrade_a_store_they_say_to_migrate(at: StoreAddress, tmp_path: Path) -> None:
    path = at
    _make_version_2(path)
    with pytest.raises(OlderStoreError, match=r"older version \(version 2.*slo store migrate --results "):
        record(path, "new", WHEN, [result("a", False)])
    db = tmp_path / "none.duckdb"
    for args in (
        ("serve", "--results", str(path), "--db", str(db), "--port", "0"),
        ("report", "--results", str(path), "--db", str(db), "-o", str(tmp_path / "report")),
        ("tree", "--results", str(path)),
    ):
        run = slo(*args)
        assert run.returncode == EXIT_RUNTIME, (args, run.stderr)
        assert f"run `slo store migrate --results {path}`" in one_error_line(run, path), args
    check = slo("store", "check", "--results", str(path))
    assert check.returncode == 0 and "version      2" in check.stdout and "slo store migrate" in check.stdout
    assert len(raw(path, "SELECT * FROM evaluations")[0]) == 16  # still version 2's columns: nobody upgraded it


def test_migrate_upgrades_in_place_once_and_then_has_nothing_to_do(at: StoreAddress) -> None:
    path = at
    _make_version_2(path)
    first = slo("store", "migrate", "--results", str(path))
    assert first.returncode == 0, first.stderr
    assert first.stdout == f"migrated {path} from version 2 to {SCHEMA_VERSION}; every row kept\n"
    again = slo("store", "migrate", "--results", str(path))
    assert again.returncode == 0 and again.stdout == f"{path} is at version {SCHEMA_VERSION}: nothing to do\n"
    record(path, "new", WHEN, [{**result("a", False), "indicator": "in_range", "objective": 0.995}])
    with ResultsStore(path) as store:
        rows = [(e.run_id, e.indicator, e.objective) for e in store.evaluations()]
        assert rows == [("old", None, None), ("new", "in_range", 0.995)]
    if isinstance(path, Path):
        assert raw(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
        assert raw(path, "PRAGMA application_id") == [(APPLICATION_ID,)]
    else:
        assert raw(path, "SELECT application_id, version FROM slo_results_store") == [(APPLICATION_ID, SCHEMA_VERSION)]


def test_migrate_makes_a_store_where_there_is_none(at: StoreAddress) -> None:
    run = slo("store", "migrate", "--results", str(at))
    assert run.returncode == 0 and run.stdout == f"made a new results store at {at} (version {SCHEMA_VERSION})\n"
    with ResultsStore(at) as store:
        assert store.count() == 0


def test_a_store_path_under_a_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ResultsStoreError, match=r"afile/r\.sqlite: cannot open the results store"):
        record(tmp_path / "afile" / "r.sqlite", "run-1", WHEN, [result("a", True)])


def _first_open(path: str) -> str:
    try:
        record(path, "r", WHEN, [result("a", True)])
        return "ok"
    except ResultsStoreError as exc:
        return str(exc)


def test_processes_creating_a_store_at_once_all_succeed(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Switching a new store to WAL is not covered by the busy timeout: losers of that race must try again.

    Spawned, not forked: a fork copies locks held by the test process's other threads (loggers, servers of earlier
    tests), and a worker that inherits a held lock never returns (CI hung here for over an hour)."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(8) as pool:
        for i in range(20):
            path = str(tmp_path / f"r{i}.sqlite")
            assert pool.map(_first_open, [path] * 8) == ["ok"] * 8
            with ResultsStore(Path(path)) as store:
                assert store.count() == 8
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    urls = [str(new_postgres_store(cluster, monkeypatch)) for _ in range(5)]  # sets PGPASSWORD before the spawns
    with ctx.Pool(8) as pool:  # the same race in empty PostgreSQL databases
        for url in urls:
            assert pool.map(_first_open, [url] * 8) == ["ok"] * 8
            with ResultsStore(url) as store:
                assert store.count() == 8


# --- Identity: only a path that does not exist gets a new store; anything else there is refused and left as it is.


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_error_line(result: subprocess.CompletedProcess[str], path: StoreAddress) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: "), result.stderr
    assert "unexpected" not in lines[0] and "Traceback" not in result.stderr
    return lines[0]


def test_a_new_store_carries_the_application_id_and_leaves_nothing_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    record(path, "run-1", WHEN, [result("a", True)])
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    con.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.sqlite"]


def test_a_zero_byte_store_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    path.touch()
    with pytest.raises(ResultsStoreError, match=r"results\.sqlite: cannot open the results store: the file is empty"):
        record(path, "run-1", WHEN, [result("a", True)])
    assert path.stat().st_size == 0
    for command in ("check", "backup"):
        run = slo(
            "store", command, "--results", str(path), *(["-o", str(tmp_path / "b.sqlite")] * (command == "backup"))
        )
        assert run.returncode == EXIT_RUNTIME and "empty (0 bytes)" in one_error_line(run, path)
    assert path.stat().st_size == 0 and not (tmp_path / "b.sqlite").exists()


@pytest.mark.parametrize("keep", ["50 bytes", "the first page", "half"])
def test_a_truncated_store_is_refused_and_left_as_it_is(tmp_path: Path, keep: str) -> None:
    """A guard (today's code refused these too): the new open path must not take a cut store for a new one."""
    path = tmp_path / "r.sqlite"
    for i in range(40):
        record(path, f"run-{i}", WHEN, [result(f"s{j}", True) for j in range(100)])
    data = path.read_bytes()
    cut = {"50 bytes": 50, "the first page": 4096, "half": len(data) // 2}[keep]
    path.write_bytes(data[:cut])
    with pytest.raises(ResultsStoreError, match=r"r\.sqlite: the results store is damaged"):
        record(path, "run-x", WHEN, [result("a", True)])
    assert path.read_bytes() == data[:cut]


def _foreign(path: Path, kind: str) -> None:
    con = sqlite3.connect(path, isolation_level=None)
    if kind == "wal, its own application id":
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("PRAGMA application_id = 252006674")  # Fossil's
    if kind == "no tables":
        con.execute("PRAGMA journal_mode = WAL")  # writes the header: a valid, empty SQLite database
    elif kind == "an evaluations table of its own":
        con.execute("CREATE TABLE evaluations (id INTEGER PRIMARY KEY, grade TEXT)")
        con.execute("PRAGMA user_version = 3")
    else:
        con.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        con.executemany("INSERT INTO notes (body) VALUES (?)", [(f"note {i}",) for i in range(500)])
    con.close()


@pytest.mark.parametrize("kind", ["no application id", "wal, its own application id", "no tables",
                                  "an evaluations table of its own"])  # fmt: skip
def test_another_applications_sqlite_file_is_refused_and_unchanged(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "app.db"
    _foreign(path, kind)
    before = digest(path)
    con = sqlite3.connect(path)
    schema = con.execute("SELECT * FROM sqlite_schema").fetchall()
    con.close()
    with pytest.raises(ResultsStoreError, match=r"app\.db: not a results store: an SQLite database of another app"):
        record(path, "run-1", WHEN, [result("a", True)])
    run = slo("store", "check", "--results", str(path))
    assert run.returncode == EXIT_RUNTIME and "another application" in one_error_line(run, path)
    assert digest(path) == before
    con = sqlite3.connect(path)
    assert con.execute("SELECT * FROM sqlite_schema").fetchall() == schema
    con.close()


def test_an_unlabelled_version_3_store_of_ours_is_adopted_by_migrate_and_keeps_its_rows(tmp_path: Path) -> None:
    """Stores written before the application id (id 0) are recognised by their columns and get the id."""
    path = tmp_path / "r.sqlite"
    record(path, "old", WHEN, [result("a", True)])
    con = sqlite3.connect(path)
    con.execute("PRAGMA application_id = 0")
    con.commit()
    con.close()
    with pytest.raises(OlderStoreError, match="written before stores carried an identity"):
        record(path, "new", WHEN, [result("a", False)])
    run = slo("store", "migrate", "--results", str(path))
    assert run.returncode == 0 and "migrated" in run.stdout
    record(path, "new", WHEN, [result("a", False)])
    with ResultsStore(path) as store:
        assert [e.run_id for e in store.evaluations()] == ["old", "new"]
        assert store.con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


# --- Integrity: a damaged store is refused for appends, and its readers say so in one line naming it.


@pytest.fixture
def damaged_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real store of 4,000 evaluations with garbage written over one of its table's leaf pages (mid-history:
    the pages an append writes are intact, so only a check can tell)."""
    path = tmp_path / "r.sqlite"
    for i in range(40):
        record(path, f"run-{i}", WHEN, [result(f"s{j}", True) for j in range(100)])
    assert not path.with_name("r.sqlite-wal").exists()  # everything is in the main file
    data = bytearray(path.read_bytes())
    size = int.from_bytes(data[16:18], "big")
    leaves = [n for n in range(1, len(data) // size) if data[n * size] == 0x0D]  # table b-tree leaf pages
    page = leaves[len(leaves) // 2]
    data[page * size : (page + 1) * size] = b"\xde\xad\xbe\xef" * (size // 4)
    path.write_bytes(bytes(data))
    monkeypatch.setattr(store_module, "_intact", {})  # as a new process finds it
    return path


def test_appending_to_a_store_with_a_damaged_page_is_refused_with_its_name(damaged_store: Path) -> None:
    before = digest(damaged_store)
    with pytest.raises(ResultsStoreError, match=r"r\.sqlite: the results store is damaged .*nothing was recorded"):
        record(damaged_store, "run-x", WHEN, [result("a", True)])
    assert digest(damaged_store) == before


def test_serve_and_report_name_a_damaged_store_in_one_line(damaged_store: Path, tmp_path: Path) -> None:
    db = tmp_path / "none.duckdb"
    for args in (
        ("serve", "--results", str(damaged_store), "--db", str(db), "--port", "0"),
        ("report", "--results", str(damaged_store), "--db", str(db), "-o", str(tmp_path / "report")),
    ):
        run = slo(*args)
        assert run.returncode == EXIT_RUNTIME, args
        assert "the results store is damaged" in one_error_line(run, damaged_store)


def test_integrity_is_checked_once_per_process_and_again_after_the_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks: list[int] = []

    def counted(con: sqlite3.Connection) -> list[str]:
        checks.append(1)
        return []

    monkeypatch.setattr(store_module, "_intact", {})
    monkeypatch.setattr(store_module, "quick_check", counted)
    path = tmp_path / "r.sqlite"
    for i in range(3):
        record(path, f"run-{i}", WHEN, [result("a", True)])
    assert len(checks) == 1
    monkeypatch.setattr(store_module, "INTEGRITY_EVERY_S", 0.0)  # the interval has passed
    record(path, "run-3", WHEN, [result("a", True)])
    assert len(checks) == 2


def test_a_check_remembered_in_the_state_folder_spares_the_next_process_within_the_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`slo check` runs once per call: the store's integrity check is remembered in the state folder, so the next
    call within INTEGRITY_EVERY_S does not read the whole store again; after it, or with the memory unreadable, it
    does, and finds damage."""
    checks: list[int] = []

    def counted(con: sqlite3.Connection) -> list[str]:
        checks.append(1)
        return []

    state = tmp_path / "state"
    state.mkdir()
    monkeypatch.setattr(store_module, "quick_check", counted)
    monkeypatch.setattr(store_module, "_checks_file", None)
    store_module.remember_checks_in(state)
    path = tmp_path / "r.sqlite"
    for i in range(3):
        monkeypatch.setattr(store_module, "_intact", {})  # each call a new process
        record(path, f"run-{i}", WHEN, [result("a", True)])
    assert len(checks) == 1
    memory = state / "cache" / store_module.CHECKS_FILE_NAME
    assert list(json.loads(memory.read_text())) == [f"{path.stat().st_dev}:{path.stat().st_ino}"]
    for unreadable in ("not json", '["a list"]', '{"1:2": "soon"}'):
        memory.write_text(unreadable)
        monkeypatch.setattr(store_module, "_intact", {})
        record(path, "run-x", WHEN, [result("a", True)])
    assert len(checks) == 4  # a memory that cannot be read: checked again, no error
    monkeypatch.setattr(store_module, "INTEGRITY_EVERY_S", 0.0)  # the interval has passed
    monkeypatch.setattr(store_module, "_intact", {})
    record(path, "run-4", WHEN, [result("a", True)])
    assert len(checks) == 5


def test_a_damaged_store_is_found_by_the_next_process_once_its_remembered_check_is_old(
    damaged_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    (state / "cache").mkdir(parents=True)
    monkeypatch.setattr(store_module, "_checks_file", None)
    store_module.remember_checks_in(state)
    key = f"{damaged_store.stat().st_dev}:{damaged_store.stat().st_ino}"
    old = time.time() - store_module.INTEGRITY_EVERY_S - 1
    (state / "cache" / store_module.CHECKS_FILE_NAME).write_text(json.dumps({key: old}))
    before = digest(damaged_store)
    with pytest.raises(ResultsStoreError, match="the results store is damaged"):
        record(damaged_store, "run-x", WHEN, [result("a", True)])
    assert digest(damaged_store) == before


# --- Recovery: slo store check and slo store backup.


def test_store_check_reports_an_intact_store_and_changes_nothing(at: StoreAddress) -> None:
    path = at
    record(path, "run-1", WHEN, [result(f"s{j}", True) for j in range(25)])
    record(path, "run-2", WHEN, [result(f"s{j}", True) for j in range(25)])
    before = digest(path) if isinstance(path, Path) else raw(path, "SELECT * FROM evaluations ORDER BY seq")
    run = slo("store", "check", "--results", str(path))
    assert run.returncode == 0, run.stderr
    integrity = "ok" if isinstance(path, Path) else "ok (PostgreSQL: the server's; columns as expected)"
    assert run.stdout.splitlines() == [
        f"store        {path}",
        f"identity     results store (application_id {APPLICATION_ID:#x})",
        f"version      {SCHEMA_VERSION}",
        f"integrity    {integrity}",
        "evaluations  50 in 2 runs",
    ]
    after = digest(path) if isinstance(path, Path) else raw(path, "SELECT * FROM evaluations ORDER BY seq")
    assert after == before


def test_store_check_fails_on_a_damaged_store(damaged_store: Path) -> None:
    run = slo("store", "check", "--results", str(damaged_store))
    assert run.returncode == EXIT_RUNTIME
    assert "integrity    ok" not in run.stdout and f"store        {damaged_store}" in run.stdout
    assert "the results store is damaged" in one_error_line(run, damaged_store)


def test_store_check_on_a_missing_store_says_so(tmp_path: Path) -> None:
    run = slo("store", "check", "--results", str(tmp_path / "none.sqlite"))
    assert run.returncode == EXIT_RUNTIME and "no such results store" in one_error_line(run, tmp_path / "none.sqlite")
    assert not (tmp_path / "none.sqlite").exists()


def _start_writer(path: StoreAddress) -> subprocess.Popen[str]:
    """A process appending runs of 1,000 evaluations back to back, printing each run's number once written."""
    script = textwrap.dedent(
        f"""
        from datetime import UTC, datetime
        from dagster_project.results.store import record
        from tests.test_results_store import result
        i = 0
        while True:
            record({str(path)!r}, f"run-{{i}}", datetime.now(UTC), [result(f"s{{j}}", True) for j in range(1000)])
            print(i, flush=True)
            i += 1
        """
    )
    return subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent
    )


def test_a_backup_taken_while_a_writer_appends_holds_whole_runs_and_passes_check(tmp_path: Path) -> None:
    path, copy = tmp_path / "r.sqlite", tmp_path / "backup" / "r.sqlite"
    writer = _start_writer(path)
    assert writer.stdout is not None
    try:
        for _ in range(3):
            assert writer.stdout.readline() != ""
        run = slo("store", "backup", "--results", str(path), "-o", str(copy))
        assert writer.stdout.readline() != ""  # the writer kept writing: the backup did not stop it
    finally:
        writer.kill()
        writer.wait()
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"backed up {path} to {copy}: ")
    check = slo("store", "check", "--results", str(copy))
    assert check.returncode == 0, check.stdout + check.stderr
    con = sqlite3.connect(copy)
    count = con.execute("SELECT count(*) FROM evaluations").fetchone()[0]
    per_run = {n for (n,) in con.execute("SELECT count(*) FROM evaluations GROUP BY run_id")}
    con.close()
    assert count >= 3000 and per_run == {1000}
    assert f"evaluations  {count:,} in {count // 1000:,} runs" in check.stdout
    assert f"{count:,} evaluations" in run.stdout
    assert sorted(p.name for p in copy.parent.iterdir()) == ["r.sqlite"]


def test_a_backup_replaces_an_earlier_backup_but_never_another_file(tmp_path: Path) -> None:
    path, copy, notes = tmp_path / "r.sqlite", tmp_path / "b.sqlite", tmp_path / "notes.txt"
    record(path, "run-1", WHEN, [result("a", True)])
    assert slo("store", "backup", "--results", str(path), "-o", str(copy)).returncode == 0
    record(path, "run-2", WHEN, [result("a", True)])
    again = slo("store", "backup", "--results", str(path), "-o", str(copy))
    assert again.returncode == 0 and ": 2 evaluations" in again.stdout
    notes.write_text("not a store\n")
    refused = slo("store", "backup", "--results", str(path), "-o", str(notes))
    assert refused.returncode == EXIT_RUNTIME and "will not overwrite" in one_error_line(refused, notes)
    assert notes.read_text() == "not a store\n"
    itself = slo("store", "backup", "--results", str(path), "-o", str(path))
    assert itself.returncode == EXIT_USAGE and "is the results store itself" in one_error_line(itself, path)


def test_a_backup_of_a_damaged_store_is_refused_and_writes_nothing(damaged_store: Path, tmp_path: Path) -> None:
    copy = tmp_path / "backup" / "r.sqlite"
    run = slo("store", "backup", "--results", str(damaged_store), "-o", str(copy))
    assert run.returncode == EXIT_RUNTIME
    assert "no backup written" in one_error_line(run, damaged_store)
    assert list(copy.parent.iterdir()) == []


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="needs the sqlite3 command-line tool")
def test_the_readmes_dump_recipe_salvages_a_damaged_store_that_passes_check(
    damaged_store: Path, tmp_path: Path
) -> None:
    readme = (REPO / "README.md").read_text()
    at = readme.index("sqlite3 results.damaged.sqlite .dump")
    recipe = readme[readme.rindex("```\n", 0, at) + 4 : readme.index("```", at)]
    salvaged = tmp_path / "salvaged.sqlite"
    script = recipe.replace("results.damaged.sqlite", str(damaged_store)).replace(
        ".slo_state/results.sqlite", str(salvaged)
    )
    subprocess.run(["bash", "-c", script], check=True, capture_output=True)
    check = slo("store", "check", "--results", str(salvaged))
    assert check.returncode == 0, check.stdout + check.stderr
    con = sqlite3.connect(salvaged)
    count = con.execute("SELECT count(*) FROM evaluations").fetchone()[0]
    con.close()
    assert 3000 < count < 4000  # what the damaged page held is lost, the rest is kept


def test_every_store_command_has_help_with_examples() -> None:
    for command in (["store"], ["store", "check"], ["store", "backup"], ["store", "migrate"], ["store", "copy"]):
        run = slo(*command, "--help")
        assert run.returncode == 0 and "examples:" in run.stdout, command


# --- PostgreSQL: a database that holds something else is refused; moving a history between backends.


def test_a_database_with_an_evaluations_table_of_its_own_is_refused_and_unchanged(
    postgres: PostgresCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = new_postgres_store(postgres, monkeypatch)
    raw(url, "CREATE TABLE evaluations (id integer PRIMARY KEY, grade text)", "INSERT INTO evaluations VALUES (1, 'A')")
    with pytest.raises(ResultsStoreError, match=r"not a results store: the database holds an evaluations table of"):
        record(url, "run-1", WHEN, [result("a", True)])
    for command in ("check", "migrate"):
        run = slo("store", command, "--results", str(url))
        assert run.returncode == EXIT_RUNTIME and "not a results store" in one_error_line(run, url), command
    assert raw(url, "SELECT * FROM evaluations") == [(1, "A")]
    assert raw(url, "SELECT to_regclass('slo_results_store') IS NULL") == [(True,)]


def test_a_wrong_password_is_one_line_naming_the_url_without_any_password(
    postgres: PostgresCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = new_postgres_store(postgres, monkeypatch)
    monkeypatch.setenv("PGPASSWORD", "not-the-password")
    run = slo("store", "check", "--results", str(url))
    assert run.returncode == EXIT_RUNTIME
    assert "password authentication failed" in one_error_line(run, url)
    assert postgres.password not in run.stderr + run.stdout


def _history(address: StoreAddress) -> list[tuple[Any, ...]]:
    with ResultsStore(address) as store:
        return [tuple(vars(e).values()) for e in store.evaluations()]


def _fill(address: StoreAddress, runs: int, per_run: int = 50) -> None:
    """Runs of passes, failures and errors, with every optional column used."""
    for i in range(runs):
        records = []
        for j in range(per_run):
            outcome = [True, False, None][j % 3]
            records.append(
                {
                    **result(f"s{j}", outcome, None if outcome is None else j / 7, "boom" if outcome is None else None),
                    "indicator": "in_range",
                    "objective": 0.999,
                    "detail": f"d{j}" if j % 5 == 0 else None,
                }
            )
        record(address, f"run-{i}", WHEN, records)


def test_copy_moves_a_whole_history_to_postgresql_and_back_verified(
    postgres: PostgresCluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    lite, url, back = tmp_path / "r.sqlite", new_postgres_store(postgres, monkeypatch), tmp_path / "laptop.sqlite"
    _fill(lite, 30)
    there = slo("store", "copy", str(lite), str(url))
    assert there.returncode == 0, there.stderr
    assert there.stdout.startswith(f"copied 1,500 evaluations from {lite} to {url}; verified: 1,500 evaluations")
    home = slo("store", "copy", str(url), f"sqlite:///{back}")
    assert home.returncode == 0, home.stderr
    checksum = there.stdout.split("sha256 ")[1]
    assert home.stdout.split("sha256 ")[1] == checksum
    assert _history(lite) == _history(url) == _history(back)  # seq, values, errors, recorded_at: all the same
    record(url, "after", WHEN, [result("a", True)])  # the copy's numbering carries on after its highest seq
    with ResultsStore(url) as store:
        assert [e.seq for e in store.evaluations(run_id="after")] == [1501]


def test_an_interrupted_copy_resumes_where_it_stopped_without_duplicates(
    postgres: PostgresCluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from dagster_project.results.maintenance import copy_store

    lite, url = tmp_path / "r.sqlite", new_postgres_store(postgres, monkeypatch)
    _fill(lite, 20)

    def interrupt(done: int, total: int) -> None:
        if done >= 300:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        copy_store(lite, url, batch=150, progress=interrupt)
    with ResultsStore(url) as store:
        assert store.count() == 300  # two whole batches, nothing half-written
    _fill(lite, 2)  # the source moved on meanwhile
    again = slo("store", "copy", str(lite), str(url), "--batch", "150")
    assert again.returncode == 0, again.stderr
    assert "copied 800 evaluations" in again.stdout and "resuming after 300 already there" in again.stdout
    assert "verified: 1,100 evaluations on both sides" in again.stdout
    assert _history(lite) == _history(url)


def test_copy_refuses_a_destination_holding_other_rows_and_leaves_it(
    postgres: PostgresCluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    lite, url = tmp_path / "r.sqlite", new_postgres_store(postgres, monkeypatch)
    _fill(lite, 2)
    record(url, "theirs", WHEN, [result("other", False)])
    run = slo("store", "copy", str(lite), str(url))
    assert run.returncode == EXIT_RUNTIME
    assert "holds 1 evaluations that are not the first ones of" in one_error_line(run, url)
    assert [row[1] for row in _history(url)] == ["theirs"]
    itself = slo("store", "copy", str(lite), f"sqlite:///{lite}")
    assert itself.returncode == EXIT_USAGE and "is the source store itself" in itself.stderr


def test_backup_of_a_postgresql_store_says_what_to_use_instead(
    postgres: PostgresCluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = new_postgres_store(postgres, monkeypatch)
    run = slo("store", "backup", "--results", str(url), "-o", str(tmp_path / "b.sqlite"))
    assert run.returncode == EXIT_USAGE and "pg_dump" in run.stderr and "slo store copy" in run.stderr


def test_the_dagster_resource_records_into_a_postgresql_store_named_by_its_url(
    postgres: PostgresCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster_project.defs.resources import ResultsStoreResource

    url = new_postgres_store(postgres, monkeypatch)
    resource = ResultsStoreResource(path=str(url))
    resource.record("dagster-run-1", WHEN, [result("a", True), result("b", None, None, "boom")])
    assert [(row[1], row[2], row[11]) for row in _history(url)] == [
        ("dagster-run-1", "a", True),
        ("dagster-run-1", "b", None),
    ]


def test_runs_need_only_insert_and_select_and_readers_only_select(
    postgres: PostgresCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The privileges docs/deploying.md gives the roles of runs and of readers are enough (and a reader's role
    cannot write)."""
    from dagster_project.exporter.history import History

    url = new_postgres_store(postgres, monkeypatch)
    assert slo("store", "migrate", "--results", str(url)).returncode == 0
    tag = url.url.rsplit("/", 1)[1]
    writer, reader = f"{tag}_writer", f"{tag}_reader"
    raw(
        url,
        f"CREATE ROLE {writer} LOGIN PASSWORD '{postgres.password}'",
        f"CREATE ROLE {reader} LOGIN PASSWORD '{postgres.password}'",
        f"GRANT SELECT, INSERT ON evaluations TO {writer}",
        f"GRANT SELECT ON slo_results_store TO {writer}, {reader}",
        f"GRANT USAGE ON SEQUENCE evaluations_seq_seq TO {writer}",
        f"GRANT SELECT ON evaluations TO {reader}",
    )
    as_writer = PostgresUrl(url.url.replace(f"{postgres.user}@", f"{writer}@"))
    as_reader = PostgresUrl(url.url.replace(f"{postgres.user}@", f"{reader}@"))
    assert record(as_writer, "run-1", WHEN, [result("a", True), result("b", False)]) == 2
    history = History(as_reader)
    assert history.refresh() == 2
    with pytest.raises(ResultsStoreError, match=r"cannot record 1 results: permission denied .*nothing was recorded"):
        record(as_reader, "run-2", WHEN, [result("a", True)])
    with ResultsStore(as_reader) as store:
        assert store.count() == 2


def test_every_command_reads_and_writes_a_postgresql_store_as_it_does_a_file(at: StoreAddress, tmp_path: Path) -> None:
    """`slo check` records, then `slo tree`, `slo explain`, `slo report` and `slo validate --results` read, the
    same on both backends (the store named once, by SLO_RESULTS, as a deployment sets it)."""
    import json

    from tests.cli_support import run_slo
    from tests.test_start_small import CHECKED_AT, SPEC, make_flights

    db, env = make_flights(tmp_path / "flights.duckdb"), {"SLO_RESULTS": str(at)}
    check = run_slo(
        "check", "--slos", str(SPEC), "--db", str(db), "--as-of", CHECKED_AT, "--json", cwd=tmp_path, env=env
    )
    assert check.returncode == 0, check.stderr
    with ResultsStore(at) as store:
        assert [(e.slo_id, e.passed, e.observed) for e in store.evaluations()] == [("flights_fresh", True, 3600.0)]
    tree = run_slo("tree", "--slos", str(SPEC), cwd=tmp_path, env=env)
    assert tree.returncode == 0 and "data product flights (no North Star declared)  [1 ok]" in tree.stdout, tree.stderr
    explain = run_slo(
        "explain", "flights_fresh", "--slos", str(SPEC), "--json", "--as-of", "2026-11-27T07:00:00Z",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert explain.returncode == 0 and json.loads(explain.stdout)["latest"]["status"] == "ok", explain.stderr
    report = run_slo("report", "--slos", str(SPEC), "--db", str(db), "-o", str(tmp_path / "r"), cwd=tmp_path, env=env)
    assert report.returncode == 0 and (tmp_path / "r" / "flights.html").is_file(), report.stderr
    validate = run_slo("validate", str(SPEC), "--results", str(at), cwd=tmp_path)
    assert validate.returncode == 0, validate.stderr


def test_every_part_of_a_result_record_is_a_column_kept_as_extra_or_derived_from_the_spec() -> None:
    """A part added to the result record must be given a place in the store (a column or the extra JSON) or be
    declared derived: none is silently dropped."""
    from dagster_project.slo.evaluation import Evaluation
    from dagster_project.slo.from_spec import slos_from_spec
    from dagster_project.slo.report import KEPT_AS_EXTRA, NOT_KEPT, as_json
    from dagster_project.spec.validate import validate

    (slo, *_) = slos_from_spec(validate([REPO / "tests" / "specs" / "good" / "flights_minimal.yaml"])[0][0].spec)
    columns = {"slo", "product", "dimension", "dataset", "indicator", "passed", "observed", "threshold", "severity",
               "objective", "status", "engine", "error", "detail"}  # fmt: skip
    assert set(as_json(Evaluation(slo, 0.5))) == columns | set(KEPT_AS_EXTRA) | set(NOT_KEPT)
    assert not columns & set(KEPT_AS_EXTRA + NOT_KEPT) and not set(KEPT_AS_EXTRA) & set(NOT_KEPT)
