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


def boards() -> dict[str, dict[str, Any]]:
    return {k: json.loads(v) for k, v in generated().items() if k.endswith(".json")}


def query_panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in board["panels"] if p["type"] != "alertlist"]


def test_every_panel_uses_the_datasource_variable_and_has_a_query() -> None:
    assert set(boards()) == {"grafana/product_affinity-oncall.json", "grafana/product_affinity-owner.json"}
    for name, board in boards().items():
        assert [v["name"] for v in board["templating"]["list"]] == ["datasource", "product", "slo", "runbook"]
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), name
        for panel in query_panels(board):
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, (name, panel["title"])
            assert panel["targets"] and all(t["datasource"]["uid"] == "${datasource}" for t in panel["targets"])
            assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
    owner = boards()["grafana/product_affinity-owner.json"]
    titles = [p["title"] for p in owner["panels"]]
    # One attainment panel per dimension the spec's SLOs cover, over both windows.
    for dimension in ("freshness", "completeness", "accuracy", "validity", "uniqueness", "schema", "performance"):
        assert f"{dimension}: SLOs meeting objective (7d / 28d)" in titles
    assert any("North Star" in t for t in titles)


def test_the_readme_lists_every_exported_metric() -> None:
    from dagster_project.exporter import names

    readme = (REPO / "README.md").read_text()
    assert [m.sample for m in names.ALL if f"`{m.sample}`" not in readme] == []


def test_table_panels_are_instant_queries_in_table_format() -> None:
    tables = [p for board in boards().values() for p in board["panels"] if p["type"] == "table"]
    assert {p["title"] for p in tables} >= {"SLOs in breach", "Latest check per SLO (1 ok, 0 failed or could not run)"}
    for panel in tables:
        for target in panel["targets"]:
            assert (target["format"], target["instant"], target["range"]) == ("table", True, False), panel["title"]
    others = [p for board in boards().values() for p in query_panels(board) if p["type"] != "table"]
    assert all(t["format"] == "time_series" for p in others for t in p["targets"])


def test_every_timeseries_panel_draws_its_threshold_lines() -> None:
    series = [p for board in boards().values() for p in board["panels"] if p["type"] == "timeseries"]
    assert len(series) >= 5
    for panel in series:
        defaults = panel["fieldConfig"]["defaults"]
        assert defaults["custom"]["thresholdsStyle"] == {"mode": "line"}, panel["title"]
        steps = defaults["thresholds"]["steps"]
        assert steps[0]["value"] is None and len(steps) >= 2, panel["title"]  # a base colour and a line at least
        assert all(t["instant"] is False and t["range"] is True for t in panel["targets"])


def test_each_freshness_dataset_has_an_age_panel_with_its_threshold_from_the_spec() -> None:
    from dagster_project.slo.from_spec import all_slos

    specs, _ = validate([REPO / "slo_definitions"])
    limits: dict[str, set[float]] = {}
    for slo in all_slos([s.spec for s in specs]):
        if slo.kind == "max_age":
            limits.setdefault(slo.dataset, set()).add(slo.threshold.value)
    oncall = boards()["grafana/product_affinity-oncall.json"]
    panels = {p["title"].removeprefix("Data age: "): p for p in oncall["panels"] if p["title"].startswith("Data age")}
    assert set(panels) == set(limits) and limits
    for dataset, panel in panels.items():
        lines = {s["value"] for s in panel["fieldConfig"]["defaults"]["thresholds"]["steps"][1:]}
        assert lines == limits[dataset]
        assert f'dataset="{dataset}"' in panel["targets"][0]["expr"]


def test_panels_filter_by_the_product_and_slo_variables() -> None:
    for board in boards().values():
        variables = {v["name"]: v for v in board["templating"]["list"]}
        assert variables["product"]["definition"] == "label_values(dataslo_slo_info, product)"
        assert variables["product"]["current"]["value"] == "product_affinity"
        assert variables["slo"]["definition"] == 'label_values(dataslo_slo_info{product="$product"}, slo)'
        assert variables["slo"]["multi"] and variables["slo"]["includeAll"] and variables["slo"]["allValue"] == ".*"
        for var in ("product", "slo"):
            assert variables[var]["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        for panel in query_panels(board):
            for target in panel["targets"]:
                expr = target["expr"]
                assert 'product="product_affinity"' not in expr, (panel["title"], expr)  # never hard-coded
                assert 'product="$product"' in expr or 'sloth_service="$product"' in expr, (panel["title"], expr)
    oncall = boards()["grafana/product_affinity-oncall.json"]
    per_slo = [p for p in oncall["panels"] if p["title"] in ("SLOs in breach", "Current burn rate")]
    assert all('slo=~"$slo"' in t["expr"] for p in per_slo for t in p["targets"])


def test_the_oncall_board_lists_the_generated_alerts() -> None:
    import yaml

    from dagster_project.generators.dashboards import ALERT_NAME_FILTER

    oncall = boards()["grafana/product_affinity-oncall.json"]
    (panel,) = [p for p in oncall["panels"] if p["type"] == "alertlist"]
    options = panel["options"]
    assert options["alertName"] == ALERT_NAME_FILTER
    assert options["stateFilter"]["firing"] and options["stateFilter"]["pending"]
    rules = yaml.safe_load((REPO / "dashboards" / "prometheus" / "slo_rules.yml").read_text())
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
    # Grafana keeps the alerts whose name contains the filter (case-insensitive): every generated alert.
    assert alerts and all(ALERT_NAME_FILTER.lower() in a.lower() for a in alerts)


def test_panels_link_to_the_runbook_section_of_their_dimension() -> None:
    for board in boards().values():
        assert {"title": "Runbook", "type": "link", "url": "${runbook}", "targetBlank": True, "icon": "doc"} in board[
            "links"
        ]
    owner = boards()["grafana/product_affinity-owner.json"]
    for panel in owner["panels"]:
        if ": SLOs meeting objective" in panel["title"]:
            dimension = panel["title"].split(":")[0]
            assert panel["links"] == [
                {"title": f"Runbook: {dimension}", "url": f"${{runbook}}#{dimension}", "targetBlank": True}
            ]
    oncall = boards()["grafana/product_affinity-oncall.json"]
    (breach,) = [p for p in oncall["panels"] if p["title"] == "SLOs in breach"]
    (link,) = breach["fieldConfig"]["defaults"]["links"]
    assert link["url"] == "${runbook}#${__data.fields.dimension}"
    assert "group_left (dimension, dataset)" in breach["targets"][0]["expr"]  # each row has its dimension


def test_the_runbook_url_is_what_slo_dashboards_is_given() -> None:
    specs, _ = validate([REPO / "slo_definitions"])
    url = "https://git.example.com/data/slo/blob/main/docs/runbook.md"
    board = json.loads(files([s.spec for s in specs], url)["grafana/product_affinity-oncall.json"])
    (runbook,) = [v for v in board["templating"]["list"] if v["name"] == "runbook"]
    assert runbook["type"] == "textbox" and runbook["query"] == url and runbook["current"]["value"] == url
