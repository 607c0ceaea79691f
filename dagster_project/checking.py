"""Evaluating SLOs against a database outside a build (`slo check`, the Dagster check jobs, and `slo run` for SLOs on
tables the build job does not produce): an engine's numbers turned into result records, ready to print and keep."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from dagster_project.engines.adapter import EngineAdapter
    from dagster_project.indicators.base import History
    from dagster_project.results.address import StoreAddress
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
    gx_clean: bool = True,
    history: Mapping[str, History] | None = None,
) -> CheckRun:
    """`as_of` is aware; the engines work in naive UTC. The GX engine keeps its file context under `gx_root` (and
    removes its previous run's objects first unless `gx_clean` is false). `connect` opens the engine adapter to
    evaluate on (default: the DuckDB database at `db`, read-only); GX reads DuckDB through its pandas datasource,
    PostgreSQL through its SQL datasource and Spark through its Spark datasource (engines/gx.py). `history`: the
    SLOs' earlier evaluations, for the indicators judged against them (read_history)."""
    # Imported here: the CLI imports this module for ENGINES on every invocation, and DuckDB and the engines are
    # a quarter of a second it need not pay for `slo --help`.
    from dagster_project.engines.duckdb_adapter import open_adapter
    from dagster_project.engines.evaluate import evaluate
    from dagster_project.slo.plan import compile_plan
    from dagster_project.slo.report import as_json

    if not slos:
        return CheckRun([])
    plan, naive = compile_plan(slos), as_of.astimezone(UTC).replace(tzinfo=None)
    with connect() if connect is not None else open_adapter(db, landing=landing) as adapter:
        if engine == "gx":
            from dagster_project.engines import gx  # imports Great Expectations: seconds

            evaluations, gx_run = gx.evaluate_on(
                adapter, plan, naive, gx_root or db.parent, clean=gx_clean, history=history
            )
            return CheckRun([as_json(e) for e in evaluations], gx_run.data_docs)
        return CheckRun([as_json(e) for e in evaluate(adapter, plan, naive, history)])


def check_slos(
    slos: Sequence[Slo],
    as_of: datetime,
    database: Path,
    landing: Path | None = None,
    engine: Engine = "native",
    gx_root: Path | None = None,
    opened: Mapping[str, EngineAdapter] | None = None,
    store: StoreAddress | str | None = None,
) -> CheckRun:
    """Every SLO judged where its product's data lives (its spec's `server:`; none: the deployment's DuckDB
    `database`). A server that cannot be reached (or a database that cannot be opened) makes each of its SLOs an
    error result naming the product, the server and the reason; the SLOs on other servers still run. The GX engine
    runs on every server, through the datasource GX has for it; what GX cannot express is judged natively there.
    `opened` holds adapters already open (by engines.servers.server_key), used instead of opening their server
    again. `store`: the results store these results will be kept in, read first (one query) for the SLOs judged against
    their own history (schema_change); None: there is none, and those SLOs say so."""
    from dagster_project.engines.adapter import EngineError
    from dagster_project.engines.servers import label, open_server, server_key
    from dagster_project.slo.evaluation import Evaluation
    from dagster_project.slo.report import as_json

    history = read_history(slos, as_of, store)
    groups: dict[str, list[Slo]] = {}
    for slo in slos:
        groups.setdefault(server_key(slo.server), []).append(slo)
    results: list[dict[str, Any]] = []
    data_docs = None
    for index, (key, group) in enumerate(sorted(groups.items())):
        server = group[0].server
        try:
            opener: Callable[[], AbstractContextManager[EngineAdapter]] = (
                _already_open(opened[key])
                if opened is not None and key in opened
                else functools.partial(open_server, server, database, landing if key == "" else None)
            )
            run = check_database(
                database,
                group,
                as_of,
                engine=engine,
                gx_root=gx_root,
                connect=opener,
                gx_clean=index == 0,
                history=history,
            )
            data_docs = run.data_docs or data_docs
            results.extend(run.results if key == "" else _naming(run.results, label(server, database)))
        except EngineError as exc:
            where = label(server, database)
            results.extend(as_json(Evaluation(slo, None, f"product {slo.product}: {where}: {exc}")) for slo in group)
    return CheckRun(results, data_docs)


def _naming(results: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    """Each error result of a product on a server of its own names the product and the server, as one that cannot be
    reached does (a table the role may not read, a timeout: the server's business, said where it happened)."""
    out = []
    for r in results:
        if r["error"]:
            error = f"product {r['product']}: {where}: {r['error']}"
            r = {**r, "error": error, "observed_text": error}
        out.append(r)
    return out


def _already_open(adapter: EngineAdapter) -> Callable[[], AbstractContextManager[EngineAdapter]]:
    """An opener for an adapter someone else opened (and closes)."""
    return lambda: nullcontext(adapter)


def read_history(slos: Sequence[Slo], as_of: datetime, store: StoreAddress | str | None) -> dict[str, History]:
    """The earlier evaluations of the SLOs judged against their own history, from the results store at `store`, in one
    query (none when no SLO needs them). A store that does not exist yet is a first run (empty histories: the
    results about to be recorded make it); no store at all (None) leaves them out, which the evaluator reads as
    "nothing to compare with"."""
    wanted = {s.id: s.indicator.history_wanted() for s in slos if s.definition.history}
    if not wanted or store is None:
        return {}
    from dagster_project.indicators.base import History
    from dagster_project.results.address import parse_store_address, store_exists
    from dagster_project.results.history import read_history as read
    from dagster_project.results.store import ResultsStore

    address = parse_store_address(store, "results store") if isinstance(store, str) else store
    if not store_exists(address):
        return {slo_id: History() for slo_id in wanted}
    with ResultsStore(address) as opened:
        return read(opened, wanted, as_of)
