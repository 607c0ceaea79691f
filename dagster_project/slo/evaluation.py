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


SampleValue = int | float | str | None
MASK = "***"  # what a sample shows for a key column marked as PII (spec: pii_columns): its value is never selected


@dataclass(frozen=True)
class Samples:
    """The keys of some failing rows (spec: samples), first by key, at most `limit`; `error` says why none could be
    taken (the sample query failed or timed out: the verdict stands)."""

    keys: tuple[str, ...]
    limit: int
    rows: tuple[tuple[SampleValue, ...], ...] = ()
    error: str | None = None

    def as_record(self) -> dict[str, Any]:
        return {"keys": list(self.keys), "limit": self.limit, "rows": [list(r) for r in self.rows], "error": self.error}


@dataclass(frozen=True)
class GroupValue:
    """One group's value in a grouped SLO (spec: group_by): its key (column, value as text; None for null)."""

    key: tuple[tuple[str, str | None], ...]
    observed: float | None

    @property
    def label(self) -> str:
        """The key as people and the `group` label read it: channel=web,country=NL (null as null)."""
        return ",".join(f"{c}={'null' if v is None else v}" for c, v in self.key)


@dataclass(frozen=True)
class Evaluation:
    slo: Slo
    observed: float | None
    error: str | None = None  # the check itself could not run (missing column, SQL error, ...)
    engine: str = "native"
    detail: str | None = None  # what lies behind the number, for people (e.g. which columns a schema lacks)
    slice: Slice | None = None  # the partition judged, when the SLO has one
    groups: tuple[GroupValue, ...] = ()  # each group's value (spec: group_by); observed is the worst group's
    samples: Samples | None = None  # keys of failing rows, when the SLO declares samples and rows fail
    kept: Mapping[str, Any] | None = None  # what its indicator keeps for the next evaluations (Measured.kept)
