"""The store and the exporter under load: twenty runs write results while /metrics is scraped about fifty times a
second for a minute. No error responses, no lock errors, and every evaluation written is in the store and in the
exported counters. (A writer killed with SIGKILL mid-write: test_results_store.py.)"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from dagster_project.exporter import names as n
from dagster_project.results.store import ResultsStore
from dagster_project.settings import Settings
from tests.conftest import AS_OF, REPO
from tests.prometheus_support import free_port, running

RUNS = 20
SCRAPE_SECONDS = 60
SCRAPES_PER_SECOND = 50


def _scrape(url: str, stop: threading.Event, out: list[tuple[int, float]]) -> None:
    """Scrape at a steady rate until stopped; record (status, seconds) per request (status 0: no response)."""
    interval = 2.0 / SCRAPES_PER_SECOND  # two scrapers share the rate
    next_at = time.monotonic()
    while not stop.is_set():
        started = time.monotonic()
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                response.read()
                out.append((response.status, time.monotonic() - started))
        except OSError:
            out.append((0, time.monotonic() - started))
        next_at += interval
        time.sleep(max(0.0, next_at - time.monotonic()))


def _counter_total(url: str) -> float:
    with urllib.request.urlopen(url, timeout=10) as response:
        body = response.read().decode()
    prefix = n.EVALUATIONS.sample + "{"
    return sum(float(line.rsplit(" ", 1)[1]) for line in body.splitlines() if line.startswith(prefix))


@pytest.mark.slow
def test_twenty_runs_while_metrics_are_scraped_fifty_times_a_second(tmp_path: Path, built_product: Settings) -> None:
    store = tmp_path / "results.sqlite"
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    serve = [sys.executable, "-m", "dagster_project.cli.main", "serve", "--port", str(port), "--refresh", "0.5"]
    serve += ["--results", str(store), "--db", str(built_product.database), "--slos", str(REPO / "slo_definitions")]
    log = tmp_path / "serve.log"
    with running(serve, url, log):
        stop, scrapes = threading.Event(), [list[tuple[int, float]]() for _ in range(2)]
        scrapers = [threading.Thread(target=_scrape, args=(url, stop, s)) for s in scrapes]
        for t in scrapers:
            t.start()
        started = time.monotonic()

        def one_run(i: int) -> subprocess.CompletedProcess[str]:
            as_of = (AS_OF + timedelta(minutes=i)).isoformat()
            args = ["check", "--db", str(built_product.database), "--results", str(store), "--as-of", as_of]
            return subprocess.run(
                [sys.executable, "-m", "dagster_project.cli.main", *args],
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=300,
            )

        with ThreadPoolExecutor(max_workers=2) as pool:  # two writers at a time, as a UI run beside a schedule
            runs = list(pool.map(one_run, range(RUNS)))
        time.sleep(max(0.0, SCRAPE_SECONDS - (time.monotonic() - started)))
        stop.set()
        for t in scrapers:
            t.join()
        time.sleep(1.5)  # a refresh after the last write
        exported = _counter_total(url)
    failed_runs = [(r.returncode, r.stderr[-500:]) for r in runs if r.returncode != 0]
    assert failed_runs == []
    responses = [status for s in scrapes for status, _ in s]
    assert len(responses) >= SCRAPE_SECONDS * SCRAPES_PER_SECOND * 0.8, len(responses)
    assert set(responses) == {200}
    assert "locked" not in log.read_text() and "Traceback" not in log.read_text()
    with ResultsStore(store) as kept:
        assert kept.count() == RUNS * 31
        assert len({e.run_id for e in kept.evaluations()}) == RUNS
    assert exported == RUNS * 31
