"""no_pii: what a spec may write (pydantic); its meaning, its measurement: indicators/no_pii.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dagster_project.indicators.fields import IndicatorSpec, SqlName
from dagster_project.indicators.no_pii import PiiPattern


class NoPii(IndicatorSpec):
    """Count of values matching a PII pattern in the text columns (all of them unless `columns` is given)."""

    type: Literal["no_pii"]
    patterns: list[PiiPattern] = Field(
        default=["email", "phone"],
        min_length=1,
        description="Which PII to look for: email, phone, iban, credit_card, us_ssn, ipv4 (docs/formats.md).",
    )
    columns: list[SqlName] | None = Field(
        default=None, description="The columns to search; default: every text column of the dataset."
    )


MODEL = NoPii
