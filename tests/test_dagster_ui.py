"""`dagster dev` from the repository root: the UI loads the definitions and "Materialize all" builds the product.

The run is launched through the webserver's GraphQL API, the same call the UI's launch button makes, so it goes
through dagster dev's own run launcher and code server, not through our CLI.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dagster_project.defs.check_jobs import CHECK_JOB, GX_JOB
from dagster_project.results.store import ResultsStore
from dagster_project.warehouse.connection import connect, row_count
from tests.conftest import BUILD_JOB, REPO

LAUNCH = """
mutation Launch($job: String!) {
  launchRun(executionParams: {selector: {repositoryLocationName: "slo_monitor", repositoryName: "__repository__",
                                         jobName: $job}, runConfigData: {}}) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
  }
}
"""
STATUS = "query Status($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _graphql(port: int, query: str, variables: dict[str, str]) -> dict[str, Any]:
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        data: dict[str, Any] = json.loads(response.read())["data"]
        return data


@pytest.fixture
def dagster_dev(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    port = _free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "SLO_STATE_DIR": str(tmp_path),
        "SLO_DATA_DIR": str(REPO / "sample_data"),
        "SLO_AS_OF": "2026-11-27T00:00:00Z",
    }
    dagster = Path(sys.executable).parent / "dagster"
    proc = subprocess.Popen(
        [str(dagster), "dev", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2).close()
                break
            except OSError:
                assert proc.poll() is None, "dagster dev exited"
                assert time.monotonic() < deadline, "dagster dev did not answer within 120 s"
                time.sleep(0.5)
        yield port, tmp_path
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


SCHEDULES = """
query { schedulesOrError(repositorySelector: {repositoryLocationName: "slo_monitor", repositoryName: "__repository__"})
        { ... on Schedules { results { name cronSchedule pipelineName } } } }
"""


def _launch_and_wait(port: int, job: str) -> tuple[str, str | None]:
    launched = _graphql(port, LAUNCH, {"job": job})["launchRun"]
    assert isinstance(launched, dict) and launched["__typename"] == "LaunchRunSuccess", launched
    run_id: str = launched["run"]["runId"]
    status = None
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        run = _graphql(port, STATUS, {"id": run_id})["runOrError"]
        status = run.get("status") if isinstance(run, dict) else None
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(1)
    return run_id, status


def test_materialize_all_from_the_ui_builds_and_publishes_the_product(dagster_dev: tuple[int, Path]) -> None:
    port, state = dagster_dev
    build_run, status = _launch_and_wait(port, BUILD_JOB)
    assert status == "SUCCESS"
    with connect(state / "warehouse.duckdb", read_only=True) as con:
        assert row_count(con, "product_affinity.product_pair_affinity") > 0
        assert row_count(con, "staging.order_lines") == 19_318
    # The GX checkpoint, launched from the UI as well, on what the build published; both runs keep their results.
    gx_run, status = _launch_and_wait(port, GX_JOB)
    assert status == "SUCCESS"
    with ResultsStore(state / "results.sqlite") as store:
        assert len(store.evaluations(run_id=build_run)) == 31
        assert {e.engine for e in store.evaluations(run_id=gx_run)} == {"gx", "native"}
    assert (state / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html").is_file()
    # The schedules the usage patterns ask for.
    schedules = _graphql(port, SCHEDULES, {})["schedulesOrError"]
    assert isinstance(schedules, dict)
    assert {(s["name"], s["cronSchedule"], s["pipelineName"]) for s in schedules["results"]} == {
        (f"{BUILD_JOB}__0_5_x_x_x", "0 5 * * *", BUILD_JOB),
        (f"{CHECK_JOB}__0_x_x_x_x", "0 * * * *", CHECK_JOB),
    }
