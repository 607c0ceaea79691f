"""schema (schema): share of the expected columns present with the expected type, from the engine's catalog; with
`additional_columns: false`, columns the spec does not declare count against it too."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from dagster_project.indicators.base import Definition, Indicator, Measured


@dataclass(frozen=True)
class SchemaIndicator(Indicator):
    type: ClassVar[str] = "schema"
    columns: Mapping[str, str]  # column -> expected type, as the spec writes it
    additional_columns: bool = True

    def from_catalog(self, actual: Mapping[str, str], same_type: Callable[[str, str], bool]) -> Measured:
        matched = sum(1 for name, t in self.columns.items() if name in actual and same_type(t, name))
        missing = [name for name in self.columns if name not in actual]
        retyped = [
            f"{name} is {actual[name]}, not {t}"
            for name, t in self.columns.items()
            if name in actual and not same_type(t, name)
        ]
        added = [] if self.additional_columns else [name for name in actual if name not in self.columns]
        problems = (
            ([f"missing {', '.join(missing)}"] if missing else [])
            + retyped
            + ([f"undeclared {', '.join(added)}"] if added else [])
        )
        return Measured(matched / (len(self.columns) + len(added)), "; ".join(problems) or None)


DEFINITION = Definition(
    "schema",
    SchemaIndicator,
    unit="ratio",
    measured="catalog",
    gx_reason="expected types are DuckDB types, which a GX pandas batch does not keep",
)
