"""valid_format: what a spec may write (pydantic); its meaning, its measurement: indicators/valid_format.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dagster_project.indicators.fields import IndicatorSpec, Nulls, SqlName
from dagster_project.indicators.valid_format import Format


class ValidFormat(IndicatorSpec):
    """Share of the present values in a built-in format (docs/formats.md says what each matches and misses)."""

    type: Literal["valid_format"]
    column: SqlName
    format: Format = Field(description="email, uuid, iso_date, iso_datetime, url, ipv4 or phone.")
    nulls: Nulls = "ignore"


MODEL = ValidFormat
