"""Grafana dashboards generated from the spec (`slo dashboards`): per data product, one for on-call engineers and
one for product owners, plus the provisioning files that load them with a Prometheus datasource.

Panels query the exporter's metrics (exporter/names.py) and the Sloth-style recording rules (generators/rules.py),
through a `datasource` variable, never a fixed uid. What varies with the spec: the products, their dimensions (one
attainment panel row each), goals, North Star, datasets and windows. Output is deterministic (stable ids, sorted
keys) so the committed files can be checked for staleness.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from dagster_project.exporter import names as n
from dagster_project.generators.grafana import PRODUCT_VAR, RUNBOOK_VAR, SLO_VAR, Panel, dashboard
from dagster_project.slo.from_spec import slos_from_spec
from dagster_project.spec.models import SpecFile

# The runbook the panels link to (`slo dashboards --runbook-url`; on the board, the `runbook` variable). Links add
# `#<dimension>`, the runbook's section for a failing SLO of that dimension.
RUNBOOK_URL = "docs/runbook.md"
# What the alert-list panel lists: the generated alerts, whose names all start with this (generators/rules.py).
ALERT_NAME_FILTER = "DataSlo"
# Grafana refuses a longer dashboard uid ("uid too long, max 40 characters"); a product id may have 64.
GRAFANA_UID_MAX = 40


def board_uid(product: str, role: str) -> str:
    """dataslo-<product>-<role>; when that is too long for Grafana, the product id cut short plus a digest of the
    whole id, so two long ids with the same start still get two boards."""
    uid = f"dataslo-{product}-{role}"
    if len(uid) <= GRAFANA_UID_MAX:
        return uid
    digest = hashlib.sha256(product.encode()).hexdigest()[:8]
    keep = GRAFANA_UID_MAX - len(f"dataslo--{digest}-{role}")
    return f"dataslo-{product[:keep]}-{digest}-{role}"


def _windows(spec: SpecFile) -> tuple[str, str]:
    """The shortest and the longest window of the product's SLOs (e.g. 7d and 28d)."""
    windows = sorted({w for s in slos_from_spec(spec) for w in s.windows_s})
    return n.window_label(windows[0]), n.window_label(windows[-1])


def _matchers(*extra: str, slo: bool = True) -> str:
    """The dashboard's filters (product, and slo where the metric has it) and any extra matchers."""
    parts = [f'product="{PRODUCT_VAR}"', *([f'slo=~"{SLO_VAR}"'] if slo else []), *extra]
    return ", ".join(parts)


def _eq(label: str, value: str, op: str = "=") -> str:
    return f'{label}{op}"{value}"'


def _q(metric: n.Metric, *extra: str, slo: bool = True) -> str:
    """The metric's samples under the dashboard's filters and `extra` matchers."""
    return metric.sample + "{" + _matchers(*extra, slo=slo) + "}"


def latest_per_slo(metric: n.Metric) -> str:
    """One series per SLO of a value both the exporter and a push export: the exporter's (the source of truth),
    or the pushed one for an SLO no exporter reports (a push-only deployment). Aggregating by (product, slo) also
    keeps one series when two exporters serve the same store."""
    by = ", ".join(n.SLO_LABELS)
    not_pushed = (_eq(n.JOB_LABEL, n.PUSH_JOB, "!="), _eq(n.EXPORTED_JOB_LABEL, n.PUSH_JOB, "!="))
    exporter = f"max by ({by}) ({_q(metric, *not_pushed)})"
    pushed = f"max by ({by}) ({_q(metric, _eq(n.JOB_LABEL, n.PUSH_JOB))})"
    return f"{exporter} or {pushed}"


def _runbook(anchor: str) -> str:
    return f"{RUNBOOK_VAR}#{anchor}"


def oncall(spec: SpecFile, runbook: str = RUNBOOK_URL) -> dict[str, Any]:
    p = spec.data_product.id
    short, long = _windows(spec)
    by = ", ".join(n.SLO_LABELS)
    info = f"max by ({by}, dimension, dataset) ({_q(n.SLO_INFO)})"
    freshness: dict[str, set[float]] = {}
    for slo in slos_from_spec(spec):
        if slo.definition.age and slo.threshold.max is not None:
            freshness.setdefault(slo.dataset, set()).add(slo.threshold.max)
    panels = [
        Panel(
            "Alerts",
            "alertlist",
            (),
            "The generated alerts that are firing or pending (Prometheus's rules, through Grafana's alerting).",
            width=24,
            height=6,
            links=(("Runbook", RUNBOOK_VAR),),
            options=(
                ("viewMode", "list"),
                ("groupMode", "default"),
                ("groupBy", []),
                ("maxItems", 20),
                ("sortOrder", 3),  # by importance: firing first
                ("dashboardAlerts", False),
                ("alertName", ALERT_NAME_FILTER),
                ("alertInstanceLabelFilter", ""),
                ("datasource", ""),
                ("showInstances", True),
                (
                    "stateFilter",
                    {
                        "firing": True,
                        "pending": True,
                        "recovering": True,
                        "noData": False,
                        "normal": False,
                        "error": True,
                    },
                ),
            ),
        ),
        Panel(
            "SLOs in breach",
            "table",
            (
                (
                    f"(max by ({by}) ({_q(n.OBJECTIVE_MET, _eq('window', short))}) == 0)"
                    f" * on ({by}) group_left (dimension, dataset) {info}",
                    "{{slo}}",
                ),
            ),
            f"SLOs whose time SLI over {short} is below their objective; each row links to the runbook's section "
            "for its dimension.",
            data_links=(("Runbook for ${__data.fields.dimension}", _runbook("${__data.fields.dimension}")),),
        ),
        Panel(
            "Latest check per SLO (1 ok, 0 failed or could not run)",
            "table",
            ((latest_per_slo(n.CHECK_PASSED), "{{slo}}"),),
            "Every SLO's latest evaluation: 1 passed, 0 failed or could not run. The exporter's value; a pushed one "
            "only for SLOs no exporter reports.",
            links=(("Runbook", RUNBOOK_VAR),),
        ),
        Panel(
            "Current burn rate",
            "timeseries",
            (
                (
                    f'slo:current_burn_rate:ratio{{sloth_service="{PRODUCT_VAR}", sloth_slo=~"{SLO_VAR}"}}',
                    "{{sloth_slo}}",
                ),
            ),
            "How many times faster than allowed each SLO's budget burns (shortest alert window); 1 spends it "
            "exactly over the period.",
            thresholds=((None, "green"), (1.0, "orange"), (6.0, "red")),
        ),
        Panel(
            f"Error budget remaining ({long})",
            "bargauge",
            ((_q(n.BUDGET_REMAINING, _eq("window", long)), "{{slo}}"),),
            "Share of the error budget left over the period; below zero is over budget.",
            unit="percentunit",
            instant=True,
            thresholds=((None, "red"), (0.0, "orange"), (0.5, "green")),
        ),
        *(
            Panel(
                f"Data age: {dataset}",
                "timeseries",
                (
                    (
                        f"time() - max by (product, dataset) "
                        f"({_q(n.DATASET_LAST_UPDATE, _eq('dataset', dataset), slo=False)})",
                        "{{dataset}}",
                    ),
                ),
                f"Now minus the newest data its freshness SLOs last saw; the line is their threshold "
                f"({', '.join(n.window_label(t) for t in sorted(limits))}).",
                unit="s",
                thresholds=((None, "green"), *((t, "red") for t in sorted(limits))),
                links=(("Runbook: freshness", _runbook("freshness")),),
            )
            for dataset, limits in sorted(freshness.items())
        ),
        Panel(
            "Failed or errored evaluations (last 24h)",
            "timeseries",
            (
                (
                    f"sum by (slo, outcome) (increase({_q(n.EVALUATIONS, _eq('outcome', 'pass', '!='))}[1d]))",
                    "{{slo}} {{outcome}}",
                ),
            ),
            "Evaluations that failed or could not run, from the results store; the line is one.",
            thresholds=((None, "green"), (1.0, "red")),
        ),
    ]
    return dashboard(
        board_uid(p, "oncall"),
        f"{spec.data_product.name} - on-call",
        "Generated by `slo dashboards` from slo_definitions/ - do not edit. Alerts, SLOs in breach, burn rates, "
        "budgets, data age and failing checks.",
        panels,
        [p, "oncall"],
        p,
        runbook,
    )


def _design_panels(spec: SpecFile) -> list[Panel]:
    """The North Star against its target and the goals' actual / target: only what the design card declares."""
    star = spec.north_star
    panels: list[Panel] = []
    goals_width = 8 if star is not None else 24
    if star is not None:
        star_steps: tuple[tuple[float | None, str], ...] = (
            ((None, "red"), (star.target, "green"))
            if star.direction == "increase"
            else ((None, "green"), (star.target, "red"))
        )
        panels.append(
            Panel(
                f"North Star: {star.name}",
                "timeseries",
                (
                    (_q(n.NORTH_STAR_VALUE, _eq("measure", star.measure), slo=False), "actual"),
                    (_q(n.NORTH_STAR_TARGET, _eq("measure", star.measure), slo=False), "target"),
                ),
                f"{star.measure} over the last {star.window}, against its target {star.target:g} (the line).",
                unit="percentunit",
                width=16 if spec.data_product.goals else 24,
                thresholds=star_steps,
            )
        )
    if spec.data_product.goals:
        panels.append(
            Panel(
                "Goals: actual / target",
                "bargauge",
                (
                    (
                        f"max by (product, goal, measure) ({_q(n.GOAL_ACTUAL, slo=False)})"
                        " / on (product, goal, measure)"
                        f" max by (product, goal, measure) ({_q(n.GOAL_TARGET, slo=False)})",
                        "{{goal}}",
                    ),
                ),
                "Each goal's measure as a share of its target: 100% and above is on target (for min targets).",
                unit="percentunit",
                width=goals_width,
                instant=True,
                thresholds=((None, "red"), (0.9, "orange"), (1.0, "green")),
            )
        )
    return panels


def owner(spec: SpecFile, runbook: str = RUNBOOK_URL) -> dict[str, Any]:
    p = spec.data_product.id
    short, long = _windows(spec)
    pair = tuple(dict.fromkeys((short, long)))  # one window when every SLO has the same (e.g. the default 28d)
    shown = " / ".join(pair)
    dimensions = sorted({s.dimension for s in spec.slos})
    panels = [
        *_design_panels(spec),
        *(
            Panel(
                f"{dimension}: SLOs meeting objective ({shown})",
                "stat",
                tuple(
                    (
                        _q(n.SHARE_MEETING, _eq("dimension", dimension), _eq("window", w), slo=False),
                        w,
                    )
                    for w in pair
                ),
                f"Share of the {dimension} SLOs whose SLI meets their objective over each window.",
                unit="percentunit",
                width=6,
                height=5,
                instant=True,
                thresholds=((None, "red"), (0.95, "orange"), (1.0, "green")),
                links=((f"Runbook: {dimension}", _runbook(dimension)),),
            )
            for dimension in dimensions
        ),
        Panel(
            f"Adherence: checks passed / checks applied ({shown})",
            "stat",
            tuple((_q(n.ADHERENCE, _eq("dimension", "all"), _eq("window", w), slo=False), w) for w in pair),
            "The figure the reference platform shows product owners.",
            unit="percentunit",
            width=12,
            height=5,
            instant=True,
        ),
        Panel(
            f"Error budget burn-down ({long})",
            "timeseries",
            ((_q(n.BUDGET_REMAINING, _eq("window", long)), "{{slo}}"),),
            "Budget left over the period, per SLO, over time; below the line (zero) the budget is spent.",
            unit="percentunit",
            width=12,
            thresholds=((None, "red"), (0.0, "green")),
        ),
    ]
    return dashboard(
        board_uid(p, "owner"),
        f"{spec.data_product.name} - product owner",
        "Generated by `slo dashboards` from slo_definitions/ - do not edit. Attainment per dimension, budget "
        "burn-down, the North Star against its target, and the goals.",
        panels,
        [p, "owner"],
        p,
        runbook,
    )


def dashboards(specs: Sequence[SpecFile], runbook: str = RUNBOOK_URL) -> dict[str, str]:
    """File name -> JSON text, for every product. Grafana wants titles unique in a folder: products that share a
    name get their id in their boards' titles."""
    out = {}
    names = Counter(spec.data_product.name for spec in specs)
    for spec in specs:
        for suffix, board in (("oncall", oncall(spec, runbook)), ("owner", owner(spec, runbook))):
            if names[spec.data_product.name] > 1:
                board["title"] = f"{board['title']} ({spec.data_product.id})"
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


def files(specs: Sequence[SpecFile], runbook: str = RUNBOOK_URL) -> dict[str, str]:
    """Relative path under dashboards/ -> content."""
    out = {f"grafana/{name}": text for name, text in dashboards(specs, runbook).items()}
    out["grafana/provisioning/datasources/prometheus.yml"] = DATASOURCE_PROVISIONING
    out["grafana/provisioning/dashboards/dataslo.yml"] = DASHBOARD_PROVISIONING
    return out
