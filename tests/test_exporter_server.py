"""The exporter's HTTP server under rough clients: one that hangs up mid-response leaves no traceback, 200 scrapers
at once are all answered (the listen backlog is well above socketserver's 5), and an idle kept-alive connection is
closed by the server instead of holding a thread for ever."""

from __future__ import annotations

import socket
import struct
import sys
import threading
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dagster_project.exporter.server import LISTEN_BACKLOG, Exporter, ExporterConfig, make_server
from dagster_project.results.store import record
from dagster_project.slo.from_spec import all_slos
from dagster_project.spec.validate import validate
from tests.conftest import REPO
from tests.prometheus_support import free_port, running


def _store(tmp: Path) -> Path:
    specs, issues = validate([REPO / "slo_definitions"])
    assert issues == []
    when = datetime.now(UTC).replace(microsecond=0)
    results = [
        {
            "slo": s.id,
            "product": s.product,
            "dimension": s.dimension,
            "dataset": s.dataset,
            "observed": 1.0,
            "threshold": {"bound": s.threshold.bound, "value": s.threshold.value},
            "passed": True,
            "severity": s.severity,
            "engine": "native",
            "error": None,
        }
        for s in all_slos([s.spec for s in specs])
    ]
    record(tmp / "results.sqlite", "run-1", when, results)
    return tmp / "results.sqlite"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, int, socket.socket]]:
    """The exporter's server in this process, on a loopback port, with a one-second idle timeout."""
    specs, _ = validate([REPO / "slo_definitions"])
    config = ExporterConfig(specs=[s.spec for s in specs], results=_store(tmp_path), database=None)
    exporter = Exporter(config)
    exporter.refresh()
    httpd = make_server(exporter, "127.0.0.1", 0, idle_timeout_s=1.0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", int(httpd.server_address[1]), httpd.socket
    finally:
        httpd.shutdown()
        httpd.server_close()


def _scrape(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=120) as response:
        return response.status, response.read()


def test_two_hundred_concurrent_scrapers_are_all_answered(server: tuple[str, int, socket.socket]) -> None:
    host, port, listener = server
    # The listening socket's backlog as the kernel holds it (TCP_INFO's tcpi_sacked, on a listener).
    info = listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    assert struct.unpack_from("8B6I", info)[13] == LISTEN_BACKLOG >= 128
    url = f"http://{host}:{port}/metrics"
    with ThreadPoolExecutor(max_workers=200) as pool:
        answers = list(pool.map(_scrape, [url] * 200))
    assert {status for status, _body in answers} == {200}
    assert len({body for _status, body in answers}) == 1 and b"dataslo_" in answers[0][1]


def test_an_idle_connection_is_closed_by_the_server(server: tuple[str, int, socket.socket]) -> None:
    host, port, _listener = server
    with socket.create_connection((host, port)) as idle:
        idle.settimeout(120)  # only so that a server that never closes fails the test instead of hanging it
        assert idle.recv(1) == b""  # the server closed it: it sent nothing, then end of stream
    with socket.create_connection((host, port)) as kept:  # a kept-alive connection too, after one answer
        kept.settimeout(120)
        kept.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        received = b""
        while True:
            chunk = kept.recv(65536)
            if not chunk:
                break
            received += chunk
    assert received.startswith(b"HTTP/1.1 200 ") and received.endswith(b"ok\n")


def test_clients_hanging_up_mid_response_leave_no_traceback(tmp_path: Path) -> None:
    store = _store(tmp_path)
    port = free_port()
    args = [sys.executable, "-m", "dagster_project.cli.main", "serve", "--results", str(store)]
    args += ["--db", str(tmp_path / "absent.duckdb"), "--port", str(port), "--slos", str(REPO / "slo_definitions")]
    log = tmp_path / "serve.log"
    with running(args, f"http://127.0.0.1:{port}/healthz", log):
        for _ in range(200):
            client = socket.create_connection(("127.0.0.1", port))
            client.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            client.recv(1)  # the answer has started
            # Hang up hard (RST), as a scraper killed mid-scrape does, with most of the body unread.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()
        status, _body = _scrape(f"http://127.0.0.1:{port}/metrics")  # still serving
        assert status == 200
    text = log.read_text()
    assert "Traceback" not in text and "BrokenPipe" not in text and "ConnectionReset" not in text, text[:2000]
