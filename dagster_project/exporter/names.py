"""Every metric name the service exports, with its type, help and labels: the one place they are spelled. The
exporter, the Pushgateway push, the generated rules and dashboards and the tests all take names from here.

Conventions (prometheus.io/docs/practices/naming): one prefix, base units (seconds), `_total` for counters, ratios
0..1 with `_ratio`, `_info` for metadata. Labels are bounded: SLO, product, dataset, dimension, window, outcome -
never a run id or a timestamp.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PREFIX = "dataslo"

# Prometheus job names. The exporter's series carry the job of the scrape that reads `slo serve` (EXPORTER_JOB in
# docs/deploy/prometheus.yml); a Pushgateway push carries its own, PUSH_JOB, which the Pushgateway's scrape keeps
# (honor_labels). Both paths export CHECK_PASSED, CHECK_ERROR, OBSERVED and LAST_EVALUATION for an SLO, so queries
# tell them apart by JOB_LABEL: the exporter is the source of truth, the push is the batch-only fallback.
JOB_LABEL = "job"
EXPORTED_JOB_LABEL = "exported_job"  # where a scrape without honor_labels moves the pushed job
EXPORTER_JOB = PREFIX
PUSH_JOB = f"{PREFIX}_push"


@dataclass(frozen=True)
class Metric:
    name: str
    kind: Literal["gauge", "counter", "info"]
    help: str
    labels: tuple[str, ...]

    @property
    def sample(self) -> str:
        """The name of its samples as Prometheus stores them (counters gain _total, infos _info)."""
        return {"counter": f"{self.name}_total", "info": f"{self.name}_info"}.get(self.kind, self.name)


SLO_LABELS = ("product", "slo")

SLO_INFO = Metric(
    f"{PREFIX}_slo",
    "info",
    "Metadata of each SLO: what it watches and what it protects.",
    (*SLO_LABELS, "dimension", "dataset", "indicator", "severity", "protects_kind", "protects"),
)
CHECK_PASSED = Metric(
    f"{PREFIX}_check_passed",
    "gauge",
    "1 if the SLO's latest evaluation passed, 0 if it failed or could not run.",
    SLO_LABELS,
)
CHECK_ERROR = Metric(
    f"{PREFIX}_check_error",
    "gauge",
    "1 if the SLO's latest evaluation could not run (missing column, SQL error), else 0.",
    SLO_LABELS,
)
CHECK_WARNING = Metric(
    f"{PREFIX}_check_warning",
    "gauge",
    "1 if the SLO's latest evaluation is at its warn level (a warn SLO failed, or an error SLO met its threshold but "
    "not its warn level), else 0. Costs no error budget.",
    SLO_LABELS,
)
OBSERVED = Metric(
    f"{PREFIX}_observed_value",
    "gauge",
    "The SLI value of the latest evaluation, in the indicator's unit (ratios 0..1, durations in seconds, counts).",
    SLO_LABELS,
)
THRESHOLD = Metric(
    f"{PREFIX}_threshold_value",
    "gauge",
    "The SLO's threshold, in the indicator's unit; the bound label says whether it is a minimum or a maximum (a "
    "between threshold has both).",
    (*SLO_LABELS, "bound"),
)
GROUP_OBSERVED = Metric(
    f"{PREFIX}_group_observed_value",
    "gauge",
    "Each group's value in the latest evaluation of a grouped SLO (spec: group_by), in the indicator's unit; group is "
    "the key, e.g. channel=web. At most max_groups series per SLO.",
    (*SLO_LABELS, "group"),
)
ANOMALY_VALUE = Metric(
    f"{PREFIX}_anomaly_value",
    "gauge",
    "The watched metric's value at an anomaly SLO's latest evaluation, in the metric's unit.",
    SLO_LABELS,
)
ANOMALY_EXPECTED = Metric(
    f"{PREFIX}_anomaly_expected_value",
    "gauge",
    "What an anomaly SLO expected of its metric from its history (trend, weekly seasonality); absent while learning.",
    SLO_LABELS,
)
ANOMALY_BAND = Metric(
    f"{PREFIX}_anomaly_band_value",
    "gauge",
    "The edges of an anomaly SLO's band at its threshold (sensitivity): bound=min and bound=max; a value outside is an "
    "anomaly. Absent while learning.",
    (*SLO_LABELS, "bound"),
)
WARN_THRESHOLD = Metric(
    f"{PREFIX}_warn_threshold_value",
    "gauge",
    "An error SLO's warn level (spec: warn), in the indicator's unit; bound says minimum or maximum. Absent when the "
    "SLO has no warn level.",
    (*SLO_LABELS, "bound"),
)
OBJECTIVE = Metric(
    f"{PREFIX}_objective_ratio", "gauge", "The SLO's objective: the share of good time it promises.", SLO_LABELS
)
ATTAINMENT = Metric(
    f"{PREFIX}_attainment_ratio",
    "gauge",
    "SLI over the rolling window: good share of time (method=time; exact for freshness) or of evaluations "
    "(method=occurrences).",
    (*SLO_LABELS, "window", "method"),
)
SLI_ERROR = Metric(
    f"{PREFIX}_sli_error_ratio",
    "gauge",
    "1 - the time SLI over the window, from the results store: the share of the window the SLO was bad. Exported "
    "for each burn-rate alert window and the period; the generated rules and alerts read it.",
    (*SLO_LABELS, "window"),
)
BUDGET_REMAINING = Metric(
    f"{PREFIX}_error_budget_remaining_ratio",
    "gauge",
    "Share of the window's error budget left (time SLI); below zero when overspent.",
    (*SLO_LABELS, "window"),
)
OBJECTIVE_MET = Metric(
    f"{PREFIX}_objective_met",
    "gauge",
    "1 if the time SLI over the window meets the objective, else 0.",
    (*SLO_LABELS, "window"),
)
EVALUATIONS = Metric(
    f"{PREFIX}_evaluations",
    "counter",
    "Evaluations of the SLO kept in the results store, by outcome (pass, fail, error).",
    (*SLO_LABELS, "outcome"),
)
LAST_EVALUATION = Metric(
    f"{PREFIX}_last_evaluation_timestamp_seconds",
    "gauge",
    "Evaluated-at time of the SLO's latest evaluation (unix seconds).",
    SLO_LABELS,
)
DATASET_LAST_UPDATE = Metric(
    f"{PREFIX}_dataset_last_update_timestamp_seconds",
    "gauge",
    "Newest data in the dataset as its freshness SLOs last saw it: evaluated-at minus the observed age.",
    ("product", "dataset"),
)
BUILD_DURATION = Metric(
    f"{PREFIX}_build_duration_seconds",
    "gauge",
    "Duration of the latest build of the data product, as its build-duration SLO measured it.",
    ("product",),
)
SHARE_MEETING = Metric(
    f"{PREFIX}_slos_meeting_objective_ratio",
    "gauge",
    'Share of the product\'s SLOs (per dimension; dimension="all" for all) meeting their objective over the window.',
    ("product", "dimension", "window"),
)
ADHERENCE = Metric(
    f"{PREFIX}_adherence_ratio",
    "gauge",
    'Checks passed / checks applied over the window (per dimension; dimension="all" for all).',
    ("product", "dimension", "window"),
)
NORTH_STAR_VALUE = Metric(
    f"{PREFIX}_north_star_value",
    "gauge",
    "The North Star metric over its window, computed from the published data product.",
    ("product", "measure"),
)
NORTH_STAR_TARGET = Metric(
    f"{PREFIX}_north_star_target", "gauge", "The North Star metric's target.", ("product", "measure")
)
GOAL_TARGET = Metric(
    f"{PREFIX}_goal_target", "gauge", "Each goal's target on its measure.", ("product", "goal", "measure", "bound")
)
GOAL_ACTUAL = Metric(
    f"{PREFIX}_goal_actual",
    "gauge",
    "Each goal's measure now, from the published data product (over the North Star window where it applies).",
    ("product", "goal", "measure"),
)
EXPORTER_EVALUATIONS = Metric(
    f"{PREFIX}_exporter_loaded_evaluations",
    "gauge",
    "Evaluations the exporter has read from the results store.",
    (),
)
EXPORTER_REFRESH = Metric(
    f"{PREFIX}_exporter_last_refresh_timestamp_seconds",
    "gauge",
    "When the exporter last recomputed its metrics from the store (unix seconds).",
    (),
)
EXPORTER_REFRESH_DURATION = Metric(
    f"{PREFIX}_exporter_refresh_duration_seconds",
    "gauge",
    "How long the exporter's last recomputation took.",
    (),
)

ALL: tuple[Metric, ...] = (
    SLO_INFO,
    CHECK_PASSED,
    CHECK_ERROR,
    CHECK_WARNING,
    OBSERVED,
    GROUP_OBSERVED,
    ANOMALY_VALUE,
    ANOMALY_EXPECTED,
    ANOMALY_BAND,
    THRESHOLD,
    WARN_THRESHOLD,
    OBJECTIVE,
    ATTAINMENT,
    SLI_ERROR,
    BUDGET_REMAINING,
    OBJECTIVE_MET,
    EVALUATIONS,
    LAST_EVALUATION,
    DATASET_LAST_UPDATE,
    BUILD_DURATION,
    SHARE_MEETING,
    ADHERENCE,
    NORTH_STAR_VALUE,
    NORTH_STAR_TARGET,
    GOAL_TARGET,
    GOAL_ACTUAL,
    EXPORTER_EVALUATIONS,
    EXPORTER_REFRESH,
    EXPORTER_REFRESH_DURATION,
)


# Labels of the generated rules (`slo rules`). The recording rules carry Sloth's labels; the alerts carry a routing
# `severity` (page | ticket, as Sloth and Pyrra set it, with Sloth's `sloth_severity`), the spec's own severity
# (error | warn) as `slo_severity`, and the data product's owner as `team`.
SLOTH_LABELS = (
    "sloth_id",
    "sloth_service",
    "sloth_slo",
    "sloth_window",
    "sloth_severity",
    "sloth_mode",
    "sloth_objective",
    "sloth_spec",
    "sloth_version",
)
ALERT_SEVERITY = "severity"
SLO_SEVERITY = "slo_severity"
TEAM = "team"
# Label names a spec's `labels:` may not use: every label the service exports or generates, and the ones Prometheus
# sets itself (alertname on alerts, job and instance on every scraped series, le and quantile on histograms).
RESERVED_LABELS = frozenset(
    {label for metric in ALL for label in metric.labels}
    | set(SLOTH_LABELS)
    | {ALERT_SEVERITY, SLO_SEVERITY, TEAM, "alertname", "job", "instance", "le", "quantile"}
)


def window_label(seconds: float) -> str:
    """Prometheus's duration spelling, used in labels and rule names: 7d, 28d, 1h, 22h24m, 2d19h12m, 1m30s. Exact to
    the millisecond (1m500ms), so two different windows never share a label; the spec's validation keeps windows
    at a minute or more."""
    rest, out = round(seconds * 1000), ""
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        if rest >= size:
            out += f"{rest // size}{unit}"
            rest %= size
    return out or "0s"
