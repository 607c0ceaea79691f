"""Evaluations as rows a person or a tool reads: the table of `slo check` and its JSON. No I/O here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dagster_project.engines.native import Evaluation
from dagster_project.slo.decide import passes
from dagster_project.slo.domain import format_value


def status(evaluation: Evaluation) -> str:
    verdict = passes(evaluation.observed, evaluation.slo.threshold)
    if verdict is None:
        return "ERROR"
    if verdict:
        return "ok"
    return "FAIL" if evaluation.slo.severity == "error" else "warn"


def blocking_failures(evaluations: Sequence[Evaluation]) -> list[Evaluation]:
    """Error-severity SLOs that failed or could not be judged: what makes `slo check` exit 1."""
    return [e for e in evaluations if e.slo.severity == "error" and passes(e.observed, e.slo.threshold) is not True]


def as_json(evaluation: Evaluation) -> dict[str, Any]:
    slo = evaluation.slo
    return {
        "slo": slo.id,
        "product": slo.product,
        "dimension": slo.dimension,
        "dataset": slo.dataset,
        "indicator": slo.kind,
        "unit": slo.unit,
        "passed": passes(evaluation.observed, slo.threshold),
        "observed": evaluation.observed,
        "threshold": {"bound": slo.threshold.bound, "value": slo.threshold.value},
        "severity": slo.severity,
        "engine": evaluation.engine,
        "error": evaluation.error,
    }


def table_rows(evaluations: Sequence[Evaluation]) -> list[list[str]]:
    rows = []
    for e in evaluations:
        observed = e.error if e.error else format_value(e.observed, e.slo.unit)
        rows.append(
            [e.slo.id, e.slo.dimension, e.slo.dataset, observed, e.slo.threshold.describe(e.slo.unit), status(e)]
        )
    return rows
