"""Grafana dashboards generated from the spec (`slo dashboards`): per data product, one for on-call engineers and
one for product owners, plus the provisioning files that load them with a Prometheus datasource.

Panels query the exporter's metrics (exporter/names.py) and the Sloth-style recording rules (generators/rules.py),
through a `datasource` variable, never a fixed uid. What varies with the spec: the products, their dimensions (one
attainment panel row each), goals, North Star, datasets and windows. Output is deterministic (stable ids, sorted
keys) so the committed files can be checked for staleness.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dagster_project.exporter import names as n
from dagster_project.slo.domain import slos_from_spec
from dagster_project.spec.models import SpecFile

DS = {"type": "prometheus", "uid": "${datasource}"}
SCHEMA_VERSION = 39


@dataclass(frozen=True)
class Panel:
    title: str
    kind: str  # Grafana panel type
    targets: tuple[tuple[str, str], ...]  # (PromQL, legend)
    description: str = ""
    unit: str = ""
    width: int = 12
    height: int = 8
    instant: bool = False
    thresholds: tuple[tuple[float | None, str], ...] = ()


def _panel(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    defaults: dict[str, Any] = {"unit": panel.unit} if panel.unit else {}
    if panel.thresholds:
        defaults["thresholds"] = {
            "mode": "absolute",
            "steps": [{"color": color, "value": value} for value, color in panel.thresholds],
        }
    return {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DS,
        "gridPos": {"x": x, "y": y, "w": panel.width, "h": panel.height},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {},
        "targets": [
            {
                "refId": chr(ord("A") + i),
                "datasource": DS,
                "expr": expr,
                "legendFormat": legend,
                "instant": panel.instant,
                "range": not panel.instant,
            }
            for i, (expr, legend) in enumerate(panel.targets)
        ],
    }


def _dashboard(uid: str, title: str, description: str, panels: Sequence[Panel], tags: Sequence[str]) -> dict[str, Any]:
    laid, x, y, row_h = [], 0, 0, 0
    for i, panel in enumerate(panels, start=1):
        if x + panel.width > 24:
            x, y, row_h = 0, y + row_h, 0
        laid.append(_panel(panel, i, x, y))
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
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Prometheus",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {},
                    "hide": 0,
                }
            ]
        },
        "panels": laid,
    }


def _windows(spec: SpecFile) -> tuple[str, str]:
    """The shortest and the longest window of the product's SLOs (e.g. 7d and 28d)."""
    windows = sorted({w for s in slos_from_spec(spec) for w in s.windows_s})
    return n.window_label(windows[0]), n.window_label(windows[-1])


def oncall(spec: SpecFile) -> dict[str, Any]:
    p = spec.data_product.id
    short, long = _windows(spec)
    sel = f'product="{p}"'
    panels = [
        Panel(
            "SLOs in breach",
            "table",
            ((f'{n.OBJECTIVE_MET.name}{{{sel}, window="{short}"}} == 0', "{{slo}}"),),
            f"SLOs whose time SLI over {short} is below their objective.",
            instant=True,
        ),
        Panel(
            "Latest check per SLO (1 ok, 0 failed or could not run)",
            "table",
            ((f"{n.CHECK_PASSED.name}{{{sel}}}", "{{slo}}"),),
            "Every SLO's latest evaluation: 1 passed, 0 failed or could not run.",
            instant=True,
        ),
        Panel(
            "Current burn rate",
            "timeseries",
            ((f'slo:current_burn_rate:ratio{{sloth_service="{p}"}}', "{{sloth_slo}}"),),
            "How many times faster than allowed each SLO's budget burns (shortest alert window); 1 spends it "
            "exactly over the period.",
            thresholds=((None, "green"), (1.0, "orange"), (6.0, "red")),
        ),
        Panel(
            f"Error budget remaining ({long})",
            "bargauge",
            ((f'{n.BUDGET_REMAINING.name}{{{sel}, window="{long}"}}', "{{slo}}"),),
            "Share of the error budget left over the period; below zero is over budget.",
            unit="percentunit",
            instant=True,
            thresholds=((None, "red"), (0.0, "orange"), (0.5, "green")),
        ),
        Panel(
            "Data age per dataset",
            "timeseries",
            ((f"time() - {n.DATASET_LAST_UPDATE.name}{{{sel}}}", "{{dataset}}"),),
            "Now minus the newest data its freshness SLOs last saw.",
            unit="s",
        ),
        Panel(
            "Failed or errored evaluations (last 24h)",
            "timeseries",
            (
                (
                    f'sum by (slo, outcome) (increase({n.EVALUATIONS.sample}{{{sel}, outcome!="pass"}}[1d]))',
                    "{{slo}} {{outcome}}",
                ),
            ),
            "Evaluations that failed or could not run, from the results store.",
        ),
    ]
    return _dashboard(
        f"dataslo-{p}-oncall",
        f"{spec.data_product.name} - on-call",
        "Generated by `slo dashboards` from slo_definitions/ - do not edit. SLOs in breach, burn rates, budgets, "
        "data age and failing checks.",
        panels,
        [p, "oncall"],
    )


def owner(spec: SpecFile) -> dict[str, Any]:
    p = spec.data_product.id
    short, long = _windows(spec)
    sel = f'product="{p}"'
    star = spec.north_star
    dimensions = sorted({s.dimension for s in spec.slos})
    panels = [
        Panel(
            f"North Star: {star.name}",
            "timeseries",
            (
                (f'{n.NORTH_STAR_VALUE.name}{{{sel}, measure="{star.measure}"}}', "actual"),
                (f'{n.NORTH_STAR_TARGET.name}{{{sel}, measure="{star.measure}"}}', "target"),
            ),
            f"{star.measure} over the last {star.window}, against its target {star.target:g}.",
            unit="percentunit",
            width=16,
        ),
        Panel(
            "Goals: actual / target",
            "bargauge",
            (
                (
                    f"max by (product, goal, measure) ({n.GOAL_ACTUAL.name}{{{sel}}}) / on (product, goal, measure)"
                    f" max by (product, goal, measure) ({n.GOAL_TARGET.name}{{{sel}}})",
                    "{{goal}}",
                ),
            ),
            "Each goal's measure as a share of its target: 100% and above is on target (for min targets).",
            unit="percentunit",
            width=8,
            instant=True,
            thresholds=((None, "red"), (0.9, "orange"), (1.0, "green")),
        ),
        *(
            Panel(
                f"{dimension}: SLOs meeting objective ({short} / {long})",
                "stat",
                (
                    (f'{n.SHARE_MEETING.name}{{{sel}, dimension="{dimension}", window="{short}"}}', short),
                    (f'{n.SHARE_MEETING.name}{{{sel}, dimension="{dimension}", window="{long}"}}', long),
                ),
                f"Share of the {dimension} SLOs whose SLI meets their objective over each window.",
                unit="percentunit",
                width=6,
                height=5,
                instant=True,
                thresholds=((None, "red"), (0.95, "orange"), (1.0, "green")),
            )
            for dimension in dimensions
        ),
        Panel(
            f"Adherence: checks passed / checks applied ({short} / {long})",
            "stat",
            (
                (f'{n.ADHERENCE.name}{{{sel}, dimension="all", window="{short}"}}', short),
                (f'{n.ADHERENCE.name}{{{sel}, dimension="all", window="{long}"}}', long),
            ),
            "The figure the reference platform shows product owners.",
            unit="percentunit",
            width=12,
            height=5,
            instant=True,
        ),
        Panel(
            f"Error budget burn-down ({long})",
            "timeseries",
            ((f'{n.BUDGET_REMAINING.name}{{{sel}, window="{long}"}}', "{{slo}}"),),
            "Budget left over the period, per SLO, over time.",
            unit="percentunit",
            width=12,
        ),
    ]
    return _dashboard(
        f"dataslo-{p}-owner",
        f"{spec.data_product.name} - product owner",
        "Generated by `slo dashboards` from slo_definitions/ - do not edit. Attainment per dimension, budget "
        "burn-down, the North Star against its target, and the goals.",
        panels,
        [p, "owner"],
    )


def dashboards(specs: Sequence[SpecFile]) -> dict[str, str]:
    """File name -> JSON text, for every product."""
    out = {}
    for spec in specs:
        for suffix, board in (("oncall", oncall(spec)), ("owner", owner(spec))):
            out[f"{spec.data_product.id}-{suffix}.json"] = json.dumps(board, indent=2, sort_keys=True) + "\n"
    return out


DATASOURCE_PROVISIONING = """\
# Generated by `slo dashboards` - do not edit. Grafana datasource provisioning: set PROMETHEUS_URL.
apiVersion: 1
datasources:
  - name: Prometheus
    type: prometheus
    access: proxy
    url: ${PROMETHEUS_URL}
    isDefault: true
"""

DASHBOARD_PROVISIONING = """\
# Generated by `slo dashboards` - do not edit. Grafana dashboard provisioning: mount dashboards/grafana at
# /var/lib/grafana/dashboards/dataslo (or change `path`).
apiVersion: 1
providers:
  - name: dataslo
    folder: Data SLOs
    type: file
    disableDeletion: false
    allowUiUpdates: false
    options:
      path: /var/lib/grafana/dashboards/dataslo
"""


def files(specs: Sequence[SpecFile]) -> dict[str, str]:
    """Relative path under dashboards/ -> content."""
    out = {f"grafana/{name}": text for name, text in dashboards(specs).items()}
    out["grafana/provisioning/datasources/prometheus.yml"] = DATASOURCE_PROVISIONING
    out["grafana/provisioning/dashboards/dataslo.yml"] = DASHBOARD_PROVISIONING
    return out
