"""Pushing to a Pushgateway is a convenience: a malformed address is refused before anything runs (exit 2, one line),
a push that fails for any reason is a warning and never fails a run, and a build pushes only after it published, so
a slow gateway cannot hold up the publish."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dagster_project.errors import UsageError
from dagster_project.exporter.push import push
from dagster_project.results.store import ResultsStore
from dagster_project.settings import parse_pushgateway, settings_from_env
from tests.conftest import AS_OF, REPO, make_settings, make_sources
from tests.prometheus_support import binary, free_port, running

MALFORMED = ["http://[::1", ":notaport", "ftp://x", "http://gw:99999", "http://gw:notaport"]
RESULT = {"slo": "orders_fresh", "product": "shop", "passed": True, "observed": 60.0}


def slo(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dagster_project.cli.main", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize("url", MALFORMED)
def test_a_malformed_pushgateway_url_is_refused_up_front_with_exit_2(tmp_path: Path, url: str) -> None:
    store = tmp_path / "results.sqlite"
    given = slo("check", "--db", str(tmp_path / "any.duckdb"), "--results", str(store), "--pushgateway", url)
    assert given.returncode == 2, given.stderr
    assert given.stderr.startswith(f"error: --pushgateway: {url!r} is not a Pushgateway URL (")
    assert len(given.stderr.splitlines()) == 1 and "unexpected" not in given.stderr
    from_env = slo("run", "--state-dir", str(tmp_path / "state"), env={"SLO_PUSHGATEWAY": url})
    assert from_env.returncode == 2, from_env.stderr
    assert from_env.stderr.startswith(f"error: SLO_PUSHGATEWAY: {url!r} is not a Pushgateway URL (")
    assert not store.exists() and not (tmp_path / "state").exists()  # nothing ran
    # Dagster's settings: refused when the definitions load, before any run.
    with pytest.raises(UsageError, match="SLO_PUSHGATEWAY"):
        settings_from_env({"SLO_PUSHGATEWAY": url})


def test_a_pushgateway_address_reads_as_prometheus_client_reads_it() -> None:
    assert parse_pushgateway("localhost:9091") == "http://localhost:9091"
    assert parse_pushgateway("https://gw.example/prefix/") == "https://gw.example/prefix"
    assert parse_pushgateway("http://[::1]:9091") == "http://[::1]:9091"
    assert parse_pushgateway("  ") == ""


@contextmanager
def gateway(answer: Callable[[socket.socket], None]) -> Iterator[tuple[str, list[Any]]]:
    """A loopback server that accepts every connection and hands it to `answer`; yields its URL and a list the
    test can fill from `answer`."""
    server = socket.create_server(("127.0.0.1", 0))
    server.listen(16)
    seen: list[Any] = []
    stop = threading.Event()
    open_connections: list[socket.socket] = []

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            open_connections.append(conn)
            answer(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}", seen
    finally:
        stop.set()
        thread.join()
        for conn in open_connections:
            conn.close()
        server.close()


def _silent(_conn: socket.socket) -> None:
    """Accept, then never answer: a gateway that hangs."""


def _http_500(conn: socket.socket) -> None:
    conn.recv(65536)
    conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def _garbage(conn: socket.socket) -> None:
    conn.recv(65536)
    conn.sendall(b"this is not HTTP\r\n\r\n")
    conn.close()


@pytest.mark.parametrize("answer", [_silent, _http_500, _garbage], ids=["silent", "http_500", "not_http"])
def test_a_failed_push_is_a_warning_whatever_the_reason(answer: Callable[[socket.socket], None]) -> None:
    with gateway(answer) as (url, _seen):
        warning = push(url, datetime.now(UTC), [RESULT])
    assert warning is not None and warning.startswith(f"could not push to {url}: ")


def test_a_push_to_nothing_listening_is_a_warning() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    warning = push(url, datetime.now(UTC), [RESULT])
    assert warning is not None and warning.startswith(f"could not push to {url}: ")


def test_slo_check_with_a_silent_pushgateway_warns_and_records(tmp_path: Path) -> None:
    from tests.test_database_check import MINIMAL, make_database, write_spec

    db = make_database(tmp_path / "warehouse.duckdb")
    spec = write_spec(tmp_path / "spec", MINIMAL)
    store = tmp_path / "results.sqlite"
    with gateway(_silent) as (url, _seen):
        args = ["--db", str(db), "--slos", str(spec), "--results", str(store), "--json", "--as-of", AS_OF.isoformat()]
        result = slo("check", *args, "--pushgateway", url)
    assert result.returncode == 0, result.stderr
    assert f"warning: could not push to {url}: " in result.stderr and "Traceback" not in result.stderr
    (only,) = json.loads(result.stdout)["results"]
    assert only["slo"] == "orders_fresh" and only["passed"] is True
    with ResultsStore(store) as kept:
        assert kept.count() == 1


def test_a_build_pushes_after_it_published_and_a_silent_gateway_only_warns(tmp_path: Path) -> None:
    from dagster_project.defs.runner import run_build

    base = make_settings(tmp_path, make_sources(tmp_path / "src", orders=2_000))
    published_when_pushed: list[bool] = []

    def silent_but_look(conn: socket.socket) -> None:
        published_when_pushed.append(base.database.is_file())

    with gateway(silent_but_look) as (url, _seen):
        settings = replace(base, pushgateway=url)
        build = run_build(settings)
    assert build.published and build.results
    assert published_when_pushed == [True]  # one try, after the publish; then the push gave up
    with ResultsStore(settings.results_path) as kept:
        assert kept.count() == len(build.results)


def test_a_build_pushes_every_result_to_a_real_pushgateway(tmp_path: Path) -> None:
    from dagster_project.defs.runner import run_build

    port = free_port()
    args = [binary("prometheus-pushgateway"), f"--web.listen-address=127.0.0.1:{port}", "--persistence.file="]
    base = make_settings(tmp_path, make_sources(tmp_path / "src", orders=2_000))
    with running(args, f"http://127.0.0.1:{port}/-/ready", tmp_path / "pushgateway.log"):
        settings = replace(base, pushgateway=f"http://127.0.0.1:{port}")
        build = run_build(settings)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/metrics", timeout=30) as response:
            groups = json.loads(response.read())["data"]
    assert build.published
    pushed = {g["labels"]["slo"] for g in groups if g["labels"].get("job") == "dataslo_push"}
    assert pushed == {r["slo"] for r in build.results}
