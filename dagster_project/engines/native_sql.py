"""DuckDB SQL text of the plan's dialect-neutral queries, and the quoting helpers the DuckDB-only modules share
(measures, GX snapshots, verification). The indicators' SQL itself lives with each indicator (indicators/)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dagster_project.indicators.no_pii import PII_PATTERNS
from dagster_project.slo import rendered
from dagster_project.slo.domain import Slo
from dagster_project.warehouse.connection import quote_ident

__all__ = ["PII_PATTERNS", "literal", "scan_expression", "single_query", "table_ref", "timestamp_literal"]


def literal(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        raise TypeError(f"unsupported literal {value!r}")
    if isinstance(value, int | float):
        return repr(float(value)) if isinstance(value, float) else str(int(value))
    return "'" + str(value).replace("'", "''") + "'"


def table_ref(dataset: str) -> str:
    schema, name = dataset.split(".", 1)
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def timestamp_literal(ts: datetime) -> str:
    return f"TIMESTAMP '{ts.strftime('%Y-%m-%d %H:%M:%S.%f')}'"


def scan_expression(slo: Slo, as_of: datetime, text_columns: Sequence[str]) -> str:
    """A scan indicator's aggregate over its dataset, in DuckDB's SQL."""
    return rendered.scan_expression(slo, text_columns, "duckdb", as_of)


def single_query(slo: Slo, as_of: datetime) -> str:
    """The query of an indicator measured by one of its own, in DuckDB's SQL."""
    return rendered.single(slo, "duckdb", as_of)
