"""Evaluating SLOs against a database outside a build (`slo check`, the Dagster check jobs, and `slo run` for SLOs on
tables the build job does not produce): an engine's numbers turned into result records, ready to print and keep."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from dagster_project.engines.adapter import EngineAdapter
    from dagster_project.slo.domain import Slo

Engine = Literal["native", "gx"]
ENGINES: tuple[Engine, ...] = ("native", "gx")


@dataclass(frozen=True)
class CheckRun:
    results: list[dict[str, Any]]  # one record per SLO, in plan order
    data_docs: Path | None = None  # GX's Data Docs index, when the GX engine ran


def check_database(
    db: Path,
    slos: Sequence[Slo],
    as_of: datetime,
    landing: Path | None = None,
    engine: Engine = "native",
    gx_root: Path | None = None,
    connect: Callable[[], AbstractContextManager[EngineAdapter]] | None = None,
) -> CheckRun:
    """`as_of` is aware; the engines work in naive UTC. The GX engine keeps its file context under `gx_root`.
    `connect` opens the engine adapter to evaluate on (default: the DuckDB database at `db`, read-only); the GX
    engine reads a DuckDB connection."""
    # Imported here: the CLI imports this module for ENGINES on every invocation, and DuckDB and the engines are
    # a quarter of a second it need not pay for `slo --help`.
    from dagster_project.engines.duckdb_adapter import DuckDBAdapter, open_adapter
    from dagster_project.engines.evaluate import evaluate
    from dagster_project.slo.plan import compile_plan
    from dagster_project.slo.report import as_json

    if not slos:
        return CheckRun([])
    plan, naive = compile_plan(slos), as_of.astimezone(UTC).replace(tzinfo=None)
    with connect() if connect is not None else open_adapter(db, landing=landing) as adapter:
        if engine == "gx":
            from dagster_project.engines import gx  # imports Great Expectations: seconds

            if not isinstance(adapter, DuckDBAdapter):
                raise ValueError(f"the GX engine reads DuckDB; {adapter.name} is checked with the native engine")
            evaluations, gx_run = gx.evaluate(adapter.con, plan, naive, gx_root or db.parent)
            return CheckRun([as_json(e) for e in evaluations], gx_run.data_docs)
        return CheckRun([as_json(e) for e in evaluate(adapter, plan, naive)])
