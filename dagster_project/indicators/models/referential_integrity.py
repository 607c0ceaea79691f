"""referential_integrity: what a spec may write (pydantic); the rest: indicators/referential_integrity.py."""

from __future__ import annotations

from typing import Literal

from dagster_project.indicators.fields import Dataset, IndicatorSpec, SqlName


class ReferentialIntegrity(IndicatorSpec):
    type: Literal["referential_integrity"]
    column: SqlName
    reference_dataset: Dataset
    reference_column: SqlName


MODEL = ReferentialIntegrity
