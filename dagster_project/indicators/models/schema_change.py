"""schema_change: what a spec may write (pydantic); its meaning, its measurement: indicators/schema_change.py."""

from __future__ import annotations

from typing import Literal

from dagster_project.indicators.fields import IndicatorSpec


class SchemaChange(IndicatorSpec):
    type: Literal["schema_change"]


MODEL = SchemaChange
