"""Layer 4 of validation: the spec against a given database (opened read-only, external access off), before anything
is evaluated - `slo validate --db` and the first step of `slo check`.

- every dataset, dimension and column a spec names exists;
- each indicator's columns have the types it needs (a timestamp or date for an age or a volume, numbers for a range
  or a sum, comparable keys for a reference);
- the SQL a spec writes (custom indicators, consumer queries, measure expressions) is prepared against the database:
  bound and typed, never run;
- the query each SLO's indicator compiles to is prepared too, so what is left to fail at run time is the data.

Preparing binds a query without running it, but binding can run part of it (a PIVOT reads its distinct values), so
each preparation has the time limit of the SLO it is for (the default one for consumer queries and measures).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import duckdb

from dagster_project.engines.measures import measure_query
from dagster_project.engines.native import open_for_checks
from dagster_project.engines.native_sql import scan_expression, single_query, table_ref
from dagster_project.engines.time_limit import DEFAULT_TIMEOUT_S, QueryTimedOut, time_limit
from dagster_project.indicators.base import Read
from dagster_project.slo.domain import Slo, slos_from_spec
from dagster_project.spec.durations import parse_duration
from dagster_project.spec.free_sql import FreeSqlRejected, require_expression, require_single_select
from dagster_project.spec.models import SchemaMatch, model_parts
from dagster_project.spec.validate import LoadedSpec, SpecIssue
from dagster_project.spec.yaml_source import Path_
from dagster_project.warehouse.connection import resolve

# Any instant; only the shape of the queries matters when they are prepared.
_PREPARE_AS_OF = datetime(2000, 1, 1)

_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}
_NUMBERS = _INTEGERS | {"UHUGEINT", "FLOAT", "DOUBLE"}
_TIMES = {"DATE", "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP WITH TIME ZONE"}
_TEXT = {"VARCHAR"}


def family(type_: str) -> str:
    """'number', 'time', 'text' or the type itself: which columns compare with which, and what an indicator needs."""
    if type_ in _NUMBERS or type_.startswith("DECIMAL"):
        return "number"
    if type_ in _TIMES:
        return "time"
    if type_ in _TEXT:
        return "text"
    return type_


_NEEDS = {"number": "a numeric column", "time": "a timestamp or date column"}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class _Checker:
    def __init__(self, con: duckdb.DuckDBPyConnection, db: Path) -> None:
        self.con, self.db = con, db
        self.tables: dict[tuple[str, str, str], dict[str, str]] = {}
        rows = con.execute(
            "SELECT database_name, schema_name, table_name, column_name, data_type FROM duckdb_columns() "
            "ORDER BY database_name, schema_name, table_name, column_index"  # as the engine's catalog: same SQL
        ).fetchall()
        for catalog, schema, table, column, type_ in rows:
            self.tables.setdefault((catalog, schema, table), {})[column] = type_
        self.issues: list[SpecIssue] = []
        # Columns a schema SLO of the spec promises, per dataset: when one is missing or of another type, the
        # database broke a promise the spec already watches - the schema SLO fails and records it (and the SLOs
        # reading the column record errors), which is data to monitor, not a mistake in the spec.
        self.promised: dict[str, dict[str, str]] = {}
        self.broken_promises = 0

    def _promised(self, dataset: str, col: str) -> str | None:
        return self.promised.get(dataset, {}).get(col)

    def table(self, s: LoadedSpec, name: str, loc: Path_) -> dict[str, str] | None:
        known = self.tables.get(resolve(name))
        if known is None:
            self.issues.append(s.issue(loc, f"dataset {name!r} does not exist in {self.db}"))
        return known

    def column(self, s: LoadedSpec, dataset: str, known: dict[str, str], col: str, loc: Path_) -> str | None:
        """The column's type, or None (and an issue, unless a schema SLO promises it) when it does not exist."""
        if col not in known:
            if self._promised(dataset, col) is not None:
                self.broken_promises += 1
                return None
            has = ", ".join(sorted(known))
            self.issues.append(s.issue(loc, f"column {col!r} does not exist in {dataset} (has {has})"))
            return None
        return known[col]

    def typed(
        self, s: LoadedSpec, dataset: str, known: dict[str, str], col: str, loc: Path_, need: str, why: str
    ) -> bool:
        """The column exists and is of the family `need`; otherwise an issue saying what `why` needs."""
        type_ = self.column(s, dataset, known, col, loc)
        if type_ is None:
            return False
        if family(type_) != need:
            promised = self._promised(dataset, col)
            if promised is not None and family(promised) == need:
                self.broken_promises += 1
                return False
            self.issues.append(s.issue(loc, f"{why} needs {_NEEDS[need]}: {dataset}.{col} is {type_}"))
            return False
        return True

    def prepare(
        self, sql: str, timeout_s: float = DEFAULT_TIMEOUT_S, ours: bool = False
    ) -> tuple[list[str], str | None]:
        """Bind `sql` without running it: its column types, or the error (a timeout too). SQL written in the spec is
        first checked to only read; `ours` (an indicator's query, rendered from a tree whose names are quoted
        identifiers and whose values are literals) is prepared as the engine will run it, unchecked."""
        try:
            if not ours:
                require_single_select(sql)
            with time_limit(self.con, timeout_s):
                relation = self.con.sql(sql)
                return [str(t) for t in relation.types], None
        except (FreeSqlRejected, QueryTimedOut, duckdb.Error) as exc:
            return [], _first_line(exc)

    def check(self, s: LoadedSpec) -> None:
        self.promised = {}
        for written in s.spec.slos:
            if isinstance(written.indicator, SchemaMatch):
                self.promised.setdefault(written.dataset, {}).update(written.indicator.columns)
        self.semantic_model(s)
        for i, u in enumerate(s.spec.data_product.use_cases):
            for j, ds in enumerate(u.datasets):
                self.table(s, ds, ("data_product", "use_cases", i, "datasets", j))
        for i, q in enumerate(s.spec.consumer_queries):
            _types, error = self.prepare(q.sql)
            if error is not None:
                self.issues.append(s.issue(("consumer_queries", i, "sql"), f"SQL does not run here: {error}"))
        for i, slo in enumerate(slos_from_spec(s.spec)):
            before, broken = len(self.issues), self.broken_promises
            ours = self.slo(s, i, slo)
            measured = slo.definition.measured
            if ours and measured in ("scan", "query") and len(self.issues) == before and self.broken_promises == broken:
                # What the engine will run, prepared: anything the rules above do not know about.
                known = self.tables[resolve(slo.dataset)]
                text_columns = [c for c, t in known.items() if t == "VARCHAR"]
                sql = (
                    f"SELECT {scan_expression(slo, _PREPARE_AS_OF, text_columns)} FROM {table_ref(slo.dataset)}"
                    if measured == "scan"
                    else single_query(slo, _PREPARE_AS_OF)
                )
                _types, error = self.prepare(sql, slo.timeout_s, ours=True)
                if error is not None:
                    self.issues.append(s.issue(("slos", i, "indicator"), f"cannot be evaluated here: {error}"))

    def semantic_model(self, s: LoadedSpec) -> None:
        measures, dimensions = model_parts(s.spec)
        star = s.spec.north_star
        time_ok = True
        for i, d in enumerate(dimensions):
            loc: Path_ = ("semantic_model", "dimensions", i)
            known = self.table(s, d.table, (*loc, "table"))
            if known is None:
                continue
            if star is not None and d.name == star.time_dimension:
                why = "the North Star's time dimension"
                time_ok = self.typed(s, d.table, known, d.column, (*loc, "column"), "time", why)
            else:
                self.column(s, d.table, known, d.column, (*loc, "column"))
        for i, m in enumerate(measures):
            loc = ("semantic_model", "measures", i)
            if self.table(s, m.table, (*loc, "table")) is None:
                continue
            try:
                require_expression(m.expression)
            except FreeSqlRejected:
                continue  # reported by layer 3
            # Over the North Star window, as it is computed; without it when the window's column is already wrong.
            sql = (
                measure_query(s.spec, m, _PREPARE_AS_OF)
                if time_ok
                else f"SELECT ({m.expression}) FROM {table_ref(m.table)}"
            )
            types, error = self.prepare(sql)
            if error is not None:
                self.issues.append(s.issue((*loc, "expression"), f"expression does not run on {m.table}: {error}"))
            elif family(types[0]) != "number":
                self.issues.append(s.issue((*loc, "expression"), f"expression gives {types[0]}, not a number"))

    def slo(self, s: LoadedSpec, i: int, slo: Slo | None = None) -> bool:
        """The tables and columns the SLO's indicator reads (indicators/<type>.py: reads), with the types it needs;
        its free SQL prepared. Whether what it reads is the spec's to check (not our own build log)."""
        written = s.spec.slos[i]
        slo = slo if slo is not None else slos_from_spec(s.spec)[i]
        at: Path_ = ("slos", i, "indicator")
        why = slo.kind
        reads = slo.indicator.reads(slo.dataset)
        tables: dict[str, dict[str, str] | None] = {slo.dataset: self.table(s, slo.dataset, ("slos", i, "dataset"))}
        for read in reads:
            if read.dataset_field and read.dataset not in tables:
                tables[read.dataset] = self.table(s, read.dataset, (*at, *read.dataset_field))
        keys: list[tuple[Read, str]] = []
        for read in reads:
            known = tables.get(read.dataset)
            if read.implicit or known is None or tables[slo.dataset] is None:
                continue
            loc: Path_ = (*at, *read.field)
            if read.need in ("number", "time"):
                self.typed(s, read.dataset, known, read.column, loc, read.need, why)
                continue
            type_ = self.column(s, read.dataset, known, read.column, loc)
            if read.need == "key" and type_ is not None:
                keys.append((read, type_))
        for (mine, mine_type), (theirs, theirs_type) in itertools.pairwise(keys):
            if family(mine_type) != family(theirs_type):
                self.issues.append(
                    s.issue(
                        (*at, *theirs.field),
                        f"{theirs.dataset}.{theirs.column} is {theirs_type} and cannot be compared with "
                        f"{mine.dataset}.{mine.column} ({mine_type})",
                    )
                )
        if slo.definition.measured == "free_sql" and tables[slo.dataset] is not None:
            types, error = self.prepare(slo.indicator.free_sql(), parse_duration(written.timeout).total_seconds())
            if error is not None:
                self.issues.append(s.issue((*at, "sql"), f"SQL does not run here: {error}"))
            elif len(types) != 1:
                self.issues.append(s.issue((*at, "sql"), f"SQL must return one column, it returns {len(types)}"))
            elif family(types[0]) != "number":
                self.issues.append(s.issue((*at, "sql"), f"SQL returns {types[0]}, not a number"))
        return not any(read.implicit for read in reads)


def database_issues(specs: Sequence[LoadedSpec], db: Path) -> list[SpecIssue]:
    """Every mismatch between the specs and the database at `db` (its .landing file attached as raw when beside it)."""
    with open_for_checks(db) as con:
        checker = _Checker(con, db)
        for s in specs:
            checker.check(s)
    return sorted(checker.issues)


__all__ = ["database_issues", "family", "resolve"]
