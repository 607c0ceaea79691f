"""reconciliation: what a spec may write (pydantic); its meaning, its measurement: indicators/reconciliation.py."""

from __future__ import annotations

from typing import Literal

from dagster_project.indicators.fields import Dataset, IndicatorSpec, SqlName


class Reconciliation(IndicatorSpec):
    """|sum(column) - sum(reference_column)| / |sum(reference_column)|."""

    type: Literal["reconciliation"]
    column: SqlName
    reference_dataset: Dataset
    reference_column: SqlName


MODEL = Reconciliation
