"""Layer 4 of validation: the spec against a given database (opened read-only, external access off), before anything
is evaluated - `slo validate --db` and the first step of `slo check`. It runs on any engine adapter
(engines/adapter.py): DuckDB, PostgreSQL or Spark, reading the adapter's catalog and preparing queries in its dialect.

- every dataset, dimension and column a spec names exists;
- each indicator's columns have the types it needs (a timestamp or date for an age or a volume, numbers for a range
  or a sum, comparable keys for a reference), by the type family the adapter gives each column;
- the SQL a spec writes (custom indicators, consumer queries, measure expressions) is prepared against the database:
  bound and typed, never run (the adapter's `describe`);
- the query each SLO's indicator compiles to (the plan's tree, rendered in the adapter's dialect: what the engine will
  run) is prepared too, so what is left to fail at run time is the data.

Preparing binds a query without running it, but binding can run part of it (a PIVOT reads its distinct values), so
each preparation has the time limit of the SLO it is for (the default one for consumer queries and measures).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from dagster_project.engines.adapter import Catalog, Column, EngineAdapter, EngineError, PermissionDenied
from dagster_project.engines.duckdb_adapter import open_adapter
from dagster_project.engines.measures import measure_query
from dagster_project.engines.time_limit import DEFAULT_TIMEOUT_S, QueryTimedOut
from dagster_project.indicators.base import Read
from dagster_project.indicators.lazy import sql as neutral
from dagster_project.slo import plan, rendered
from dagster_project.slo.domain import Slo
from dagster_project.slo.from_spec import slos_from_spec
from dagster_project.slo.samples import sample_query
from dagster_project.spec.durations import parse_duration
from dagster_project.spec.free_sql import FreeSqlRejected, expression_verdict, require_single_select
from dagster_project.spec.models import SchemaMatch, model_parts
from dagster_project.spec.validate import LoadedSpec, SpecIssue
from dagster_project.spec.yaml_doc import Path_
from dagster_project.warehouse.connection import resolve

# Any instant; only the shape of the queries matters when they are prepared.
_PREPARE_AS_OF = datetime(2000, 1, 1)

_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}
_NUMBERS = _INTEGERS | {"UHUGEINT", "FLOAT", "DOUBLE"}
_TIMES = {"DATE", "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP WITH TIME ZONE"}
_TEXT = {"VARCHAR"}


def family(type_: str) -> str:
    """'number', 'time', 'text' or the type itself, of a DuckDB type name: which columns compare with which, and
    what an indicator needs (scaffold/profile.py; the checks below read the adapter's Column.family)."""
    if type_ in _NUMBERS or type_.startswith("DECIMAL"):
        return "number"
    if type_ in _TIMES:
        return "time"
    if type_ in _TEXT:
        return "text"
    return type_


_COARSE = {"integer": "number", "decimal": "number", "float": "number", "date": "time", "timestamp": "time"}


def coarse(column: Column) -> str:
    """What an indicator needs of a column, whatever the engine: 'number', 'time', 'text', or (for booleans and types
    of no family) the engine's type itself, which only compares equal to the same type."""
    if column.family == "text":
        return "text"
    return _COARSE.get(column.family, column.type)


_NEEDS = {"number": "a numeric column", "time": "a timestamp or date column"}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class _Checker:
    def __init__(self, adapter: EngineAdapter, place: str | None = None) -> None:
        self.adapter = adapter
        self.place = place if place is not None else adapter.label  # where the data is, for messages
        self.catalog: Catalog = adapter.catalog()
        self.issues: list[SpecIssue] = []
        # Columns a schema SLO of the spec promises, per dataset: when one is missing or of another type, the
        # database broke a promise the spec already watches - the schema SLO fails and records it (and the SLOs
        # reading the column record errors), which is data to monitor, not a mistake in the spec.
        self.promised: dict[str, dict[str, str]] = {}
        self.broken_promises = 0

    def _promised(self, dataset: str, col: str) -> str | None:
        return self.promised.get(dataset, {}).get(col)

    def _promised_family(self, dataset: str, col: str) -> str | None:
        """The family of the type a schema SLO promises (its name as the spec writes it, in DuckDB's spelling)."""
        promised = self._promised(dataset, col)
        return None if promised is None else family(promised.upper())

    def table(self, s: LoadedSpec, name: str, loc: Path_) -> dict[str, Column] | None:
        if not self.catalog.exists(name):
            self.issues.append(s.issue(loc, f"dataset {name!r} does not exist in {self.place}"))
            return None
        return {c.name: c for c in self.catalog.columns(name)}

    def column(self, s: LoadedSpec, dataset: str, known: dict[str, Column], col: str, loc: Path_) -> Column | None:
        """The column, or None (and an issue, unless a schema SLO promises it) when it does not exist."""
        if col not in known:
            if self._promised(dataset, col) is not None:
                self.broken_promises += 1
                return None
            has = ", ".join(sorted(known))
            self.issues.append(s.issue(loc, f"column {col!r} does not exist in {dataset} (has {has})"))
            return None
        return known[col]

    def typed(
        self, s: LoadedSpec, dataset: str, known: dict[str, Column], col: str, loc: Path_, need: str, why: str
    ) -> bool:
        """The column exists and is of the family `need`; otherwise an issue saying what `why` needs."""
        column = self.column(s, dataset, known, col, loc)
        if column is None:
            return False
        if coarse(column) != need:
            if self._promised_family(dataset, col) == need:
                self.broken_promises += 1
                return False
            self.issues.append(s.issue(loc, f"{why} needs {_NEEDS[need]}: {dataset}.{col} is {column.type}"))
            return False
        return True

    def prepare(
        self, sql: str, timeout_s: float = DEFAULT_TIMEOUT_S, ours: bool = False
    ) -> tuple[list[Column], str | None]:
        """Bind `sql` without running it, in the adapter's dialect: its columns, or the error (a timeout too). SQL
        written in the spec is first checked to only read; `ours` (an indicator's query, rendered from a tree whose
        names are quoted identifiers and whose values are literals) is prepared as the engine will run it. A query
        the credentials may not run (a table they may not read) gives no columns and no error: whoever grants access
        fixes that, not the spec, and the evaluation records it as the SLO's error."""
        try:
            if not ours:
                require_single_select(sql, dialect=self.adapter.dialect)
            return self.adapter.describe(sql, timeout_s), None
        except PermissionDenied:
            return [], None
        except (FreeSqlRejected, QueryTimedOut, EngineError) as exc:
            return [], _first_line(exc)

    def engine_query(self, slo: Slo) -> str:
        """What the engine will run for the SLO (a scan SLO: its aggregate alone over its dataset and rows), in its
        dialect: the texts the evaluation reuses (slo/rendered.py), so each is rendered once per process."""
        dialect = self.adapter.dialect
        if slo.definition.measured != "scan":
            return rendered.single(slo, dialect, _PREPARE_AS_OF)
        texts = self.catalog.text_columns(slo.dataset)
        if slo.filter is None:
            return rendered.scan_alone(slo, texts, dialect, _PREPARE_AS_OF)
        # Its aggregate alone, without the row filter (a filter naming a missing column is the evaluation's error)
        tree = neutral.select(plan.scan_expression(slo, _PREPARE_AS_OF, texts), from_=neutral.table(slo.dataset))
        return neutral.render(tree, dialect)

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
            _columns, error = self.prepare(q.sql)
            if error is not None:
                self.issues.append(s.issue(("consumer_queries", i, "sql"), f"SQL does not run here: {error}"))
        scans: dict[str, list[tuple[int, Slo]]] = {}  # unfiltered scan SLOs, by dataset: prepared together below
        for i, slo in enumerate(slos_from_spec(s.spec)):
            before, broken = len(self.issues), self.broken_promises
            ours = self.slo(s, i, slo)
            measured = slo.definition.measured
            if ours and measured in ("scan", "query") and len(self.issues) == before and self.broken_promises == broken:
                if measured == "scan" and slo.filter is None:
                    scans.setdefault(slo.dataset, []).append((i, slo))
                else:
                    self.engine_query_prepared(s, i, slo)
            self.sample_keys(s, i, slo)
        for dataset, pending in scans.items():
            self.scan_prepared(s, dataset, pending)

    def engine_query_prepared(self, s: LoadedSpec, i: int, slo: Slo) -> None:
        """What the engine will run for the SLO, prepared: anything the rules above do not know about."""
        _columns, error = self.prepare(self.engine_query(slo), slo.timeout_s, ours=True)
        if error is not None:
            self.issues.append(s.issue(("slos", i, "indicator"), f"cannot be evaluated here: {error}"))

    def scan_prepared(self, s: LoadedSpec, dataset: str, pending: Sequence[tuple[int, Slo]]) -> None:
        """A dataset's scan SLOs prepared as the engine runs them, one query for all (engines/evaluate.py: _scan);
        only when it does not bind, each alone, to say which."""
        if len(pending) > 1:
            slos = [slo for _, slo in pending]
            fused = rendered.scan(
                dataset, slos, self.catalog.text_columns(dataset), self.adapter.dialect, _PREPARE_AS_OF
            )
            _columns, error = self.prepare(fused, max(slo.timeout_s for slo in slos), ours=True)
            if error is None:
                return
        for i, slo in pending:
            self.engine_query_prepared(s, i, slo)

    def sample_keys(self, s: LoadedSpec, i: int, slo: Slo) -> None:
        """The failed-row sample keys exist in the SLO's dataset, and the sample query binds."""
        if slo.samples is None or not self.catalog.exists(slo.dataset):
            return
        known = {c.name: c for c in self.catalog.columns(slo.dataset)}
        before = len(self.issues)
        for j, key in enumerate(slo.samples.keys):
            self.column(s, slo.dataset, known, key, ("slos", i, "samples", "keys", j))
        tree = sample_query(slo, _PREPARE_AS_OF, self.catalog.text_columns(slo.dataset))
        if tree is None or len(self.issues) != before:
            return
        _columns, error = self.prepare(neutral.render(tree, self.adapter.dialect), slo.timeout_s, ours=True)
        if error is not None:
            self.issues.append(s.issue(("slos", i, "samples"), f"the sample query cannot run here: {error}"))

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
        dialect = self.adapter.dialect
        for i, m in enumerate(measures):
            loc = ("semantic_model", "measures", i)
            if self.table(s, m.table, (*loc, "table")) is None:
                continue
            if expression_verdict(m.expression) is not None:
                continue  # reported by layer 3
            # Over the North Star window, as it is computed; without it when the window's column is already wrong.
            sql = (
                measure_query(s.spec, m, _PREPARE_AS_OF, dialect)
                if time_ok
                else f"SELECT ({m.expression}) FROM {neutral.render(neutral.table(m.table), dialect)}"
            )
            columns, error = self.prepare(sql)
            if error is not None:
                self.issues.append(s.issue((*loc, "expression"), f"expression does not run on {m.table}: {error}"))
            elif columns and coarse(columns[0]) != "number":
                self.issues.append(s.issue((*loc, "expression"), f"expression gives {columns[0].type}, not a number"))

    def slo(self, s: LoadedSpec, i: int, slo: Slo | None = None) -> bool:
        """The tables and columns the SLO's indicator reads (indicators/<type>.py: reads), with the types it needs;
        its free SQL prepared. Whether what it reads is the spec's to check (not our own build log)."""
        written = s.spec.slos[i]
        slo = slo if slo is not None else slos_from_spec(s.spec)[i]
        at: Path_ = ("slos", i, "indicator")
        why = slo.kind
        reads = slo.indicator.reads(slo.dataset)
        tables: dict[str, dict[str, Column] | None] = {slo.dataset: self.table(s, slo.dataset, ("slos", i, "dataset"))}
        for read in reads:
            if read.dataset_field and read.dataset not in tables:
                tables[read.dataset] = self.table(s, read.dataset, (*at, *read.dataset_field))
        keys: list[tuple[Read, Column]] = []
        for read in reads:
            known = tables.get(read.dataset)
            if read.implicit or known is None or tables[slo.dataset] is None:
                continue
            loc: Path_ = (*at, *read.field)
            if read.need in ("number", "time"):
                self.typed(s, read.dataset, known, read.column, loc, read.need, why)
                continue
            column = self.column(s, read.dataset, known, read.column, loc)
            if read.need == "key" and column is not None:
                keys.append((read, column))
        for (mine, mine_col), (theirs, theirs_col) in itertools.pairwise(keys):
            if coarse(mine_col) != coarse(theirs_col):
                self.issues.append(
                    s.issue(
                        (*at, *theirs.field),
                        f"{theirs.dataset}.{theirs.column} is {theirs_col.type} and cannot be compared with "
                        f"{mine.dataset}.{mine.column} ({mine_col.type})",
                    )
                )
        if slo.definition.measured == "free_sql" and tables[slo.dataset] is not None:
            columns, error = self.prepare(slo.indicator.free_sql(), parse_duration(written.timeout).total_seconds())
            if error is not None:
                self.issues.append(s.issue((*at, "sql"), f"SQL does not run here: {error}"))
            elif not columns:
                pass  # not prepared: the credentials may not run it (PermissionDenied)
            elif len(columns) != 1:
                self.issues.append(s.issue((*at, "sql"), f"SQL must return one column, it returns {len(columns)}"))
            elif coarse(columns[0]) != "number":
                self.issues.append(s.issue((*at, "sql"), f"SQL returns {columns[0].type}, not a number"))
        return not any(read.implicit for read in reads)


def adapter_issues(specs: Sequence[LoadedSpec], adapter: EngineAdapter) -> list[SpecIssue]:
    """Every mismatch between the specs and the database behind one open adapter (messages name `adapter.label`).
    The catalog is read once; an unreachable engine raises EngineError, as the adapter does."""
    checker = _Checker(adapter)
    for s in specs:
        checker.check(s)
    return sorted(checker.issues)


def database_issues(specs: Sequence[LoadedSpec], db: Path) -> list[SpecIssue]:
    """Every mismatch between the specs and the DuckDB database at `db` (its .landing file attached as raw when
    beside it)."""
    with open_adapter(db) as adapter:
        return adapter_issues(specs, adapter)


__all__ = ["adapter_issues", "coarse", "database_issues", "family", "resolve"]
