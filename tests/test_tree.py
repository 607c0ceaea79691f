"""`slo tree` and `slo explain` on the shipped spec: golden outputs, statuses from the results store, the paths an
SLO guards, and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dagster_project.errors import EXIT_USAGE
from dagster_project.results.store import record
from tests.conftest import REPO

GOLDEN = REPO / "tests" / "golden"


def slo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dagster_project.cli.main", *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )


def test_tree_of_the_shipped_spec_matches_its_golden_text_and_json(tmp_path: Path) -> None:
    none = str(tmp_path / "no-store.sqlite")
    text = slo("tree", "--results", none)
    assert text.returncode == 0, text.stderr
    assert text.stdout == (GOLDEN / "tree_product_affinity.txt").read_text(), (
        "regenerate: slo tree --results /nonexistent.sqlite > tests/golden/tree_product_affinity.txt"
    )
    as_json = slo("tree", "product_affinity", "--json", "--results", none)
    assert json.loads(as_json.stdout) == json.loads((GOLDEN / "tree_product_affinity.json").read_text())


def _result(slo_id: str, passed: bool, severity: str = "error") -> dict[str, object]:
    return {
        "slo": slo_id,
        "product": "product_affinity",
        "dimension": "validity",
        "dataset": "raw.order_items",
        "observed": 0.9 if not passed else 1.0,
        "threshold": {"bound": "min", "value": 0.99},
        "passed": passed,
        "severity": severity,
        "engine": "native",
        "error": None,
        "detail": None,
    }


def test_statuses_come_from_the_latest_evaluation(tmp_path: Path) -> None:
    store = tmp_path / "r.sqlite"
    record(store, "r1", datetime(2026, 11, 27, 5, tzinfo=UTC), [_result("order_item_prices_valid", True)])
    record(store, "r2", datetime(2026, 11, 27, 6, tzinfo=UTC), [_result("order_item_prices_valid", False)])
    record(store, "r0", datetime(2026, 11, 27, 4, tzinfo=UTC), [_result("order_item_prices_valid", True)])
    text = slo("tree", "--results", str(store)).stdout
    assert "raw.order_items\n" in text and "[FAIL order_item_prices_valid; 6 not evaluated]" in text
    explained = slo(
        "explain", "order_item_prices_valid", "--results", str(store), "--json", "--as-of", "2026-11-27T07:00:00Z"
    )
    payload = json.loads(explained.stdout)
    assert payload["latest"]["status"] == "FAIL" and payload["latest"]["run_id"] == "r2"
    paths = [[f"{n['kind']}:{n['id']}" for n in path] for path in payload["paths"]]
    # It protects a goal directly, and guards raw.order_items under every product table built from it.
    assert ["north_star:cross_sell_revenue_share", "goal:grow_cross_sell_revenue"] in paths
    ends = {tuple(p[-4:]) for p in paths if len(p) > 2}
    assert (
        "dataset:product_affinity.customer_metrics",
        "dataset:staging.order_lines",
        "dataset:staging.order_items",
        "dataset:raw.order_items",
    ) in ends
    assert all(p[0] == "north_star:cross_sell_revenue_share" for p in paths)
    # Budgets as the exporter computes them: known 04:00-07:00, bad from the failure at 06:00 - a third of the time.
    week = payload["windows"][0]
    assert week["window"] == "7d" and week["time_sli"] == pytest.approx(2 / 3) and week["objective_met"] is False
    assert week["budget_remaining"] == pytest.approx(1 - (1 / 3) / 0.01) and week["evaluations"] == 3
    human = slo("explain", "order_item_prices_valid", "--results", str(store), "--as-of", "2026-11-27T07:00:00Z").stdout
    assert "latest: FAIL - 0.9000 (>= 0.9900) at 2026-11-27T06:00:00+00:00" in human
    assert "7d: SLI 66.67% against 99.00% (NOT met), error budget left -3233%; 2 of 3 evaluations good" in human
    assert "   <- raw.order_items" in human


def test_unknown_slo_or_product_is_a_usage_error() -> None:
    unknown = slo("explain", "world_peace")
    assert unknown.returncode == EXIT_USAGE and "unknown SLO 'world_peace'" in unknown.stderr
    product = slo("tree", "nope")
    assert (
        product.returncode == EXIT_USAGE and "unknown data product 'nope' (known: product_affinity)" in product.stderr
    )
    assert "Traceback" not in unknown.stderr + product.stderr


def test_the_tree_fits_80_columns() -> None:
    text = (GOLDEN / "tree_product_affinity.txt").read_text()
    assert max(len(line) for line in text.splitlines()) <= 80
