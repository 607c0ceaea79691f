"""`slo serve --as-of`: every window ends at the given instant, so a rendering is reproducible from the store."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dagster_project.exporter import names as n
from dagster_project.results.store import record
from dagster_project.slo.from_spec import all_slos
from dagster_project.spec.validate import validate
from tests.conftest import REPO

SPEC = REPO / "tests" / "specs" / "good" / "minimal.yaml"
T0 = datetime(2026, 11, 20, 6, tzinfo=UTC)


def _store(path: Path) -> None:
    """orders_fresh: fresh at T0, 30 h old (failing) at T0+2h, fresh again at T0+5h, and a check a day later."""
    specs, issues = validate([SPEC])
    assert issues == []
    (slo,) = all_slos([s.spec for s in specs])
    for hours, age_h in ((0, 1), (2, 30), (5, 1), (29, 1)):
        passed = age_h * 3600 <= slo.threshold.value
        result = {
            "slo": slo.id,
            "product": slo.product,
            "dimension": slo.dimension,
            "dataset": slo.dataset,
            "observed": age_h * 3600.0,
            "threshold": {"bound": slo.threshold.bound, "value": slo.threshold.value},
            "passed": passed,
            "severity": slo.severity,
            "engine": "native",
            "error": None,
        }
        record(path, f"run-{hours}", T0 + timedelta(hours=hours), [result])


def _render(store: Path, as_of: datetime) -> dict[str, str]:
    """The SLO families of one `slo serve --as-of` rendering: sample (name and labels) -> value."""
    serve = [sys.executable, "-m", "dagster_project.cli.main", "serve", "--results", str(store), "--port", "0"]
    serve += ["--db", str(store.with_name("absent.duckdb")), "--slos", str(SPEC), "--as-of", as_of.isoformat()]
    proc = subprocess.Popen(serve, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("serving /metrics on http://"), first + (proc.stderr.read() if proc.stderr else "")
        url = first.split()[3]
        with urllib.request.urlopen(url, timeout=30) as response:
            body = response.read().decode()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    samples = {}
    for line in body.splitlines():
        if line.startswith(n.PREFIX) and not line.startswith(f"{n.PREFIX}_exporter_"):
            sample, value = line.rsplit(" ", 1)
            samples[sample] = value
    return samples


def _value(samples: dict[str, str], metric: n.Metric, **labels: str) -> float:
    (value,) = [
        float(v)
        for k, v in samples.items()
        if k.split("{")[0] == metric.sample and all(f'{key}="{val}"' in k for key, val in labels.items())
    ]
    return value


def test_the_same_as_of_renders_the_same_slo_values_and_another_follows_the_history(tmp_path: Path) -> None:
    store = tmp_path / "results.sqlite"
    _store(store)
    during = T0 + timedelta(hours=3)  # the stale evaluation is in force
    after = T0 + timedelta(hours=6)  # fresh again
    first, again, later = _render(store, during), _render(store, during), _render(store, after)
    assert first == again
    assert _value(first, n.CHECK_PASSED) == 0.0 and _value(later, n.CHECK_PASSED) == 1.0
    assert _value(first, n.OBSERVED) == 30 * 3600 and _value(later, n.OBSERVED) == 3600
    assert _value(first, n.LAST_EVALUATION) == (T0 + timedelta(hours=2)).timestamp()
    # The 7d window ends at the as-of: two evaluations in it at `during` (one good), three at `after` (two good); the
    # check a day later is in neither.
    assert _value(first, n.ATTAINMENT, window="7d", method="occurrences") == 1 / 2
    assert _value(later, n.ATTAINMENT, window="7d", method="occurrences") == 2 / 3
    assert first != later


def test_serve_rejects_an_unparseable_as_of_with_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dagster_project.cli.main", "serve", "--as-of", "yesterday-ish", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "--as-of: cannot parse 'yesterday-ish'" in result.stderr and "Traceback" not in result.stderr
