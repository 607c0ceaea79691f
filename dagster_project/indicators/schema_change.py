"""schema_change (schema): how many columns were added, removed or retyped since the SLO's previous evaluation, from
the engine's catalog and the columns that evaluation kept in the results store (`kept: {columns: {name: type}}`).

The first evaluation has nothing to compare with: it records the baseline and counts no change. Without a results
store (nothing to read, nothing kept) it is an error result, never a silent pass.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from dagster_project.indicators.base import Definition, History, HistoryWanted, Indicator, Measured

KEPT = "columns"  # what each evaluation keeps: {column: the engine's type}
NO_STORE = "no results store to compare with: schema_change judges each run against the previous one kept there"


@dataclass(frozen=True)
class SchemaChangeIndicator(Indicator):
    type: ClassVar[str] = "schema_change"

    def from_catalog(self, actual: Mapping[str, str], same_type: Callable[[str, str], bool]) -> Measured:
        return Measured(None, kept={KEPT: dict(actual)})  # judged against the previous evaluation's (judge)

    def history_wanted(self) -> HistoryWanted:
        return HistoryWanted(last=1)

    def judge(self, measured: Measured, history: History, as_of: datetime) -> Measured:
        now: Mapping[str, str] = measured.kept.get(KEPT, {})
        if not history.available:
            return Measured(None, kept=measured.kept, error=NO_STORE)
        previous = history.last
        before = None if previous is None else previous.kept.get(KEPT)
        if not isinstance(before, Mapping):
            when = "no previous evaluation" if previous is None else "the previous evaluation kept no columns"
            return Measured(0.0, f"{when}: this one ({len(now)} columns) is the baseline", measured.kept)
        changes = changed_columns(before, now)
        since = f"since {previous.evaluated_at.isoformat()}" if previous is not None else ""
        detail = f"{'; '.join(changes)} ({since})" if changes else None
        return Measured(float(len(changes)), detail, measured.kept)


def changed_columns(before: Mapping[str, str], now: Mapping[str, str]) -> list[str]:
    """One line per change, in a stable order: added, removed, then retyped columns (types as the engine names
    them, compared as text)."""
    added = [c for c in now if c not in before]
    removed = [c for c in before if c not in now]
    retyped = [f"{c} {before[c]} -> {now[c]}" for c in now if c in before and str(before[c]) != now[c]]
    return (
        [f"added {c} {now[c]}" for c in added]
        + [f"removed {c} {before[c]}" for c in removed]
        + [f"retyped {line}" for line in retyped]
    )


DEFINITION = Definition(
    "schema_change",
    SchemaChangeIndicator,
    unit="count",
    measured="catalog",
    gx_reason="it compares the engine's catalog with the previous evaluation's, which GX does not see",
    history=True,
)
