"""What an engine hands back for one SLO: the observed value, or why there is none. Engines compute these; only
slo/decide.py turns them into pass or fail."""

from __future__ import annotations

from dataclasses import dataclass

from dagster_project.slo.domain import Slo


@dataclass(frozen=True)
class Evaluation:
    slo: Slo
    observed: float | None
    error: str | None = None  # the check itself could not run (missing column, SQL error, ...)
    engine: str = "native"
    detail: str | None = None  # what lies behind the number, for people (e.g. which columns a schema lacks)
