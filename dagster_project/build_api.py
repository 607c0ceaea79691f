"""The public API a data product's build implements: what it reads, the tables it makes, its parameters.

A product that builds its own tables declares it in its spec by reference, `build: "package.module:ATTRIBUTE"`,
naming a `Build` object. The service imports it (load_build) only when a build is needed - the Dagster definitions,
`slo run`, `slo tree`, `slo validate` - and a product without one is check-only: checks, schedules for checks, rules,
dashboards and reports, never a job or asset that writes. The bundled Product Affinity example
(dagster_project/product/build.py) plugs in through this module only, as a user's build would.

A build writes only to a database it created (warehouse/ownership.py): the service marks every file it builds and
refuses to build over a file without the mark.

This module imports nothing heavy: a spec's build is resolved by `slo validate`, which must stay fast.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagster_project.errors import SourceDataError, UsageError

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "Build",
    "BuildParams",
    "SourceColumn",
    "SourceTable",
    "TableBuild",
    "find_source_file",
    "load_build",
]

# The salt a build may use to pseudonymise keys; the service takes the real one only from SLO_CUSTOMER_SALT.
DEFAULT_SALT = "slo-monitor-dev-salt"


@dataclass(frozen=True)
class SourceColumn:
    name: str
    duckdb_type: str
    description: str
    pii: bool = False


@dataclass(frozen=True)
class SourceTable:
    """A source file the build loads into raw.<name> (`<name>.csv` or `<name>.parquet` in the data folder)."""

    name: str
    description: str
    columns: tuple[SourceColumn, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def pii_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.pii)


FILE_FORMATS = ("csv", "parquet")


def find_source_file(data_dir: Path, table: SourceTable) -> Path | None:
    """The file holding `table` in `data_dir`, or None. A table must be in exactly one format."""
    found = [data_dir / f"{table.name}.{fmt}" for fmt in FILE_FORMATS if (data_dir / f"{table.name}.{fmt}").exists()]
    if len(found) > 1:
        raise SourceDataError(found[0], f"both {found[0].name} and {found[1].name} exist; keep one")
    return found[0] if found else None


@dataclass(frozen=True)
class BuildParams:
    """What the service hands every build: the time it builds as of, the salt (from SLO_CUSTOMER_SALT) and the
    build's own options by name (e.g. {"min_pair_orders": 10}), which its `params` turns into its own object."""

    as_of: datetime | None = None  # None: the time the build runs
    customer_salt: str = DEFAULT_SALT
    options: Mapping[str, object] = field(default_factory=dict)

    def now(self) -> datetime:
        return (self.as_of or datetime.now(UTC)).astimezone(UTC)


# (connection to the build database, the build's own parameters object) -> None; the table is created in place.
BuildFn = Callable[["duckdb.DuckDBPyConnection", Any], None]


@dataclass(frozen=True)
class TableBuild:
    """One table the build makes: `schema.table`, the tables it is built from (raw.<source> or other built tables),
    the function that creates it, and what its columns mean (shown in Dagster and the docs)."""

    name: str
    description: str
    deps: tuple[str, ...]
    build: BuildFn
    columns: tuple[tuple[str, str], ...] = ()

    @property
    def schema(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def table(self) -> str:
        return self.name.split(".", 1)[1]


def _no_options(params: BuildParams) -> BuildParams:
    if params.options:
        raise UsageError(f"this build takes no options; got {', '.join(sorted(params.options))}")
    return params


@dataclass(frozen=True)
class Build:
    """A data product's build. `product` is the spec's data_product.id; `params` turns the service's BuildParams into
    the object every TableBuild.build receives (default: the BuildParams themselves, no options allowed);
    `summary(con, as_of)` returns the text `slo run` prints after publishing (con reads the published database, raw
    attached); `sample_data(out_dir, as_of, orders, seed)` writes sources for `slo run` without --data-dir."""

    product: str
    description: str
    sources: tuple[SourceTable, ...]
    tables: tuple[TableBuild, ...]
    params: Callable[[BuildParams], Any] = _no_options
    summary: Callable[[duckdb.DuckDBPyConnection, datetime], str] | None = None
    sample_data: Callable[[Path, datetime, int, int], None] | None = None

    @property
    def raw_tables(self) -> tuple[str, ...]:
        return tuple(f"raw.{t.name}" for t in self.sources)

    @property
    def published_tables(self) -> tuple[str, ...]:
        """Every table a run makes, raw included: the publish step waits for all of them."""
        return (*self.raw_tables, *(t.name for t in self.tables))

    @property
    def schemas(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.schema for t in self.tables))

    def table_deps(self) -> dict[str, tuple[str, ...]]:
        """Each table the build makes -> the tables it is built from (sources have none): the product's lineage."""
        return {**{t: () for t in self.raw_tables}, **{t.name: t.deps for t in self.tables}}

    def problems(self) -> list[str]:
        """What is inconsistent in the declaration itself (names, dependencies that no table provides)."""
        out = []
        known = set(self.raw_tables)
        for t in self.tables:
            if not re.fullmatch(r"[A-Za-z_]\w*\.[A-Za-z_]\w*", t.name):
                out.append(f"table {t.name!r} is not schema.table")
            if t.schema in ("raw", "build_log", "main", "temp"):
                out.append(f"table {t.name!r}: schema {t.schema} is reserved by the service")
            missing = [d for d in t.deps if d not in known]
            if missing:
                out.append(f"table {t.name} depends on {', '.join(missing)}, which no source or earlier table makes")
            known.add(t.name)
        return out


REF_PATTERN = r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*$"


def load_build(ref: str) -> Build:
    """Import `package.module:ATTRIBUTE` and return the Build it names; UsageError (the reason, one line) otherwise."""
    module_name, sep, attribute = ref.partition(":")
    if not sep or not re.fullmatch(REF_PATTERN, ref):
        raise UsageError(f"build {ref!r}: give it as package.module:ATTRIBUTE")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"build {ref!r}: cannot import {module_name} ({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # a plugin that fails at import: its error, one line, not our traceback
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise UsageError(f"build {ref!r}: importing {module_name} failed: {type(exc).__name__}: {first}") from None
    value = getattr(module, attribute, None)
    if value is None:
        raise UsageError(f"build {ref!r}: {module_name} has no attribute {attribute}")
    if not isinstance(value, Build):
        raise UsageError(f"build {ref!r}: is a {type(value).__name__}, not a dagster_project.build_api.Build")
    problems = value.problems()
    if problems:
        raise UsageError(f"build {ref!r}: {problems[0]}")
    return value
