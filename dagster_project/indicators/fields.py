"""Field types the spec models and the indicator models share. Names that end up in SQL (datasets, columns) are
plain identifiers only, so no spec can inject SQL through them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from dagster_project.indicators.durations import parse_duration

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
SqlName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128)]
Dataset = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$", max_length=257),
    Field(description="A table as schema.table; plain identifiers only."),
]
SqlType = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_ ]*(\([0-9]+(, ?[0-9]+)?\))?(\[\])?$", max_length=64),
    Field(description="A DuckDB type name, e.g. BIGINT, VARCHAR, DECIMAL(10,2)."),
]


def _check_duration(text: str) -> str:
    parse_duration(text)
    return text


Duration = Annotated[str, AfterValidator(_check_duration), Field(description="e.g. 500ms, 30s, 15m, 24h, 7d, 4w")]


class Strict(BaseModel):
    # defer_build: a model's validator is built when it first validates, not when its class is made - a command
    # that reads its specs from the state folder's memory (spec/spec_cache.py) validates none and builds none.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class IndicatorSpec(Strict):
    """What every indicator's spec model has: its type name (a Literal in each model, the union's discriminator)."""

    type: str


# A null in a validity check's column: `ignore` leaves it to a completeness SLO (non_null_ratio) on the column, so
# one missing value fails one SLO of the right dimension; `fail` counts it as a violation, for a required column
# that no completeness SLO watches.
Nulls = Annotated[
    Literal["ignore", "fail"],
    Field(description="ignore: nulls are not judged (a non_null_ratio SLO watches them); fail: a null is a violation."),
]

__all__ = ["Dataset", "Duration", "Identifier", "IndicatorSpec", "Nulls", "SqlName", "SqlType", "Strict"]
