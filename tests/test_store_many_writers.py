"""Many writers and readers on one PostgreSQL results store, as a team's deployment has them: 8 processes write runs
(Dagster runs on several machines) while two exporters and a report read, and one more writer is killed in the
middle of its transaction. Nothing fails, no evaluation is lost or written twice, the killed run left no row, and
the two exporters, which read incrementally (only rows after the last one they saw) all along, end with exactly the
rows in the store and render the same numbers.

Writers are spawned, never forked (a forked pool inheriting a held lock hung CI before)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dagster_project.exporter.server import Exporter, ExporterConfig
from dagster_project.report.build import reports
from dagster_project.results.address import PostgresUrl
from dagster_project.results.store import ResultsStore, record
from dagster_project.spec.validate import validate
from tests.conftest import REPO
from tests.server_support import PostgresCluster

WRITERS = 8
RUNS = 40  # per writer: 8 x 40 runs of every SLO of the bundled example
KILLED_RUN = 20_000  # evaluations in the run whose writer is killed mid-transaction
START = datetime(2026, 11, 27, tzinfo=UTC)


def _slo_ids() -> list[str]:
    specs, _ = validate([REPO / "slo_definitions"])
    return [s.id for s in specs[0].spec.slos]


def _result(slo: str, k: int) -> dict[str, object]:
    passed = [True, True, False, None][k % 4]
    return {
        "slo": slo,
        "product": "product_affinity",
        "dimension": "validity",
        "dataset": "raw.orders",
        "observed": None if passed is None else (1.0 if passed else 0.5),
        "threshold": {"bound": "min", "value": 0.99},
        "passed": passed,
        "severity": "error",
        "engine": "native",
        "error": "boom" if passed is None else None,
    }


def _writer(url: str, writer: int) -> None:
    ids = _slo_ids()
    for i in range(RUNS):
        at = START + timedelta(minutes=10 * i + writer)
        record(url, f"w{writer}-{i}", at, [_result(slo, writer + i + k) for k, slo in enumerate(ids)])


def _start_killed_writer(url: str) -> subprocess.Popen[str]:
    """Writes one huge run and says when it has begun; the test kills it before it can commit."""
    script = textwrap.dedent(
        f"""
        import sys
        from dagster_project.results import postgres as pg
        from dagster_project.results.address import PostgresUrl
        from dagster_project.results.store import INSERT_COLUMNS
        con = pg.connect(PostgresUrl({url!r}))
        row = ("killed", "x", "p", "validity", "raw.orders", 1.0, 1.0, 0.5, "min", 0.9, 1, "error", "native", None,
               None, None, None)
        copy = "COPY evaluations ({{}}) FROM STDIN".format(", ".join(INSERT_COLUMNS))
        with pg.transaction(con, "writers"):
            with con.cursor() as cur, cur.copy(copy) as c:
                for i in range({KILLED_RUN}):
                    c.write_row(row)
                    if i == {KILLED_RUN // 2}:
                        print("writing", flush=True)
                        sys.stdin.readline()  # held mid-transaction until killed
        """
    )
    return subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO
    )


def test_eight_writers_two_exporters_and_a_report_on_postgresql_lose_and_duplicate_nothing(
    postgres: PostgresCluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PGPASSWORD", postgres.password)
    url = PostgresUrl(postgres.url(postgres.create_database()))
    specs, _ = validate([REPO / "slo_definitions"])
    spec_files = [s.spec for s in specs]
    ids = [s.id for s in spec_files[0].slos]
    config = ExporterConfig(spec_files, url, database=None)
    exporters = [Exporter(config), Exporter(config)]
    for exporter in exporters:
        exporter.refresh()  # the store is made here, before anyone writes

    done, errors = threading.Event(), []
    reads = {"exporter": 0, "report": 0}

    def read(what: str, step: object) -> None:
        try:
            while not done.is_set():
                step()  # type: ignore[operator]
                reads[what] += 1
        except Exception as exc:  # any error a reader meets fails the test
            errors.append(f"{what}: {exc!r}")

    now = START + timedelta(days=1)
    readers = [
        threading.Thread(target=read, args=("exporter", lambda e=e: e.refresh(now.timestamp()))) for e in exporters
    ]
    readers.append(threading.Thread(target=read, args=("report", lambda: reports(spec_files, url, now, None, None))))
    for reader in readers:
        reader.start()
    killed = _start_killed_writer(str(url))
    try:
        assert killed.stdout is not None and killed.stdout.readline() == "writing\n"
        ctx = multiprocessing.get_context("spawn")
        writers = [ctx.Process(target=_writer, args=(str(url), k)) for k in range(WRITERS)]
        for w in writers:
            w.start()
        os.kill(killed.pid, signal.SIGKILL)  # mid-transaction, holding the writers' lock, while the others queue
        killed.wait()
        for w in writers:
            w.join()
    finally:
        if killed.poll() is None:
            killed.kill()
            killed.wait()
        done.set()
        for reader in readers:
            reader.join()
    assert [w.exitcode for w in writers] == [0] * WRITERS
    assert errors == []
    assert reads["exporter"] >= 2 and reads["report"] >= 1  # they did read while the writers wrote

    expected = WRITERS * RUNS * len(ids)
    with ResultsStore(url) as store:
        assert store.count() == expected
        per_run = store.execute("SELECT run_id, count(*), count(DISTINCT slo_id) FROM evaluations GROUP BY run_id")
        runs = {run: (n, distinct) for run, n, distinct in per_run}
    assert "killed" not in runs  # the killed writer's transaction left nothing
    assert runs == {f"w{k}-{i}": (len(ids), len(ids)) for k in range(WRITERS) for i in range(RUNS)}

    bodies = []
    for exporter in exporters:  # one last catch-up, then both must have read every row exactly once
        body = exporter.refresh(now.timestamp()).decode()
        assert exporter.history.rows == expected
        bodies.append([line for line in body.splitlines() if line and not line.startswith(("#", "dataslo_exporter_"))])
    assert bodies[0] == bodies[1] and len(bodies[0]) > 31 * 10
    fresh = Exporter(config)  # and what they read incrementally is what one reading everything at once gets
    assert bodies[0] == [
        line
        for line in fresh.refresh(now.timestamp()).decode().splitlines()
        if line and not line.startswith(("#", "dataslo_exporter_"))
    ]
