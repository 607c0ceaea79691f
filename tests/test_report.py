"""`slo report`: a self-contained HTML report per data product, checked as a browser shows it (headless Chromium):
no console errors, nothing fetched from the network, and the key elements and numbers present. The screenshot is
kept in test-artifacts/."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from dagster_project.exporter.server import Exporter, ExporterConfig
from dagster_project.report.build import reports
from dagster_project.report.html import render
from dagster_project.results.store import ResultsStore, record
from dagster_project.slo.domain import Slo
from dagster_project.slo.from_spec import slos_from_spec
from dagster_project.spec.validate import validate
from tests.cli_support import run_slo
from tests.conftest import AS_OF, REPO, make_sources

ARTIFACTS = REPO / "test-artifacts"
INSTALL = "sudo apt-get install -y --no-install-recommends chromium"


def slo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_slo(*args, cwd=cwd)


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"chromium is not installed; .ci/run must install it ({INSTALL})")
        pytest.skip(f"chromium is not installed; to run this test: {INSTALL}")
    return path


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two builds an hour apart - clean, then with prices out of range - and the report an hour later."""
    tmp = tmp_path_factory.mktemp("report")
    state = tmp / "state"
    clean = make_sources(tmp / "clean", orders=2_000)
    first = slo("run", "--data-dir", str(clean), "--state-dir", str(state), "--as-of", AS_OF.isoformat(), cwd=tmp)
    assert first.returncode == 0, first.stderr
    faulty = tmp / "faulty"
    later = AS_OF + timedelta(hours=1)
    generated = slo(
        "generate-data", "--out", str(faulty), "--orders", "2000", "--as-of", later.isoformat(),
        "--fault", "out_of_range", cwd=tmp,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stderr
    second = slo("run", "--data-dir", str(faulty), "--state-dir", str(state), "--as-of", later.isoformat(), cwd=tmp)
    assert second.returncode == 1, second.stdout
    out = tmp / "report"
    as_of = (AS_OF + timedelta(hours=2)).isoformat()
    written = slo("report", "--state-dir", str(state), "-o", str(out), "--as-of", as_of, cwd=REPO)
    assert written.returncode == 0, written.stderr
    return out / "product_affinity.html", state


def test_the_report_is_self_contained(report: tuple[Path, Path]) -> None:
    html = report[0].read_text()
    assert not re.search(r"<script|<link|@import|url\(|\ssrc=", html, re.IGNORECASE)
    hrefs = re.findall(r"href='([^']*)'", html)
    assert all(not h.startswith(("http:", "https:", "//")) for h in hrefs), hrefs


def test_the_report_shows_the_numbers_in_a_browser(report: tuple[Path, Path]) -> None:
    path, state = report
    browser = chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report-product_affinity.png"
    shot.unlink(missing_ok=True)
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"]
    common += ["--window-size=1200,4000", f"--user-data-dir={path.parent / 'profile'}"]
    dom = subprocess.run([*common, "--dump-dom", path.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    shown = dom.stdout
    with ResultsStore(state / "results.sqlite") as store:
        latest = store.latest()
    # The North Star and its target, each dimension's badge, the breach with what it threatens, every SLO's row.
    assert re.search(r"id=\"north-star-value\">\d+\.\d%<", shown)
    assert 'id="north-star-target">75%<' in shown
    for dimension in ("freshness", "completeness", "validity", "uniqueness", "accuracy", "schema", "governance"):
        assert f'id="badge-{dimension}"' in shown
    assert latest["order_item_prices_valid"].passed is False
    breach = re.search(r'<li id="breach-order_item_prices_valid">(.*?)</li>', shown, re.DOTALL)
    assert breach is not None and "grow_cross_sell_revenue" in breach.group(1) and "FAIL" in breach.group(1)
    for slo_id in latest:
        assert f'id="slo-{slo_id}"' in shown
    assert "Error budget burn-down" in shown and "<polyline" in shown
    assert 'id="gx-data-docs"' not in shown  # no GX run in this state folder: no dead link
    taken = subprocess.run([*common, f"--screenshot={shot}", path.as_uri()], capture_output=True, timeout=120)
    assert taken.returncode == 0 and shot.is_file() and shot.stat().st_size > 10_000


def _one_run(store: Path, failing: set[str], when: datetime) -> list[Slo]:
    specs, _ = validate([REPO / "slo_definitions"])
    slos = slos_from_spec(specs[0].spec)
    records = []
    for s in slos:
        passed = s.id not in failing
        records.append(
            {
                "slo": s.id, "product": s.product, "dimension": s.dimension, "dataset": s.dataset,
                "indicator": s.kind, "objective": s.objective, "observed": 1.0 if passed else 0.0,
                "threshold": {"bound": s.threshold.bound, "value": s.threshold.value}, "passed": passed,
                "severity": s.severity, "engine": "native", "error": None,
            }
        )  # fmt: skip
    record(store, "run", when, records)
    return slos


def test_the_report_never_says_nothing_fails_beside_failing_slos(tmp_path: Path) -> None:
    # One evaluation, four warn SLOs failing: they are breaches, and with no time known yet the budgets are
    # "not measured yet", not "whole".
    store = tmp_path / "r.sqlite"
    specs, _ = validate([REPO / "slo_definitions"])
    warns = sorted(s.id for s in specs[0].spec.slos if s.severity == "warn")[:4]
    assert len(warns) == 4
    _one_run(store, set(warns), AS_OF)
    (r,) = reports([specs[0].spec], store, AS_OF, None, None)
    html = render(r, tmp_path)
    assert "No SLO is failing" not in html and "whole error budget" not in html
    for slo_id in warns:
        assert f"id='breach-{slo_id}'" in html
    assert "id='unmeasured'" in html


def _metrics(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    runs=st.lists(st.tuples(st.integers(0, 40 * 24), st.sets(st.integers(0, 22), max_size=8)), min_size=1, max_size=12),
    report_hour=st.integers(0, 42 * 24),
)
def test_the_report_shows_the_numbers_metrics_exports(runs: list[tuple[int, set[int]]], report_hour: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "r.sqlite"
        specs, _ = validate([REPO / "slo_definitions"])
        spec = specs[0].spec
        start = AS_OF - timedelta(days=40)
        for hour, failing in runs:  # written in any order, as backfills are
            _one_run(store, {s.id for i, s in enumerate(spec.slos) if i in failing}, start + timedelta(hours=hour))
        now = start + timedelta(hours=report_hour)
        (r,) = reports([spec], store, now, None, None)
        exported = _metrics(
            Exporter(ExporterConfig([spec], store, database=None)).refresh(now=now.timestamp()).decode()
        )
    for row in r.rows:
        ids: tuple[tuple[str, str], ...] = (("product", row.slo.product), ("slo", row.slo.id))
        for label, w in row.windows.items():
            key = tuple(sorted((*ids, ("window", label))))
            remaining = exported.get(("dataslo_error_budget_remaining_ratio", key))
            attained = exported.get(("dataslo_attainment_ratio", tuple(sorted((*key, ("method", "time"))))))
            if w.budget is None:
                assert remaining is None and attained is None
            else:
                assert remaining == w.budget.remaining and attained == w.budget.sli
                assert exported[("dataslo_objective_met", key)] == float(w.budget.met)
        passed = exported.get(("dataslo_check_passed", tuple(sorted(ids))))
        assert (passed is None) == (row.status == "-")
        if passed is not None:
            assert (passed == 1.0) == (row.status == "ok")
    for dimension, by_window in r.dimensions.items():
        for label, (met, adherence) in by_window.items():
            key = tuple(sorted((("product", "product_affinity"), ("dimension", dimension), ("window", label))))
            assert exported.get(("dataslo_slos_meeting_objective_ratio", key)) == met
            assert exported.get(("dataslo_adherence_ratio", key)) == adherence
