"""The exporter and the Pushgateway side by side, under the Prometheus configuration the docs ship
(docs/deploy/prometheus.yml, its targets pointed at loopback): pushes carry their own job, and the dashboards'
per-SLO panels show exactly one series per SLO - the exporter's where it reports the SLO, the pushed one where only
a push does."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from dagster_project.exporter import names as n
from dagster_project.exporter.push import push_results
from dagster_project.results.store import record
from dagster_project.slo.domain import Slo
from dagster_project.slo.from_spec import all_slos
from dagster_project.spec.validate import validate
from tests.conftest import REPO
from tests.prometheus_support import PrometheusApi, binary, free_port, grafana_expr, running

PRODUCT = "product_affinity"
DOCS_CONFIG = REPO / "docs" / "deploy" / "prometheus.yml"


def _result(slo: Slo, passed: bool) -> dict[str, object]:
    return {
        "slo": slo.id,
        "product": slo.product,
        "dimension": slo.dimension,
        "dataset": slo.dataset,
        "observed": 1.0 if passed else 0.0,
        "threshold": {"bound": slo.threshold.bound, "value": slo.threshold.value},
        "passed": passed,
        "severity": slo.severity,
        "engine": "native",
        "error": None,
    }


@dataclass
class Deployment:
    api: PrometheusApi
    slos: list[Slo]
    stored: dict[str, float]  # what the exporter reports: SLO -> check passed
    pushed: dict[str, float]  # what the Pushgateway holds


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    prometheus, pushgateway = binary("prometheus"), binary("prometheus-pushgateway")
    tmp = tmp_path_factory.mktemp("deploy")
    specs, issues = validate([REPO / "slo_definitions"])
    assert issues == []
    slos = all_slos([s.spec for s in specs])
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    # The store (so the exporter) knows all SLOs but the last three, the first failing.
    in_store = slos[:-3]
    stored = {s.id: (0.0 if i == 0 else 1.0) for i, s in enumerate(in_store)}
    record(tmp / "results.sqlite", "run-1", when, [_result(s, stored[s.id] == 1.0) for s in in_store])
    # The Pushgateway holds a batch run's results for eleven SLOs: the first one (where the push is stale and says
    # it passed), seven more the exporter also reports, and the three only a push reports.
    pushed_slos = [*slos[:8], *slos[-3:]]
    pushed = {s.id: 1.0 for s in pushed_slos}
    push_port, serve_port, prom_port = free_port(), free_port(), free_port()
    config = yaml.safe_load(DOCS_CONFIG.read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config.pop("rule_files"), config.pop("alerting")
    loopback = {"slo:9469": f"127.0.0.1:{serve_port}", "pushgateway:9091": f"127.0.0.1:{push_port}"}
    for job in config["scrape_configs"]:
        for static in job["static_configs"]:
            static["targets"] = [loopback[t] for t in static["targets"]]
    (tmp / "prometheus.yml").write_text(yaml.safe_dump(config))
    serve = [sys.executable, "-m", "dagster_project.cli.main", "serve", "--results", str(tmp / "results.sqlite")]
    serve += ["--db", str(tmp / "absent.duckdb"), "--port", str(serve_port), "--refresh", "1"]
    serve += ["--slos", str(REPO / "slo_definitions")]
    with (
        running(
            [pushgateway, f"--web.listen-address=127.0.0.1:{push_port}", "--persistence.file="],
            f"http://127.0.0.1:{push_port}/-/ready",
            tmp / "pgw.log",
        ),
        running(serve, f"http://127.0.0.1:{serve_port}/metrics", tmp / "serve.log"),
        running(
            [
                prometheus,
                f"--config.file={tmp / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
            ],
            f"http://127.0.0.1:{prom_port}/-/ready",
            tmp / "prometheus.log",
        ),
    ):
        push_results(f"127.0.0.1:{push_port}", when, [_result(s, True) for s in pushed_slos])
        api = PrometheusApi(prom_port)
        # Scraped once both hold everything (the Pushgateway's own push_time_seconds: one per pushed group).
        api.wait_for(f"count({n.SLO_INFO.sample}) == {len(slos)}")
        api.wait_for(f"count(push_time_seconds) == {len(pushed)}")
        yield Deployment(api, slos, stored, pushed)


def _by_slo(result: list[dict[str, object]]) -> dict[str, float]:
    return {str(r["metric"]["slo"]): float(r["value"][1]) for r in result}  # type: ignore[index]


def test_pushes_carry_their_own_job_not_the_exporters(deployment: Deployment) -> None:
    assert n.PUSH_JOB != n.EXPORTER_JOB
    jobs = [j["job_name"] for j in yaml.safe_load(DOCS_CONFIG.read_text())["scrape_configs"]]
    assert n.EXPORTER_JOB in jobs and n.PUSH_JOB not in jobs
    api = deployment.api
    assert _by_slo(api.query(f'{n.CHECK_PASSED.sample}{{job="{n.PUSH_JOB}"}}')) == deployment.pushed
    assert _by_slo(api.query(f'{n.CHECK_PASSED.sample}{{job="{n.EXPORTER_JOB}"}}')) == deployment.stored


def test_the_latest_check_panel_returns_one_series_per_slo_the_exporters_first(deployment: Deployment) -> None:
    board = json.loads((REPO / "dashboards" / "grafana" / f"{PRODUCT}-oncall.json").read_text())
    (panel,) = [p for p in board["panels"] if p["title"].startswith("Latest check per SLO")]
    (target,) = panel["targets"]
    result = deployment.api.query(grafana_expr(target["expr"], PRODUCT))
    slos = [str(r["metric"]["slo"]) for r in result]
    assert sorted(slos) == sorted(s.id for s in deployment.slos)  # 31 series for 31 SLOs, none twice
    values = _by_slo(result)
    first = deployment.slos[0].id
    assert values[first] == 0.0  # the exporter's failure, not the stale push's pass
    only_pushed = {s.id for s in deployment.slos[-3:]}
    assert {k: v for k, v in values.items() if k not in only_pushed} == deployment.stored
    assert {k: values[k] for k in only_pushed} == {k: 1.0 for k in only_pushed}  # a push-only SLO still shows
