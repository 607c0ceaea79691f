"""Take the failed-row samples of an evaluation (spec: samples) on the engine that evaluated it: one bounded query
(slo/samples.py) under the SLO's time limit, run only when the observed value says rows fail. Whatever happens to
that query, the evaluation's value and verdict stay as they are: a failure becomes the samples' note."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from decimal import Decimal

from dagster_project.engines.adapter import Catalog, EngineAdapter, EngineError, QueryTimedOut
from dagster_project.indicators.lazy import sql
from dagster_project.slo.evaluation import MASK, Evaluation, Samples, SampleValue
from dagster_project.slo.samples import sample_query


def _value(value: object) -> SampleValue:
    """A key as JSON keeps it: numbers and text as they are, times in ISO 8601, anything else as text."""
    if value is None or isinstance(value, str | int):
        return value if not isinstance(value, bool) else str(value).lower()
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def with_samples(adapter: EngineAdapter, catalog: Catalog, evaluation: Evaluation, as_of: dt.datetime) -> Evaluation:
    slo, observed = evaluation.slo, evaluation.observed
    keys = slo.samples
    if keys is None or observed is None or evaluation.error is not None or not slo.indicator.rows_fail(observed):
        return evaluation
    try:
        tree = sample_query(slo, as_of, catalog.text_columns(slo.dataset))
        if tree is None:
            return evaluation
        rows = adapter.fetch(sql.render(tree, adapter.dialect), slo.timeout_s, max_rows=keys.limit)
        shown = [k for k in keys.keys if k not in keys.masked]
        taken = []
        for row in rows[: keys.limit]:
            by_key = dict(zip(shown, row, strict=False))
            taken.append(tuple(MASK if k in keys.masked else _value(by_key[k]) for k in keys.keys))
        samples = Samples(keys.keys, keys.limit, tuple(taken))
    except (EngineError, QueryTimedOut) as exc:
        samples = Samples(keys.keys, keys.limit, error=f"samples not taken: {exc}")
    except Exception as exc:  # samples never change a verdict; the type only, never a value
        samples = Samples(keys.keys, keys.limit, error=f"samples not taken: {type(exc).__name__}")
    return dataclasses.replace(evaluation, samples=samples)
