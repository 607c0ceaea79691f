"""non_null_ratio: what a spec may write (pydantic); its meaning, its measurement: indicators/non_null_ratio.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from dagster_project.indicators.fields import IndicatorSpec, SqlName


class NonNullRatio(IndicatorSpec):
    type: Literal["non_null_ratio"]
    columns: list[SqlName] = Field(min_length=1)
    missing_values: list[str] = Field(
        default_factory=list,
        description="Values that count as missing besides null, compared as text exactly, e.g. ['N/A', ''].",
    )

    @field_validator("missing_values", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        """A number or a boolean would be compared as text in each engine's own spelling (0.0 is '0.0' on DuckDB and
        '0' on PostgreSQL): the spec says the text, quoted."""
        if isinstance(value, list):
            for v in value:
                if v is not None and not isinstance(v, str):
                    raise ValueError(
                        f"missing values are compared as text: quote {v!r} as the text it is stored as, e.g. '{v}'"
                    )
        return value


MODEL = NonNullRatio
