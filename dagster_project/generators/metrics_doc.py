"""docs/metrics.md: the metrics reference, generated from exporter/names.py (the module that owns every name), so
it cannot drift. Regenerate with `python -m dagster_project.generators.metrics_doc > docs/metrics.md`."""

from __future__ import annotations

from dagster_project.exporter import names as n


def render() -> str:
    rows = "\n".join(
        f"| `{m.sample}` | {m.kind} | {', '.join(f'`{label}`' for label in m.labels) or '-'} | {m.help} |"
        for m in n.ALL
    )
    return f"""# Metrics reference

Generated from `dagster_project/exporter/names.py` - do not edit; regenerate with
`python -m dagster_project.generators.metrics_doc > docs/metrics.md` (a test fails when this file is stale).

`slo serve` exports these on `/metrics`, all computed from the results store, the spec and the published data
product. Ratios are 0..1, durations in seconds, timestamps in unix seconds. Labels are bounded: no run ids or
timestamps. Windows are spelled as Prometheus durations (`7d`, `28d`, `22h24m`).

| metric | type | labels | meaning |
|---|---|---|---|
{rows}

The Pushgateway receives `{n.CHECK_PASSED.sample}`, `{n.CHECK_ERROR.sample}`, `{n.OBSERVED.sample}` and
`{n.LAST_EVALUATION.sample}` per SLO (job `dataslo`, grouped by `product` and `slo`).

The generated recording rules (`dashboards/prometheus/slo_rules.yml`) add Sloth's series:
`slo:sli_error:ratio_rate<window>`, `slo:objective:ratio`, `slo:error_budget:ratio`,
`slo:time_period:days`, `slo:current_burn_rate:ratio`, `slo:period_burn_rate:ratio`,
`slo:period_error_budget_remaining:ratio` and `sloth_slo_info`, labelled `sloth_id`,
`sloth_service`, `sloth_slo` (and `sloth_window`). As Sloth's, `sloth_slo_info` also carries `sloth_mode`,
`sloth_objective`, `sloth_spec` (`prometheus/v1`) and `sloth_version` (`dataslo-v<slo-monitor version>`), plus the
SLO's `dimension` and `dataset` and the spec's `labels`.
"""


if __name__ == "__main__":
    print(render(), end="")
