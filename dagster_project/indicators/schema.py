"""schema (schema): share of the expected columns present with the expected type, from the engine's catalog."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal

from pydantic import Field

from dagster_project.indicators.base import Definition, Indicator
from dagster_project.indicators.fields import IndicatorSpec, SqlName, SqlType


class SchemaMatch(IndicatorSpec):
    type: Literal["schema"]
    columns: dict[SqlName, SqlType] = Field(min_length=1, description="Expected column -> DuckDB type name.")


@dataclass(frozen=True)
class SchemaIndicator(Indicator):
    type: ClassVar[str] = "schema"
    columns: Mapping[str, str]  # column -> expected type, as the spec writes it

    def from_catalog(
        self, actual: Mapping[str, str], same_type: Callable[[str, str], bool]
    ) -> tuple[float | None, str | None]:
        matched = sum(1 for name, t in self.columns.items() if name in actual and same_type(t, name))
        missing = [name for name in self.columns if name not in actual]
        retyped = [
            f"{name} is {actual[name]}, not {t}"
            for name, t in self.columns.items()
            if name in actual and not same_type(t, name)
        ]
        problems = ([f"missing {', '.join(missing)}"] if missing else []) + retyped
        return matched / len(self.columns), "; ".join(problems) or None


DEFINITION = Definition(
    "schema",
    SchemaMatch,
    SchemaIndicator,
    unit="ratio",
    measured="catalog",
    gx_reason="expected types are DuckDB types, which a GX pandas batch does not keep",
)
