"""Evaluations as result records (the JSON of `slo check` / `slo run` and the metadata of Dagster checks), and the
table people read. One record shape everywhere, so the CLI, Dagster and later the results store cannot drift."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dagster_project.slo.decide import Level, level, passes
from dagster_project.slo.domain import format_value
from dagster_project.slo.evaluation import Evaluation

TABLE_HEADER = ["slo", "dimension", "dataset", "observed", "threshold", "status"]


STATUS: dict[Level, str] = {"ok": "ok", "warn": "warn", "fail": "FAIL", "error": "ERROR"}


def status(passed: bool | None, severity: str, warned: bool = False) -> str:
    """The status of a judged evaluation: its verdict, its severity and whether it was at the warn level."""
    if passed is None:
        return "ERROR"
    if passed:
        return "warn" if warned else "ok"
    return "FAIL" if severity == "error" else "warn"


# A record's parts that are kept (in the results store's `extra` JSON) beyond its columns; derived ones (texts,
# unit, protects) are not kept: they come from the spec. tests/test_results_store.py checks every record key is one
# or the other, so a new part cannot be silently left out of the store.
KEPT_AS_EXTRA = ("warn", "where", "partition", "groups", "samples", "kept")
NOT_KEPT = ("unit", "observed_text", "threshold_text", "warn_text", "protects")


def as_json(evaluation: Evaluation) -> dict[str, Any]:
    slo = evaluation.slo
    passed = passes(evaluation.observed, slo.threshold)
    warn = slo.warn
    return {
        "slo": slo.id,
        "product": slo.product,
        "dimension": slo.dimension,
        "dataset": slo.dataset,
        "indicator": slo.kind,
        "unit": slo.unit,
        "passed": passed,
        "observed": evaluation.observed,
        "observed_text": evaluation.error or format_value(evaluation.observed, slo.unit),
        "threshold": slo.threshold.as_record(),
        "threshold_text": slo.threshold.describe(slo.unit),
        "warn": None if warn is None else warn.as_record(),
        "warn_text": None if warn is None else warn.describe(slo.unit),
        "severity": slo.severity,
        "objective": slo.objective,
        "protects": {"kind": slo.protects[0], "id": slo.protects[1]},
        "status": STATUS[level(evaluation.observed, slo)],
        "engine": evaluation.engine,
        "error": evaluation.error,
        "detail": evaluation.detail,
        "where": None if slo.filter is None else slo.filter.where,
        "partition": None if evaluation.slice is None else evaluation.slice.as_record(),
        "groups": [
            {"group": g.label, "observed": g.observed, "passed": passes(g.observed, slo.threshold)}
            for g in evaluation.groups
        ]
        or None,
        "samples": None if evaluation.samples is None else evaluation.samples.as_record(),
        "kept": None if evaluation.kept is None else dict(evaluation.kept),  # for the next evaluations (history)
    }


def blocking_failures(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Error-severity results that failed or could not be judged: what makes the CLI exit 1."""
    return [r for r in results if r["severity"] == "error" and r["passed"] is not True]


def explanations(results: Sequence[dict[str, Any]]) -> list[str]:
    """One line per result that is not ok and has more to say than its number (an error, a detail)."""
    return [
        f"{r['slo']} ({r['dataset']}): {r['error'] or r['detail']}"
        for r in results
        if r["status"] != "ok" and (r["error"] or r.get("detail"))
    ]


def sample_text(samples: Mapping[str, Any] | None) -> str | None:
    """A result's failed-row samples for people (its record's `samples`, or the store's): 'failing rows by order_id:
    17, 23' (a compound key as (a, b)); None without samples."""
    if not samples:
        return None
    keys = ", ".join(samples["keys"])
    if samples.get("error"):
        return f"failing rows by {keys}: {samples['error']}"
    if not samples["rows"]:
        return f"failing rows by {keys}: none found"

    def key(row: Sequence[Any]) -> str:
        texts = ["null" if v is None else str(v) for v in row]
        return texts[0] if len(texts) == 1 else "(" + ", ".join(texts) + ")"

    first = f" (first {samples['limit']})" if len(samples["rows"]) >= samples["limit"] else ""
    return f"failing rows by {keys}{first}: " + ", ".join(key(r) for r in samples["rows"])


def sample_lines(results: Sequence[dict[str, Any]]) -> list[str]:
    """One line per result that kept failed-row samples."""
    return [f"{r['slo']} ({r['dataset']}): {text}" for r in results if (text := sample_text(r.get("samples")))]


def table_rows(results: Sequence[dict[str, Any]]) -> list[list[str]]:
    return [
        [
            r["slo"],
            r["dimension"],
            r["dataset"],
            "-" if r["error"] else r["observed_text"],
            r["threshold_text"],
            r["status"],
        ]
        for r in results
    ]
