"""The generated Grafana dashboards: committed and current, valid dashboard JSON, every panel through the
datasource variable. (Their queries run against a real Prometheus in test_prometheus.py.)"""

from __future__ import annotations

import json
from typing import Any

from dagster_project.generators.dashboards import files
from dagster_project.spec.validate import validate
from tests.conftest import REPO


def generated() -> dict[str, str]:
    specs, issues = validate([REPO / "slo_definitions"])
    assert issues == []
    return files([s.spec for s in specs])


def panel_targets(board: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in board["panels"] for t in p["targets"]]


def test_committed_dashboards_are_what_the_spec_generates() -> None:
    for relative, text in generated().items():
        path = REPO / "dashboards" / relative
        assert path.is_file() and path.read_text() == text, f"dashboards/{relative} is stale: run `slo dashboards`"


def test_every_panel_uses_the_datasource_variable_and_has_a_query() -> None:
    boards = {k: json.loads(v) for k, v in generated().items() if k.endswith(".json")}
    assert set(boards) == {"grafana/product_affinity-oncall.json", "grafana/product_affinity-owner.json"}
    for name, board in boards.items():
        assert [v["name"] for v in board["templating"]["list"]] == ["datasource"]
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), name
        for panel in board["panels"]:
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, (name, panel["title"])
            assert panel["targets"] and all(t["datasource"]["uid"] == "${datasource}" for t in panel["targets"])
            assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
    owner = boards["grafana/product_affinity-owner.json"]
    titles = [p["title"] for p in owner["panels"]]
    # One attainment panel per dimension the spec's SLOs cover, over both windows.
    for dimension in ("freshness", "completeness", "accuracy", "validity", "uniqueness", "schema", "performance"):
        assert f"{dimension}: SLOs meeting objective (7d / 28d)" in titles
    assert any("North Star" in t for t in titles)


def test_the_readme_lists_every_exported_metric() -> None:
    from dagster_project.exporter import names

    readme = (REPO / "README.md").read_text()
    assert [m.sample for m in names.ALL if f"`{m.sample}`" not in readme] == []
