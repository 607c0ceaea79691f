"""Grafana's dashboard JSON model, as the generated dashboards use it: panels laid out on the 24-column grid, Prometheus
targets through the `datasource` variable, thresholds (drawn as lines on time series), panel and data links, and the
variables every board has (datasource, product, slo, runbook). What goes on the boards is dashboards.py's business.

Field names follow Grafana's schema (schemaVersion 39): fieldConfig.defaults.custom.thresholdsStyle, a target's
format/instant/range, templating.list entries of type datasource, query and textbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dagster_project.exporter import names as n

DS = {"type": "prometheus", "uid": "${datasource}"}
SCHEMA_VERSION = 39


# The dashboards' filters, as Grafana substitutes them (`product`: one; `slo`: any number, regex-joined).
PRODUCT_VAR, SLO_VAR, RUNBOOK_VAR = "$product", "$slo", "${runbook}"


@dataclass(frozen=True)
class Panel:
    title: str
    kind: str  # Grafana panel type
    targets: tuple[tuple[str, str], ...]  # (PromQL, legend)
    description: str = ""
    unit: str = ""
    width: int = 12
    height: int = 8
    instant: bool = False  # tables are always instant
    thresholds: tuple[tuple[float | None, str], ...] = ()  # drawn as lines on time series
    links: tuple[tuple[str, str], ...] = ()  # (title, url) panel links
    data_links: tuple[tuple[str, str], ...] = ()  # (title, url) links on each value / table row
    options: tuple[tuple[str, Any], ...] = ()


def _target(i: int, expr: str, legend: str, panel: Panel) -> dict[str, Any]:
    table = panel.kind == "table"
    instant = panel.instant or table
    return {
        "refId": chr(ord("A") + i),
        "datasource": DS,
        "expr": expr,
        "legendFormat": legend,
        "format": "table" if table else "time_series",
        "instant": instant,
        "range": not instant,
    }


def panel_json(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    defaults: dict[str, Any] = {"unit": panel.unit} if panel.unit else {}
    if panel.thresholds:
        defaults["thresholds"] = {
            "mode": "absolute",
            "steps": [{"color": color, "value": value} for value, color in panel.thresholds],
        }
        if panel.kind == "timeseries":
            defaults["custom"] = {"thresholdsStyle": {"mode": "line"}}
    if panel.data_links:
        defaults["links"] = [{"title": t, "url": u, "targetBlank": True} for t, u in panel.data_links]
    out: dict[str, Any] = {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "gridPos": {"x": x, "y": y, "w": panel.width, "h": panel.height},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": dict(panel.options),
        "links": [{"title": t, "url": u, "targetBlank": True} for t, u in panel.links],
    }
    if panel.targets:
        out["datasource"] = DS
        out["targets"] = [_target(i, expr, legend, panel) for i, (expr, legend) in enumerate(panel.targets)]
    return out


def variables(product: str, runbook_url: str) -> list[dict[str, Any]]:
    """datasource; product (one) and slo (any, default all) from the exporter's SLO info; the runbook's URL."""
    info = n.SLO_INFO.sample

    def query(name: str, label: str, expr: str, **extra: Any) -> dict[str, Any]:
        return {
            "name": name,
            "label": label,
            "type": "query",
            "datasource": DS,
            "definition": expr,
            "query": {"query": expr, "refId": f"{name}-values"},
            "refresh": 2,  # on time range change: new SLOs appear without a reload
            "sort": 1,
            "hide": 0,
            "regex": "",
            "options": [],
            **extra,
        }

    return [
        {
            "name": "datasource",
            "label": "Prometheus",
            "type": "datasource",
            "query": "prometheus",
            "current": {},
            "hide": 0,
        },
        query(
            "product",
            "Product",
            f"label_values({info}, product)",
            multi=False,
            includeAll=False,
            current={"text": product, "value": product},
        ),
        query(
            "slo",
            "SLO",
            f'label_values({info}{{product="{PRODUCT_VAR}"}}, slo)',
            multi=True,
            includeAll=True,
            allValue=".*",
            current={"text": ["All"], "value": ["$__all"]},
        ),
        {
            "name": "runbook",
            "label": "Runbook",
            "type": "textbox",
            "query": runbook_url,
            "current": {"text": runbook_url, "value": runbook_url},
            "hide": 0,
        },
    ]


def dashboard(
    uid: str, title: str, description: str, panels: Sequence[Panel], tags: Sequence[str], product: str, runbook: str
) -> dict[str, Any]:
    laid, x, y, row_h = [], 0, 0, 0
    for i, panel in enumerate(panels, start=1):
        if x + panel.width > 24:
            x, y, row_h = 0, y + row_h, 0
        laid.append(panel_json(panel, i, x, y))
        x, row_h = x + panel.width, max(row_h, panel.height)
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["dataslo", *tags],
        "editable": True,
        "schemaVersion": SCHEMA_VERSION,
        "time": {"from": "now-7d", "to": "now"},
        "refresh": "1m",
        "timezone": "utc",
        "templating": {"list": variables(product, runbook)},
        "links": [{"title": "Runbook", "type": "link", "url": RUNBOOK_VAR, "targetBlank": True, "icon": "doc"}],
        "panels": laid,
    }
