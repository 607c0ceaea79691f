"""Layer 4 of validation: the datasets and columns a spec names exist in a given database (opened read-only)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from dagster_project.spec.models import Reconciliation, ReferentialIntegrity
from dagster_project.spec.validate import LoadedSpec, SpecIssue
from dagster_project.spec.yaml_source import Path_
from dagster_project.warehouse.connection import connect, resolve


def _catalogue(db: Path) -> dict[str, set[str]]:
    """'schema.table' -> its columns, for the database and, when it is beside it, its landing file (raw.*)."""
    landing = db.with_name(db.name + ".landing")
    with connect(db, landing=landing if landing.exists() else None, read_only=True) as con:
        rows = con.execute(
            "SELECT database_name, schema_name, table_name, column_name FROM duckdb_columns()"
        ).fetchall()
    tables: dict[str, set[str]] = {}
    for catalog, schema, table, column in rows:
        name = f"{table and schema}.{table}"
        if catalog == "raw" and schema == "main":
            name = f"raw.{table}"
        elif catalog != "warehouse":
            continue
        tables.setdefault(name, set()).add(column)
    return tables


def database_issues(specs: Sequence[LoadedSpec], db: Path) -> list[SpecIssue]:
    tables = _catalogue(db)
    issues: list[SpecIssue] = []

    def table(s: LoadedSpec, name: str, loc: Path_) -> set[str] | None:
        if name not in tables:
            issues.append(s.issue(loc, f"dataset {name!r} does not exist in {db}"))
            return None
        return tables[name]

    def columns(s: LoadedSpec, name: str, named: Sequence[tuple[str, Path_]], table_loc: Path_) -> None:
        """Each (column, where it is written) must exist in table `name`."""
        known = table(s, name, table_loc)
        if known is None:
            return
        for col, loc in named:
            if col not in known:
                issues.append(s.issue(loc, f"column {col!r} does not exist in {name} (has {', '.join(sorted(known))})"))

    for s in specs:
        model = s.spec.semantic_model
        for i, m in enumerate(model.measures):
            table(s, m.table, ("semantic_model", "measures", i, "table"))
        for i, d in enumerate(model.dimensions):
            loc: Path_ = ("semantic_model", "dimensions", i)
            columns(s, d.table, [(d.column, (*loc, "column"))], (*loc, "table"))
        for i, u in enumerate(s.spec.data_product.use_cases):
            for j, ds in enumerate(u.datasets):
                table(s, ds, ("data_product", "use_cases", i, "datasets", j))
        for i, slo in enumerate(s.spec.slos):
            ind = slo.indicator
            at: Path_ = ("slos", i)
            named: list[tuple[str, Path_]] = [
                (getattr(ind, f), (*at, "indicator", f))
                for f in ("column", "timestamp_column")
                if getattr(ind, f, None)
            ]
            if ind.type != "schema":  # a schema SLO's missing columns are what the SLO itself reports
                cols = getattr(ind, "columns", None) or []
                named += [(c, (*at, "indicator", "columns", j)) for j, c in enumerate(cols)]
            columns(s, slo.dataset, named, (*at, "dataset"))
            if isinstance(ind, ReferentialIntegrity | Reconciliation):
                ref: list[tuple[str, Path_]] = [(ind.reference_column, (*at, "indicator", "reference_column"))]
                columns(s, ind.reference_dataset, ref, (*at, "indicator", "reference_dataset"))
    return issues


__all__ = ["database_issues", "resolve"]
