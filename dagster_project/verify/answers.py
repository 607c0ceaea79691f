"""What the database check (database.py) asked of a database and what it was told, so a later call can ask again
and know, without the specs, whether the check would find what it found.

The check is a function of the specs and of the database's answers: its catalog (read once) and the columns, or the
error, of every query it prepared. Asked the same questions, a database that gives the same answers gets the same
verdict. Preparing binds a query, which can read data (a PIVOT's distinct values) or depend on what the catalog does
not show (a macro, a view's body), so the queries are prepared again, never assumed. A preparation that timed out is
not an answer (the next one may not): nothing is recorded then. No pydantic and no spec here: `slo check`'s warm path
(check_memory.py) reads only this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dagster_project.engines.adapter import Catalog, Column, EngineAdapter, EngineError, PermissionDenied
from dagster_project.engines.time_limit import QueryTimedOut

# A preparation's answer: the columns, or the error it raised (its kind and message).
Answer = tuple[Column, ...] | tuple[str, str]


@dataclass(frozen=True)
class Asked:
    sql: str
    timeout_s: float
    answer: Answer


@dataclass(frozen=True)
class Answers:
    """Where the check looked (the adapter's engine and label), the catalog it read and what it prepared, in order."""

    engine: str
    label: str
    catalog: Catalog
    asked: tuple[Asked, ...]

    def still_given_by(self, adapter: EngineAdapter) -> bool:
        """Whether `adapter` gives the same answers now: its catalog equal, every query prepared again with the same
        columns or the same error."""
        if (adapter.name, adapter.label) != (self.engine, self.label) or adapter.catalog() != self.catalog:
            return False
        # In order, stopping at the first difference; a timeout (None) is no answer.
        return all(_prepared(adapter, asked.sql, asked.timeout_s) == asked.answer for asked in self.asked)


def _prepared(adapter: EngineAdapter, sql: str, timeout_s: float) -> Answer | None:
    """The adapter's answer to preparing `sql`; None when it timed out (no answer)."""
    try:
        return tuple(adapter.describe(sql, timeout_s))
    except QueryTimedOut:
        return None
    except (PermissionDenied, EngineError) as exc:
        return (type(exc).__name__, str(exc))


class Recorder:
    """An adapter that passes every call to `adapter` and keeps what the database check asked and was told
    (`answers`: None when something it asked cannot be asked again to the same effect)."""

    def __init__(self, adapter: EngineAdapter) -> None:
        self.adapter = adapter
        self.name, self.dialect, self.label = adapter.name, adapter.dialect, adapter.label
        self._catalog: Catalog | None = None
        self._asked: list[Asked] = []
        self._whole = True

    def catalog(self) -> Catalog:
        catalog = self.adapter.catalog()
        if self._catalog is not None and catalog != self._catalog:
            self._whole = False  # an adapter whose catalog changed under the check: nothing to replay
        self._catalog = catalog
        return catalog

    def describe(self, sql: str, timeout_s: float) -> list[Column]:
        try:
            columns = self.adapter.describe(sql, timeout_s)
        except QueryTimedOut:
            self._whole = False
            raise
        except (PermissionDenied, EngineError) as exc:
            self._asked.append(Asked(sql, timeout_s, (type(exc).__name__, str(exc))))
            raise
        self._asked.append(Asked(sql, timeout_s, tuple(columns)))
        return columns

    def fetch(self, sql: str, timeout_s: float, max_rows: int | None = 2) -> list[tuple[Any, ...]]:
        self._whole = False  # the check only prepares; a fetched answer is not one it can replay
        return self.adapter.fetch(sql, timeout_s, max_rows)

    def same_type(self, expected: str, actual: Column) -> bool:
        self._whole = False
        return self.adapter.same_type(expected, actual)

    def close(self) -> None:
        self.adapter.close()

    @property
    def answers(self) -> Answers | None:
        if not self._whole or self._catalog is None:
            return None
        return Answers(self.adapter.name, self.adapter.label, self._catalog, tuple(self._asked))
