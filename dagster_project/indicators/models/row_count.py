"""row_count: what a spec may write (pydantic); its meaning, its measurement: indicators/row_count.py."""

from __future__ import annotations

from typing import Literal

from dagster_project.indicators.fields import IndicatorSpec


class RowCount(IndicatorSpec):
    """The number of rows in the dataset, e.g. at least the catalogue's size."""

    type: Literal["row_count"]


MODEL = RowCount
