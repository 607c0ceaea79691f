"""/healthz says when part of /metrics is missing: a measure (the North Star's, a goal's) that cannot be computed
makes it answer 503 naming the measure and DuckDB's reason, instead of "ok" while the North Star disappears."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from pathlib import Path

from dagster_project.exporter import names as n
from dagster_project.exporter.server import Exporter, ExporterConfig, make_server
from dagster_project.spec.validate import validate
from tests.test_database_check import MINIMAL, make_database


def healthz(tmp_path: Path, expression: str) -> tuple[int, str, bytes]:
    spec = tmp_path / "spec.yaml"
    spec.write_text(MINIMAL.replace("expression: avg(value)", f"expression: {expression}"))
    specs, issues = validate([spec])
    assert issues == []  # a misspelt column parses: only the database can tell
    db = make_database(tmp_path / "warehouse.duckdb")
    exporter = Exporter(ExporterConfig(specs=[s.spec for s in specs], results=tmp_path / "r.sqlite", database=db))
    body = exporter.refresh()
    server = make_server(exporter, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return response.status, response.read().decode(), body
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(), body
    finally:
        server.shutdown()
        server.server_close()


def test_healthz_reports_a_measure_that_cannot_be_computed(tmp_path: Path) -> None:
    status, text, metrics = healthz(tmp_path, "sum(valeu)")
    assert status == 503
    assert text.startswith("degraded: measure shop.share cannot be computed: Binder Error: Referenced column")
    assert "valeu" in text
    assert f"{n.NORTH_STAR_VALUE.name}{{".encode() not in metrics  # what /healthz explains


def test_healthz_is_ok_when_every_measure_is_computed(tmp_path: Path) -> None:
    status, text, metrics = healthz(tmp_path, "sum(value)")
    assert (status, text) == (200, "ok\n")
    assert f"{n.NORTH_STAR_VALUE.name}{{".encode() in metrics
