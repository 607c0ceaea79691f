"""Every indicator type, by name: the one place that lists them. Adding an indicator is a module in this package, its
spec model in models/ (a module of the same name) and one line here; the spec's `Indicator` union, the JSON Schema,
the plan, the engines, GX, validation, the report and the generators read this registry.

The order is the order of the spec's union (and so of the JSON Schema's oneOf): add new types at the end.
"""

from __future__ import annotations

from typing import Any

from dagster_project.indicators import (
    anomaly,
    build_duration,
    custom_sql,
    in_range,
    in_set,
    matches_pattern,
    max_age,
    metric,
    no_pii,
    non_null_ratio,
    not_in_future,
    query_availability,
    query_latency,
    reconciliation,
    referential_integrity,
    row_count,
    row_volume,
    schema,
    schema_change,
    uniqueness,
    valid_format,
)
from dagster_project.indicators.base import Definition, Indicator, Unit

REGISTRY: dict[str, Definition] = {
    d.type: d
    for d in (
        max_age.DEFINITION,
        non_null_ratio.DEFINITION,
        row_volume.DEFINITION,
        in_range.DEFINITION,
        in_set.DEFINITION,
        matches_pattern.DEFINITION,
        not_in_future.DEFINITION,
        referential_integrity.DEFINITION,
        reconciliation.DEFINITION,
        uniqueness.DEFINITION,
        schema.DEFINITION,
        build_duration.DEFINITION,
        query_latency.DEFINITION,
        query_availability.DEFINITION,
        no_pii.DEFINITION,
        custom_sql.DEFINITION,
        row_count.DEFINITION,
        metric.DEFINITION,
        valid_format.DEFINITION,
        schema_change.DEFINITION,
        anomaly.DEFINITION,
    )
}


def definition(type_: str) -> Definition:
    try:
        return REGISTRY[type_]
    except KeyError:
        raise ValueError(f"unknown indicator type {type_!r}; one of {', '.join(REGISTRY)}") from None


def of(indicator: Indicator) -> Definition:
    return REGISTRY[indicator.type]


def make(type_: str, **fields: Any) -> Indicator:
    """A domain form from its fields (durations in seconds): for tests and programmatic SLOs."""
    return definition(type_).make(**fields)


# What an anomaly may watch: an indicator measured in its dataset's scan, not judged by history itself (the anomaly
# model's union of their models is made when indicators/models/anomaly.py is first imported).
WATCHABLE = tuple(d for d in REGISTRY.values() if d.measured == "scan" and not d.history)

# Each type's unit (its default where the spec declares one: Definition.unit_of).
UNITS: dict[str, Unit] = {name: d.unit for name, d in REGISTRY.items()}

__all__ = ["REGISTRY", "UNITS", "Definition", "Indicator", "definition", "make", "of"]
