"""A real Prometheus scraping `slo serve` and a real Pushgateway fed by `slo run`: three builds (clean, faulty,
clean, at different --as-of), then every exported SLO series is checked through Prometheus's HTTP API against the
results store and the SLO math."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dagster_project.exporter import names as n
from dagster_project.results.store import ResultsStore
from dagster_project.slo.budget import budget
from dagster_project.slo.domain import Slo
from dagster_project.slo.from_spec import all_slos
from dagster_project.spec.validate import validate
from tests.cli_support import run_slo
from tests.conftest import REPO
from tests.prometheus_support import PrometheusApi, binary, free_port, grafana_expr, label_values, running

SCRAPE = "1s"


def slo_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_slo(*args, cwd=cwd)


@dataclass
class Stack:
    api: PrometheusApi
    state: Path
    slos: list[Slo]
    started: datetime  # the first run's as-of
    metrics_url: str  # slo serve's /metrics
    faulty: tuple[datetime, datetime]  # when the faulty build's outcomes held


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    prometheus, pushgateway = binary("prometheus"), binary("prometheus-pushgateway")
    tmp = tmp_path_factory.mktemp("prom")
    state = tmp / "state"
    specs, issues = validate([REPO / "slo_definitions"])
    assert issues == []
    push_port, serve_port, prom_port = free_port(), free_port(), free_port()
    push_url = f"127.0.0.1:{push_port}"
    with running(
        [pushgateway, f"--web.listen-address=127.0.0.1:{push_port}", "--persistence.file="],
        f"http://{push_url}/-/ready",
        tmp / "pgw.log",
    ):
        now = datetime.now(UTC).replace(microsecond=0)
        runs = [now - timedelta(hours=3), now - timedelta(hours=2), now - timedelta(hours=1)]
        for i, as_of in enumerate(runs):
            args = ["run", "--state-dir", str(state), "--as-of", as_of.isoformat(), "--pushgateway", push_url]
            if i == 1:  # the faulty build: prices out of range, a blocking SLO fails, nothing is published
                src = tmp / "faulty"
                generated = slo_cli(
                    "generate-data", "--out", str(src), "--orders", "800", "--as-of", as_of.isoformat(),
                    "--fault", "out_of_range", cwd=tmp,
                )  # fmt: skip
                assert generated.returncode == 0, generated.stderr
                result = slo_cli(*args, "--data-dir", str(src), cwd=tmp)
                assert result.returncode == 1, result.stdout + result.stderr
            else:
                result = slo_cli(*args, "--sample-orders", "800", cwd=tmp)
                assert result.returncode == 0, result.stdout + result.stderr
        serve = [sys.executable, "-m", "dagster_project.cli.main", "serve", "--state-dir", str(state)]
        serve += ["--port", str(serve_port), "--refresh", "1", "--slos", str(REPO / "slo_definitions")]
        config = tmp / "prometheus.yml"
        config.write_text(
            f"""global:
  scrape_interval: {SCRAPE}
  evaluation_interval: {SCRAPE}
rule_files: ["{REPO / "dashboards" / "prometheus" / "slo_rules.yml"}"]
scrape_configs:
  - job_name: slo_serve
    static_configs: [{{targets: ["127.0.0.1:{serve_port}"]}}]
  - job_name: pushgateway
    honor_labels: true
    static_configs: [{{targets: ["{push_url}"]}}]
"""
        )
        with (
            running(serve, f"http://127.0.0.1:{serve_port}/metrics", tmp / "serve.log"),
            running(
                [
                    prometheus,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                ],
                f"http://127.0.0.1:{prom_port}/-/ready",
                tmp / "prometheus.log",
            ),
        ):
            api = PrometheusApi(prom_port)
            api.wait_for('up{job="slo_serve"} == 1')
            api.wait_for('up{job="pushgateway"} == 1')
            metrics_url = f"http://127.0.0.1:{serve_port}/metrics"
            yield Stack(api, state, all_slos([s.spec for s in specs]), runs[0], metrics_url, (runs[1], runs[2]))


def _by_slo(result: list[dict[str, object]]) -> dict[str, float]:
    return {str(r["metric"]["slo"]): float(r["value"][1]) for r in result}  # type: ignore[index]


def test_every_slo_is_exported_with_its_latest_outcome(stack: Stack) -> None:
    with ResultsStore(stack.state / "results.sqlite") as store:
        latest: dict[str, bool | None] = {}
        for e in sorted(store.evaluations(), key=lambda e: (e.evaluated_at, e.seq)):
            latest[e.slo_id] = e.passed
        total = store.count()
    info = stack.api.wait_for(f'{n.SLO_INFO.sample}{{job="slo_serve"}}')
    assert {r["metric"]["slo"] for r in info} == {s.id for s in stack.slos}
    passed = _by_slo(stack.api.query(f'{n.CHECK_PASSED.sample}{{job="slo_serve"}}'))
    assert passed == {slo: (1.0 if ok else 0.0) for slo, ok in latest.items()}
    assert set(passed) == {s.id for s in stack.slos}  # the last (clean) build evaluated every SLO
    evaluations = stack.api.query(f'sum({n.EVALUATIONS.sample}{{job="slo_serve"}})')
    assert float(evaluations[0]["value"][1]) == total
    failed = stack.api.query(f'sum by (slo) ({n.EVALUATIONS.sample}{{job="slo_serve", outcome="fail"}}) > 0')
    assert "order_item_prices_valid" in _by_slo(failed)


def test_budgets_follow_the_slo_math(stack: Stack) -> None:
    """The faulty build's failure held for one hour of the three since the first evaluation."""
    slo = next(s for s in stack.slos if s.id == "order_item_prices_valid")
    window = n.window_label(slo.windows_s[0])
    expr = f'{n.BUDGET_REMAINING.sample}{{job="slo_serve", slo="{slo.id}", window="{window}"}}'
    value = float(stack.api.wait_for(expr)[0]["value"][1])
    known_s = time.time() - stack.started.timestamp()
    expected = budget(1.0 - 3600 / known_s, slo.objective).remaining
    assert value == pytest.approx(expected, rel=0.02)
    assert value < 0  # an hour bad in three is far over a 1% budget
    met = stack.api.query(f'{n.OBJECTIVE_MET.sample}{{job="slo_serve", slo="{slo.id}", window="{window}"}}')
    assert float(met[0]["value"][1]) == 0.0
    healthy = stack.api.query(f'{n.BUDGET_REMAINING.sample}{{job="slo_serve", slo="orders_unique"}}')
    assert {float(r["value"][1]) for r in healthy} == {1.0}
    share = stack.api.query(f'{n.SHARE_MEETING.sample}{{job="slo_serve", dimension="validity", window="{window}"}}')
    assert 0.0 < float(share[0]["value"][1]) < 1.0


def test_north_star_goals_and_datasets_are_exported(stack: Stack) -> None:
    star = stack.api.wait_for(f'{n.NORTH_STAR_VALUE.sample}{{job="slo_serve"}}')
    assert 0.0 < float(star[0]["value"][1]) < 1.0
    target = stack.api.query(f'{n.NORTH_STAR_TARGET.sample}{{job="slo_serve"}}')
    assert float(target[0]["value"][1]) == 0.75
    goals = stack.api.query(f'{n.GOAL_ACTUAL.sample}{{job="slo_serve"}}')
    assert {r["metric"]["goal"] for r in goals} == {"grow_cross_sell_revenue", "targeted_campaigns"}
    updated = stack.api.query(f'{n.DATASET_LAST_UPDATE.sample}{{job="slo_serve", dataset="raw.orders"}}')
    assert float(updated[0]["value"][1]) <= time.time()
    duration = stack.api.query(f'{n.BUILD_DURATION.sample}{{job="slo_serve"}}')
    assert 0.0 < float(duration[0]["value"][1]) < 900


def test_each_run_pushes_its_results_to_the_pushgateway(stack: Stack) -> None:
    pushed = _by_slo(stack.api.wait_for(f'{n.CHECK_PASSED.sample}{{job="{n.PUSH_JOB}"}}'))
    assert set(pushed) == {s.id for s in stack.slos}
    assert pushed["order_item_prices_valid"] == 1.0  # the last push was the clean build's


def test_promtool_finds_nothing_to_complain_about_in_the_exposition(stack: Stack) -> None:
    with urllib.request.urlopen(stack.metrics_url, timeout=10) as response:
        body = response.read()
    lint = subprocess.run([binary("promtool"), "check", "metrics"], input=body, capture_output=True, timeout=60)
    assert lint.returncode == 0 and lint.stdout + lint.stderr == b"", lint.stdout + lint.stderr
    for metric in n.ALL:  # every declared family is there, with its HELP
        assert f"# HELP {metric.name}".encode() in body or f"# HELP {metric.sample}".encode() in body, metric.name


def test_the_generated_recording_rules_evaluate_for_every_slo(stack: Stack) -> None:
    ids = {s.id for s in stack.slos}
    for record in ("slo:sli_error:ratio_rate5m", "slo:objective:ratio", "slo:period_error_budget_remaining:ratio"):
        deadline = time.monotonic() + 60
        while {r["metric"].get("sloth_slo") for r in stack.api.query(record)} != ids:
            assert time.monotonic() < deadline, f"{record} did not evaluate for every SLO"
            time.sleep(1)
    rules = stack.api.get("/api/v1/rules")
    unhealthy = [r["name"] for g in rules["groups"] for r in g["rules"] if r.get("health") not in ("ok", "unknown")]
    assert unhealthy == []
    # Prometheus's own view of a healthy SLO's budget.
    remaining = stack.api.query('slo:period_error_budget_remaining:ratio{sloth_slo="orders_unique"}')
    assert float(remaining[0]["value"][1]) == 1.0
    # Prometheus's budget and the exporter's agree for an SLO that failed for an hour (the rules read the
    # exporter's ratios, computed from the whole history, not what Prometheus happened to scrape).
    rules = float(
        stack.api.query('slo:period_error_budget_remaining:ratio{sloth_slo="order_item_prices_valid"}')[0]["value"][1]
    )
    exporter = stack.api.query(
        f'{n.BUDGET_REMAINING.sample}{{job="slo_serve", slo="order_item_prices_valid", window="28d"}}'
    )
    assert rules == pytest.approx(float(exporter[0]["value"][1]), rel=0.02) and rules < 0
    burning = stack.api.query('slo:current_burn_rate:ratio{sloth_slo="order_item_prices_valid"}')
    assert float(burning[0]["value"][1]) == 0.0  # the last hour was clean again


def test_every_dashboard_query_parses_and_returns_data(stack: Stack) -> None:
    """Every panel query, with the variables as Grafana substitutes them (the product, every SLO), and every
    variable query."""
    ids = {s.id for s in stack.slos}
    for board_path in sorted((REPO / "dashboards" / "grafana").glob("*.json")):
        board = json.loads(board_path.read_text())
        variables = {v["name"]: v for v in board["templating"]["list"]}
        product = variables["product"]["current"]["value"]
        assert label_values(stack.api, variables["product"]["definition"]) == {product}
        slo_query = grafana_expr(variables["slo"]["definition"], product)
        assert label_values(stack.api, slo_query) == ids
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                expr = grafana_expr(target["expr"], product)
                deadline = time.monotonic() + 30
                while not stack.api.query(expr):  # a parse error raises; no data is retried, then fails
                    assert time.monotonic() < deadline, f"{board_path.name}: {panel['title']}: no data for {expr}"
                    time.sleep(1)
