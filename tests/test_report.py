"""`slo report`: a self-contained HTML report per data product, checked as a browser shows it (headless Chromium):
no console errors, nothing fetched from the network, and the key elements and numbers present. The screenshot is
kept in test-artifacts/."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from dagster_project.results.store import ResultsStore
from tests.conftest import AS_OF, REPO, make_sources

ARTIFACTS = REPO / "test-artifacts"
INSTALL = "sudo apt-get install -y --no-install-recommends chromium"


def slo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dagster_project.cli.main", *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


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
