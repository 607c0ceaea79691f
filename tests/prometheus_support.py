"""Real Prometheus and Pushgateway processes for integration tests, on loopback ports, with their own data dirs.

With CI=true a missing binary fails the test (`.ci/run` installs the Debian packages); elsewhere the test skips and
says how to install them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

INSTALL = "sudo apt-get install -y --no-install-recommends prometheus prometheus-pushgateway"


def binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed; .ci/run must install it ({INSTALL})")
        pytest.skip(f"{name} is not installed; to run this test: {INSTALL}")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_http(url: str, timeout_s: float = 60.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise AssertionError(f"process for {url} exited with {proc.returncode}") from None
            if time.monotonic() > deadline:
                raise AssertionError(f"{url} did not answer within {timeout_s:.0f} s") from None
            time.sleep(0.2)


@contextmanager
def running(args: list[str], url: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_http(url, proc=proc)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class PrometheusApi:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def get(self, path: str, **params: str) -> Any:
        url = f"{self.base}{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=30) as response:
            body = json.loads(response.read())
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        data = self.get("/api/v1/query", query=expr)
        result: list[dict[str, Any]] = data["result"]
        return result

    def wait_for(self, expr: str, timeout_s: float = 60.0) -> list[dict[str, Any]]:
        """The query's result once it is not empty."""
        deadline = time.monotonic() + timeout_s
        while True:
            result = self.query(expr)
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"no data for {expr} within {timeout_s:.0f} s")
            time.sleep(0.5)


# What Grafana puts in place of the dashboards' variables: one product, and every SLO (the slo variable's "All",
# whose allValue is ".*").
def grafana_expr(expr: str, product: str, slo: str = ".*") -> str:
    """A panel query as Grafana sends it to Prometheus for the given variable values."""
    return expr.replace("$product", product).replace("$slo", slo)


def label_values(api: PrometheusApi, definition: str) -> set[str]:
    """A `label_values(selector, label)` variable query as Grafana's Prometheus datasource runs it."""
    match = re.fullmatch(r"label_values\((.+), *(\w+)\)", definition.strip())
    assert match is not None, definition
    selector, label = match.groups()
    data = api.get(f"/api/v1/label/{label}/values", **{"match[]": selector})
    return set(data)
