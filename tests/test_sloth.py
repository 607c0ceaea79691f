"""Sloth prometheus/v1 out: the rules Sloth would generate from the export record the same SLI error ratios over the
same windows, and alert at the same factors, as `slo rules` does - rendered here the way Sloth renders them
(internal/prometheus/recording_rules.go: the raw query wrapped in parentheses, {{.window}} as Prometheus prints the
window; internal/alert/window.go: factor = budget percent x period / long window)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from dagster_project.generators.rules import rules_document
from dagster_project.interop.sloth import SLOTH_PERIODS, export_files
from dagster_project.interop.windows import prometheus_duration
from dagster_project.spec.models import SpecFile
from dagster_project.spec.validate import validate
from tests.cli_support import run_slo
from tests.conftest import REPO

SPECS = [
    REPO / "slo_definitions" / "product_affinity.yaml",
    REPO / "tests" / "specs" / "products" / "flight_punctuality.yaml",
    REPO / "tests" / "specs" / "good" / "minimal.yaml",  # a 7-day period: no Sloth window set
    REPO / "tests" / "specs" / "good" / "flights_minimal.yaml",  # no windows given: 28d
]
# Sloth's own window sets (internal/alert/windows/google-28d.yaml and google-30d.yaml): (severity, speed) ->
# (budget percent, short window, long window). The same for both periods.
SLOTH_BUILTIN = {
    ("page", "quick"): (2, "5m", "1h"),
    ("page", "slow"): (5, "30m", "6h"),
    ("ticket", "quick"): (10, "2h", "1d"),
    ("ticket", "slow"): (10, "6h", "3d"),
}
PROM_UNITS = {"y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}


def prom_seconds(text: str) -> float:
    parts = re.findall(r"(\d+)(ms|y|w|d|h|m|s)", text)
    assert "".join(a + b for a, b in parts) == text, text
    return sum(int(a) * PROM_UNITS[b] for a, b in parts)


def go_render(template: str, window: str) -> str:
    """Text/template on the two forms the export writes: {{.window}} and an if/else-if chain of `eq .window`."""

    def choose(m: re.Match[str]) -> str:
        for value, out in re.findall(r'\{\{(?:if|else if) eq \.window "([^"]+)"\}\}([^{]*)', m.group(0)):
            if value == window:
                return str(out)
        assert m.group(0).endswith("{{else}}{{.window}}{{end}}")
        return window

    rendered = re.sub(r"\{\{if .*?\{\{end\}\}", choose, template).replace("{{.window}}", window)
    assert "{{" not in rendered and "}}" not in rendered
    return rendered


def _spec(path: Path) -> SpecFile:
    loaded, issues = validate([path])
    assert issues == []
    return loaded[0].spec


def _sloth_windows(period: int, custom: dict[str, dict[str, Any]]) -> dict[tuple[str, str], tuple[float, str, str]]:
    """The windows Sloth uses for the period: its built-in set, or the AlertWindows spec the export wrote."""
    if period in SLOTH_PERIODS:
        return {k: (float(v[0]), v[1], v[2]) for k, v in SLOTH_BUILTIN.items()}
    [spec] = [w["spec"] for w in custom.values() if prom_seconds(w["spec"]["sloPeriod"]) == period]
    return {
        (severity, speed): (
            float(spec[severity][speed]["errorBudgetPercent"]),
            spec[severity][speed]["shortWindow"],
            spec[severity][speed]["longWindow"],
        )
        for severity in ("page", "ticket")
        for speed in ("quick", "slow")
    }


def _our_rules(spec: SpecFile) -> dict[str, list[dict[str, Any]]]:
    """Our generated rules by SLO id."""
    return {
        g["name"].removeprefix(f"dataslo-{spec.data_product.id}-"): g["rules"] for g in rules_document([spec])["groups"]
    }


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_sloth_sli_rules_are_ours_for_the_same_windows(path: Path) -> None:
    spec = _spec(path)
    files, custom = export_files([spec])
    ours = _our_rules(spec)
    seen = 0
    for file in files:
        assert file.spec["version"] == "prometheus/v1" and file.spec["service"] == spec.data_product.id
        windows = _sloth_windows(file.period_s, custom)
        sloth_windows = {prom_seconds(w) for _p, short, long in windows.values() for w in (short, long)}
        sloth_windows.add(file.period_s)  # Sloth adds the period (GenerateSLIRecordingRules)
        for slo in file.spec["slos"]:
            records = [r for r in ours[slo["name"]] if r.get("record", "").startswith("slo:sli_error:ratio_rate")]
            assert {prom_seconds(r["labels"]["sloth_window"]) for r in records} == sloth_windows
            for rule in records:
                seconds = prom_seconds(rule["labels"]["sloth_window"])
                theirs = prometheus_duration(seconds)
                # Sloth's rawSLIRecordGenerator: `(<query>)` rendered with the window as Prometheus prints it.
                assert f"({go_render(slo['sli']['raw']['errorRatioQuery'], theirs)})" == f"({rule['expr']})"
                # The series name is the same but for windows of whole weeks, which only the period can be.
                if rule["record"] != f"slo:sli_error:ratio_rate{theirs}":
                    assert seconds == file.period_s and seconds % (7 * 86400) == 0
                seen += 1
    assert seen == sum(
        len([r for r in rules if r.get("record", "").startswith("slo:sli_error")]) for rules in ours.values()
    )


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_sloth_alerts_burn_at_our_factors_over_our_windows_and_severities(path: Path) -> None:
    spec = _spec(path)
    files, custom = export_files([spec])
    ours = _our_rules(spec)
    for file in files:
        windows = _sloth_windows(file.period_s, custom)
        for slo in file.spec["slos"]:
            alerting = slo["alerting"]
            enabled = {s for s in ("page", "ticket") if not alerting[f"{s}_alert"].get("disable")}
            budget = 1 - slo["objective"] / 100
            sloth = set()
            for (severity, _speed), (percent, short, long) in windows.items():
                factor = percent / 100 * file.period_s / prom_seconds(long)  # Sloth's getBurnRateFactor
                if severity in enabled and factor * budget < 1:  # we leave out pairs that cannot fire
                    sloth.add((severity, round(factor, 6), prom_seconds(long), prom_seconds(short)))
            mine = set()
            for rule in ours[slo["name"]]:
                if "alert" not in rule:
                    continue
                assert rule["alert"] == alerting["name"]
                assert (
                    rule["labels"]["severity"] == alerting[f"{rule['labels']['severity']}_alert"]["labels"]["severity"]
                )
                assert {k: rule["labels"][k] for k in alerting["labels"]} == alerting["labels"]
                pairs = re.findall(
                    r"ratio_rate(\w+)\{[^}]*\} > \(([\d.]+) \* [\d.e-]+\)\) without \(sloth_window\) and "
                    r"max\(slo:sli_error:ratio_rate(\w+)\{",
                    rule["expr"],
                )
                assert pairs
                for long, factor, short in pairs:
                    mine.add(
                        (rule["labels"]["severity"], round(float(factor), 6), prom_seconds(long), prom_seconds(short))
                    )
            assert mine == sloth, slo["name"]


def test_objectives_are_percentages_and_names_are_ours() -> None:
    spec = _spec(REPO / "slo_definitions" / "product_affinity.yaml")
    [file] = export_files([spec])[0]
    by_name = {s["name"]: s for s in file.spec["slos"]}
    assert by_name.keys() == {s.id for s in spec.slos}
    assert by_name["recommendations_query_available"]["objective"] == 99.99
    assert by_name["pair_affinity_unique"]["objective"] == 99.9
    # warn SLOs never page; `alert: none` raises nothing
    assert by_name["customer_metrics_fresh"]["alerting"]["page_alert"] == {"disable": True}
    assert by_name["order_channels_known"]["alerting"]["ticket_alert"] == {"disable": True}


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(28 * 86400, "4w"), (30 * 86400, "30d"), (7 * 86400, "1w"), (5040, "1h24m"), (365 * 86400, "1y"), (90, "1m30s")],
)
def test_prometheus_duration_spells_windows_as_prometheus_and_sloth_do(seconds: int, text: str) -> None:
    assert prometheus_duration(seconds) == text


def test_slo_export_sloth_writes_a_file_per_product_and_period_and_windows_for_other_periods(tmp_path: Path) -> None:
    result = run_slo(
        "export", "sloth", "--slos", str(REPO / "tests" / "specs" / "good" / "minimal.yaml"),
        "--slos", str(REPO / "tests" / "specs" / "products"), "-o", str(tmp_path), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.yaml")) == [
        "alert-windows/7d.yaml",
        "flight_punctuality.28d.sloth.yaml",
        "shop.7d.sloth.yaml",
    ]
    shop = (tmp_path / "shop.7d.sloth.yaml").read_text()
    assert "# sloth generate -i shop.7d.sloth.yaml --default-slo-period 7d --disable-optimizations " in shop
    assert "--slo-period-windows-path alert-windows" in shop
    assert yaml.safe_load(shop)["slos"][0]["name"] == "orders_fresh"
    windows = yaml.safe_load((tmp_path / "alert-windows" / "7d.yaml").read_text())
    assert (windows["apiVersion"], windows["kind"], windows["spec"]["sloPeriod"]) == (
        "sloth.slok.dev/v1",
        "AlertWindows",
        "1w",
    )


def test_slo_export_sloth_refuses_a_name_sloth_cannot_hold_in_one_line(tmp_path: Path) -> None:
    text = (REPO / "tests" / "specs" / "good" / "flights_minimal.yaml").read_text()
    spec = tmp_path / "a.yaml"
    spec.write_text(text.replace("id: flights_fresh", "id: f"))
    result = run_slo("export", "sloth", "--slos", str(spec), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: cannot export to Sloth: SLO id 'f': Sloth names need two characters or more and a letter or digit "
        "at both ends"
    ]
