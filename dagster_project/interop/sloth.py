"""Sloth prometheus/v1 specs out (`slo export sloth`): a team on Sloth generates rules for our SLOs with Sloth.

Each SLO is a Sloth SLO with a `raw` SLI whose errorRatioQuery reads the exporter's error ratio for the window Sloth
asks for - the very expression `slo rules` records - so Sloth's slo:sli_error:ratio_rate<window> series, its
metadata rules and its multiwindow alerts are computed from the same numbers as ours. Service = the product id,
SLO name = the SLO id, so sloth_id, sloth_service and sloth_slo are ours.

What Sloth cannot express, and what the export does about it (also in the file's header and docs/interop.md):

- Sloth's spec has no budget period: `sloth generate --default-slo-period` sets one for the whole file, so there is
  one file per product and period (<product>.<period>.sloth.yaml). Sloth knows window sets for 28d and 30d only; for
  any other period we write Sloth's AlertWindows spec with our scaled windows (alert-windows/<period>.yaml, loaded
  with --slo-period-windows-path).
- Sloth names a window as Prometheus prints durations, weeks when exact: the 28-day period's series is
  slo:sli_error:ratio_rate4w where ours is ratio_rate28d (7d: 1w). The query maps Sloth's name of such a window to
  the exporter's window label, so the value is the same; the series name differs.
- Sloth records the period's SLI by averaging the 5m ratio over the period unless --disable-optimizations is
  given; with it, Sloth reads the exporter's period ratio as we do.
- Alerts: Sloth writes both severities' conditions whether or not they can fire for the objective (we leave out a
  pair whose factor x budget is 1 or more), names the alert once (our DataSloErrorBudgetBurn) with the routing
  labels we set, and has no `for:` per alert. A warn SLO's page alert is disabled, and both when it alerts `none`.
- sloth_slo_info does not carry our dimension and dataset labels (Sloth adds the spec's labels to every series,
  the SLI ratios included, so they go on the alerts only).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dagster_project.exporter import names as n
from dagster_project.interop.windows import (
    alert_level,
    all_windows,
    period_s,
    prometheus_duration,
    window_set,
)
from dagster_project.spec.models import Slo, SpecFile

SLOTH_VERSION = "prometheus/v1"
WINDOWS_API = "sloth.slok.dev/v1"
SLOTH_PERIODS = (28 * 86_400, 30 * 86_400)  # the window sets Sloth ships (internal/alert/windows)
# Sloth's pkg/common/conventions NameRegexp: SLO names and services.
SLOTH_NAME = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]$")
BURN_ALERT = "DataSloErrorBudgetBurn"


class NotExpressible(ValueError):
    """Something of the spec Sloth cannot hold at all (as opposed to the differences the header lists)."""


@dataclass(frozen=True)
class SlothFile:
    name: str  # <product>.<period>.sloth.yaml
    period_s: int
    spec: dict[str, Any]
    header: str


def window_matcher(slo: Slo) -> str:
    """The exporter's window label for the window Sloth renders as {{.window}}: Sloth's spelling where it is ours,
    else a Go template branch per window whose spelling differs (28d is 4w to Sloth)."""
    branches = [(prometheus_duration(w), n.window_label(w)) for w in all_windows(slo)]
    different = [(theirs, ours) for theirs, ours in branches if theirs != ours]
    if not different:
        return "{{.window}}"
    out = ""
    for i, (theirs, ours) in enumerate(different):
        out += f'{{{{{"if" if i == 0 else "else if"} eq .window "{theirs}"}}}}{ours}'
    return out + "{{else}}{{.window}}{{end}}"


def error_ratio_query(product: str, slo: Slo) -> str:
    """What our rules record as each window's SLI error ratio (generators/rules.py _sli_error), templated."""
    return f'max({n.SLI_ERROR.name}{{product="{product}", slo="{slo.id}", window="{window_matcher(slo)}"}})'


def _objective(objective: float) -> float:
    return float(f"{objective * 100:.10g}")


def _alerting(spec: SpecFile, slo: Slo) -> dict[str, Any]:
    product = spec.data_product
    level = alert_level(slo, spec)
    labels = {
        "product": product.id,
        "slo": slo.id,
        "dataset": slo.dataset,
        "dimension": slo.dimension,
        n.SLO_SEVERITY: slo.severity,
        n.TEAM: product.owner,
        **product.labels,
        **slo.labels,
    }
    runbook = slo.runbook_url or product.runbook_url or f"docs/runbook.md#{slo.dimension}"
    return {
        "name": BURN_ALERT,
        "labels": labels,
        "annotations": {
            "summary": f"{slo.id}: the {slo.dimension} of {slo.dataset} is burning its error budget",
            "runbook_url": runbook,
        },
        "page_alert": {"labels": {n.ALERT_SEVERITY: "page"}} if level == "page" else {"disable": True},
        "ticket_alert": {"labels": {n.ALERT_SEVERITY: "ticket"}} if level != "none" else {"disable": True},
    }


def sloth_slo(spec: SpecFile, slo: Slo) -> dict[str, Any]:
    for what, name in (("data product id", spec.data_product.id), ("SLO id", slo.id)):
        if not SLOTH_NAME.match(name):
            raise NotExpressible(
                f"{what} {name!r}: Sloth names need two characters or more and a letter or digit at both ends"
            )
    out: dict[str, Any] = {"name": slo.id}
    if slo.description:
        out["description"] = slo.description
    out |= {
        "objective": _objective(slo.objective),
        "sli": {"raw": {"errorRatioQuery": error_ratio_query(spec.data_product.id, slo)}},
        "alerting": _alerting(spec, slo),
    }
    return out


def alert_windows(slo: Slo) -> dict[str, Any]:
    """Sloth's AlertWindows spec for the SLO's period: our (scaled) windows and each pair's budget share."""
    pairs = {(p.severity, p.speed): p for p in window_set(slo)}

    def window(severity: str, speed: str) -> dict[str, Any]:
        p = pairs[(severity, speed)]
        return {
            "errorBudgetPercent": p.budget_percent,
            "shortWindow": prometheus_duration(p.short_s),
            "longWindow": prometheus_duration(p.long_s),
        }

    return {
        "apiVersion": WINDOWS_API,
        "kind": "AlertWindows",
        "spec": {
            "sloPeriod": prometheus_duration(period_s(slo)),
            "page": {"quick": window("page", "quick"), "slow": window("page", "slow")},
            "ticket": {"quick": window("ticket", "quick"), "slow": window("ticket", "slow")},
        },
    }


def _header(file: str, period: int) -> str:
    flags = f"--default-slo-period {n.window_label(period)} --disable-optimizations"
    if period not in SLOTH_PERIODS:
        flags += " --slo-period-windows-path alert-windows"
    return (
        "# Generated by `slo export sloth` from slo_definitions/ - edit the spec and export again.\n"
        f"# sloth generate -i {file} {flags}\n"
        "# Sloth's rules then match `slo rules` for these SLOs (same ratios, windows and alert factors), except\n"
        "# where Sloth cannot follow (docs/interop.md): a period of whole weeks is named as Prometheus prints it\n"
        "# (ratio_rate4w for our ratio_rate28d), both alert severities are written even where one cannot fire, and\n"
        "# sloth_slo_info has no dimension and dataset labels.\n"
    )


def export_files(specs: Iterable[SpecFile]) -> tuple[list[SlothFile], dict[str, dict[str, Any]]]:
    """The Sloth spec files (one per product and period) and the AlertWindows specs the periods without a Sloth
    window set need ({file name: spec})."""
    files: list[SlothFile] = []
    windows: dict[str, dict[str, Any]] = {}
    for spec in specs:
        by_period: dict[int, list[Slo]] = {}
        for slo in spec.slos:
            by_period.setdefault(period_s(slo), []).append(slo)
        for period, slos in sorted(by_period.items()):
            name = f"{spec.data_product.id}.{n.window_label(period)}.sloth.yaml"
            body = {
                "version": SLOTH_VERSION,
                "service": spec.data_product.id,
                "slos": [sloth_slo(spec, slo) for slo in slos],
            }
            files.append(SlothFile(name, period, body, _header(name, period)))
            if period not in SLOTH_PERIODS:
                windows.setdefault(f"{n.window_label(period)}.yaml", alert_windows(slos[0]))
    return files, windows
