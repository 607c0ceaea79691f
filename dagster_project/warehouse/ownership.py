"""A build writes only to databases it created.

Every file a build makes carries a marker, the table build_log.owner with one row (tool 'slo-monitor', the product
id): the build file `<db>.build` and its landing file `<db>.build.landing` are marked when a run starts, and the
publish step copies them, marker included, over `<db>` and `<db>.landing`. Before a run writes anything, each of
those four paths must be absent or a DuckDB file with our marker for the same product. Anything else - a user's own
database, a file that is not DuckDB at all, another product's build - is refused with one line naming the file, and
nothing is created, changed or deleted: the check only reads (a header, then a read-only connection).

Files from before the marker existed are adopted (and marked by the next build) only when their shape is the build's
own: a database with the build's `build_log.steps` table and no schema the build does not make (at the build path
`<db>.build`, a run may have stopped before writing build_log: there only the schemas count), a landing file
holding only tables named after the build's sources, or an empty DuckDB file at a build path (a run stopped before
its first step).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from dagster_project.errors import UsageError
from dagster_project.warehouse.build_log import BUILD_LOG_SCHEMA
from dagster_project.warehouse.connection import CATALOG, RAW_CATALOG
from dagster_project.warehouse.publish import PublishError

TOOL = "slo-monitor"
OWNER_TABLE = "owner"
DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file
STEPS_COLUMNS = ("asset", "run_id", "finished_at")


class ForeignDatabase(UsageError):
    """A file where the build would write that the build did not create."""


@dataclass(frozen=True)
class Owner:
    """Who a build's files belong to, and what its files look like (to adopt those made before the marker)."""

    product: str
    schemas: tuple[str, ...]  # the schemas of the tables the build makes
    sources: tuple[str, ...]  # its source tables (the landing file's tables)


def _refuse(path: Path, why: str) -> ForeignDatabase:
    return ForeignDatabase(
        f"{path}: {why}; slo-monitor builds only over databases it created - choose another --db (or SLO_DB), "
        "or move the file away"
    )


def _read_owner(path: Path, landing: bool, owner: Owner, intermediate: bool) -> str | None:
    """None when `path` is ours (or adoptable) for `owner`; otherwise why it is not."""
    if path.is_dir():
        return "is a folder, not a database"
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if len(head) < 12 or head[8:12] != DUCKDB_MAGIC:
        return "is not a DuckDB database"
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        reason = str(exc).splitlines()[0]
        if "lock" in reason.lower() or isinstance(exc, duckdb.ConnectionException):
            # Ours or not, it cannot be replaced while another process writes to it (publish.py says the same).
            raise PublishError(
                f"{path} is open for writing by another process ({reason}); open the published database read-only"
            ) from None
        return f"cannot be opened read-only to check who made it ({reason})"
    try:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_catalog = current_database()"
        ).fetchall()
        marker = None
        if (BUILD_LOG_SCHEMA, OWNER_TABLE) in tables:
            rows = con.execute(f"SELECT tool, product FROM {BUILD_LOG_SCHEMA}.{OWNER_TABLE}").fetchall()
            marker = rows[0] if len(rows) == 1 else ("?", "?")
        steps_columns = tuple(
            str(r[0])
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_catalog = current_database() "
                "AND table_schema = ? AND table_name = 'steps' ORDER BY ordinal_position",
                [BUILD_LOG_SCHEMA],
            ).fetchall()
        )
    except duckdb.Error as exc:
        return f"cannot be read to check who made it ({str(exc).splitlines()[0]})"
    finally:
        con.close()
    if marker is not None:
        if marker[0] != TOOL:
            return "has a build_log.owner table that is not slo-monitor's"
        if marker[1] != owner.product:
            return f"was built by slo-monitor for data product {marker[1]!r}, not {owner.product!r}"
        extra = _tables_not_made(tables, landing, owner)
        if extra:  # someone added tables to our file: the next publish would replace the file and lose them
            listed = ", ".join(f"{s}.{t}" for s, t in extra[:3]) + (" ..." if len(extra) > 3 else "")
            return f"was built by slo-monitor but also holds tables the build does not make ({listed})"
        return None
    return _legacy_problem(tables, steps_columns, landing, owner, intermediate)


def _tables_not_made(tables: Iterable[tuple[str, str]], landing: bool, owner: Owner) -> list[tuple[str, str]]:
    """The tables of one of our files that the build does not make (it would replace the file, losing them)."""
    if landing:
        return sorted((s, t) for s, t in tables if not (s == "main" and t in owner.sources) and s != BUILD_LOG_SCHEMA)
    allowed = {BUILD_LOG_SCHEMA, "raw", *owner.schemas}
    return sorted((s, t) for s, t in tables if s not in allowed)


def _legacy_problem(
    tables: Iterable[tuple[str, str]], steps_columns: tuple[str, ...], landing: bool, owner: Owner, intermediate: bool
) -> str | None:
    """A file from before the marker: None when its shape is the build's own (see the module's docstring)."""
    tables = list(tables)
    if not tables:
        return None  # an empty DuckDB file: nothing to lose
    if landing:
        names = {t for s, t in tables if s == "main"}
        if all(s == "main" for s, _t in tables) and names <= set(owner.sources):
            return None
        return "is a DuckDB database that slo-monitor did not create (no slo-monitor marker, not a landing file)"
    allowed = {BUILD_LOG_SCHEMA, "raw", *owner.schemas}  # 'raw': a build file from before the landing file
    # A build file (<db>.build) may have stopped before its build_log was written; the published one never is.
    if (intermediate or steps_columns == STEPS_COLUMNS) and all(s in allowed for s, _t in tables):
        return None
    return "is a DuckDB database that slo-monitor did not create (no slo-monitor marker)"


def refuse_foreign(owner: Owner, database: Path, landing: Path, intermediate: bool = False) -> None:
    """ForeignDatabase naming the first of `database` / `landing` that exists and is not the build's own.
    `intermediate`: they are the build's own working files (<db>.build and its landing file)."""
    for path, is_landing in ((database, False), (landing, True)):
        if path.exists() or path.is_symlink():
            why = _read_owner(path, is_landing, owner, intermediate)
            if why is not None:
                raise _refuse(path, why)


def mark(con: duckdb.DuckDBPyConnection, owner: Owner) -> None:
    """Mark the build file (catalog warehouse) and its landing file (catalog raw) of a connection as ours."""
    for catalog in (CATALOG, RAW_CATALOG):
        table = f"{catalog}.{BUILD_LOG_SCHEMA}.{OWNER_TABLE}"
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {catalog}.{BUILD_LOG_SCHEMA}")
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} (tool VARCHAR NOT NULL, product VARCHAR NOT NULL)")
        con.execute(f"DELETE FROM {table}")
        con.execute(f"INSERT INTO {table} VALUES (?, ?)", [TOOL, owner.product])
