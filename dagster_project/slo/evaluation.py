"""What an engine hands back for one SLO: the observed value, or why there is none. Engines compute these; only
slo/decide.py turns them into pass or fail."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dagster_project.slo.domain import Slo


@dataclass(frozen=True)
class Slice:
    """The partition an evaluation judged (spec: partition): rows whose `column` is from `start` to `end` (naive
    UTC; `end` is the evaluation time)."""

    column: str
    start: datetime
    end: datetime

    def as_record(self) -> dict[str, str]:
        return {"column": self.column, "from": self.start.isoformat() + "Z", "to": self.end.isoformat() + "Z"}


@dataclass(frozen=True)
class Evaluation:
    slo: Slo
    observed: float | None
    error: str | None = None  # the check itself could not run (missing column, SQL error, ...)
    engine: str = "native"
    detail: str | None = None  # what lies behind the number, for people (e.g. which columns a schema lacks)
    slice: Slice | None = None  # the partition judged, when the SLO has one
    kept: Mapping[str, Any] | None = None  # what its indicator keeps for the next evaluations (Measured.kept)
