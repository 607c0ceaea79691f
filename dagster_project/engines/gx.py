"""The Great Expectations engine (GX Core 1.x): each data product's SLOs become real GX objects in a file context -
one Expectation Suite and one Validation Definition per dataset, one Checkpoint per data product - run through the
Checkpoint, with Data Docs built.

GX reads the tables through its pandas datasource, from Parquet snapshots of the columns the suites need, taken
from the same read-only connection the native engine uses. Not through GX's SQL datasource: on DuckDB it returns
every expectation as failed with no observed value and still "succeeds" (shared/NOTES.md). Results that lack the
numbers an SLO needs are errors (gx_suite.MissingResult), so that failure mode can never pass as a failed check.

On PostgreSQL GX runs through its own SQL datasource (SQLAlchemy, psycopg 3), one query asset per dataset, read-only
(every session's transactions are read-only) and in UTC; the credentials are those of the adapter's connection (the
server's environment variables), handed to GX at run time as config variables: the datasource GX keeps on disk names
the variables, never their values. On Spark GX runs through its Spark datasource, one dataframe asset per dataset
made in the adapter's session; GX takes a dataframe as a run parameter, so there it is one checkpoint per dataset.
Both read the batch columns through one SELECT in the engine's dialect (engines/gx_batches.py).

The context is a GX project a GX user can open and run by itself, from any directory (README, "Working in the GX
project"): the Parquet assets name their files by absolute path, suites name the table's real columns (a cast column
keeps its name; two casts of one column are two batches, gx_suite.batches), warn SLOs are GX `warning`s and error
SLOs `critical`, each checkpoint run is named `<product>-<as_of>`, and its Data Docs name the data asset and load
their CSS and scripts from the site itself (engines/gx_docs.py).

SLOs GX cannot express (gx_suite.NATIVE_ONLY_REASONS) are evaluated by the native engine and say so in their
`engine` field. Pass or fail is decided, as for the native engine, by slo/decide.py on the observed value.
"""

from __future__ import annotations

import fcntl
import logging
import re
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from dagster_project.engines import gx_batches, gx_docs, gx_suite
from dagster_project.engines.adapter import Catalog, EngineAdapter, EngineError
from dagster_project.engines.error_text import safe_error
from dagster_project.engines.native import evaluate as native_evaluate
from dagster_project.engines.native_sql import table_ref
from dagster_project.indicators.base import History
from dagster_project.slo.domain import Slo
from dagster_project.slo.evaluation import Evaluation
from dagster_project.slo.plan import CheckPlan, compile_plan
from dagster_project.warehouse.connection import quote_ident, table_schema

ENGINE = "gx"
DATASOURCE = "slo_batches"
CONTEXT_DIR = "gx"  # under the given root, as GX's own file context lays it out


@dataclass(frozen=True)
class GxRun:
    evaluations: list[Evaluation]
    checkpoints: tuple[str, ...]
    data_docs: Path | None  # index.html of the local Data Docs site


PREFIX = "slo__"  # every GX object this engine makes; only those are ever removed


def gx_name(*parts: str) -> str:
    """A GX object name: our prefix, no dots (GX stores a dotted suite name as nested folders)."""
    return PREFIX + "__".join(re.sub(r"[^A-Za-z0-9_-]", "_", p) for p in parts)


def _batch_sql(column: gx_suite.BatchColumn, types: dict[str, str]) -> str:
    quoted = [quote_ident(c) for c in column.source]
    if column.cast == "key":
        any_null = " OR ".join(f"{q} IS NULL" for q in quoted)
        return f"CASE WHEN {any_null} THEN NULL ELSE json_array({', '.join(quoted)})::VARCHAR END"
    if column.cast == "VARCHAR":
        return f"CAST({quoted[0]} AS VARCHAR)"
    if column.cast == "DOUBLE":
        # Present but not a number (or NaN) must stay present and outside any set of finite numbers: +inf.
        c = quoted[0]
        return f"CASE WHEN {c} IS NULL THEN NULL ELSE coalesce(nullif(TRY_CAST({c} AS DOUBLE), 'NaN'), 'Infinity') END"
    if types.get(column.source[0]) in ("DOUBLE", "FLOAT"):
        # pandas has no NaN distinct from null. DuckDB orders NaN above every number, as +inf is; so comparisons with
        # finite bounds, and presence, stay what the native engine sees.
        return f"CASE WHEN isnan({quoted[0]}) THEN 'Infinity'::DOUBLE ELSE {quoted[0]} END"
    return quoted[0]


def _snapshot(con: duckdb.DuckDBPyConnection, dataset: str, columns: Sequence[gx_suite.BatchColumn], out: Path) -> None:
    """The batch columns GX needs, as Parquet written by pyarrow: the connection itself has no file access."""
    import pyarrow.parquet as pq

    types = dict(table_schema(con, dataset))
    select = ", ".join(f"{_batch_sql(b, types)} AS {quote_ident(b.name)}" for b in columns)
    table = con.sql(f"SELECT {select} FROM {table_ref(dataset)}").to_arrow_table()
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out)


GENERATED = ("expectations", "validation_definitions", "checkpoints")


def _context(root: Path, clean: bool = True, runtime: Mapping[str, str] | None = None) -> Any:
    """The file context under root/gx. Its suites, validation definitions and checkpoints are generated from the
    spec on every run, so the previous run's are removed first (`clean`; a check over several servers cleans once):
    one from an older spec could name a batch that no longer exists, and GX then fails the whole checkpoint. Only
    objects named with PREFIX are removed: a GX project of the user's own in the same folder keeps its suites.
    `runtime` are config variables for this run only (GX substitutes `${NAME}` with them; never written)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    for folder in GENERATED if clean else ():
        path = root / CONTEXT_DIR / folder
        if path.is_dir():
            for item in path.iterdir():
                if item.name.startswith(PREFIX):
                    shutil.rmtree(item) if item.is_dir() else item.unlink()

    for name in ("great_expectations", "great_expectations.core", "great_expectations.data_context"):
        logging.getLogger(name).setLevel(logging.ERROR)
    context = gx.get_context(mode="file", project_root_dir=str(root), runtime_environment=dict(runtime or {}))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.variables.save()
    return context


def _expectation(part: gx_suite.Part, slo: Slo, index: int) -> Any:
    """The part as a GX expectation: a warn SLO's with GX's `warning` severity, an error SLO's `critical`."""
    import great_expectations as gx
    from great_expectations.expectations.row_conditions import Column

    kwargs: dict[str, Any] = {k: v for k, v in part.kwargs.items() if v is not None}
    if part.not_null_first:
        condition: Any = Column(part.not_null_first[0]).is_not_null()
        for column in part.not_null_first[1:]:
            condition = condition & Column(column).is_not_null()
        kwargs["row_condition"] = condition
    meta = {"slo": slo.id, "part": index, "dimension": slo.dimension, "threshold": slo.threshold.describe(slo.unit)}
    severity = "warning" if slo.severity == "warn" else "critical"
    return getattr(gx.expectations, part.expectation)(**kwargs, meta=meta, severity=severity)


def _error_text(exception_info: Any) -> str | None:
    """GX's exception_info is one {raised_exception, exception_message, ...} dict, or a dict of them per metric."""
    infos = (
        exception_info.values()
        if isinstance(exception_info, Mapping) and "raised_exception" not in (exception_info)
        else [exception_info]
    )
    for info in infos:
        if isinstance(info, Mapping) and info.get("raised_exception"):
            return safe_error(str(info.get("exception_message") or "").strip() or "GX raised an exception")
    return None


class _Results:
    """Each SLO's part results, collected from a checkpoint run by the `meta` its expectations carry."""

    def __init__(self) -> None:
        self.parts: dict[str, dict[int, Mapping[str, Any]]] = {}
        self.errors: dict[str, str] = {}

    def add(self, expectation_result: Any) -> None:
        meta = expectation_result.expectation_config.meta or {}
        slo_id, index = meta.get("slo"), meta.get("part")
        if not isinstance(slo_id, str) or not isinstance(index, int):
            return
        error = _error_text(expectation_result.exception_info)
        if error is not None:
            self.errors.setdefault(slo_id, f"GX: {error}")
        self.parts.setdefault(slo_id, {})[index] = dict(expectation_result.result or {})

    def evaluation(self, translation: gx_suite.Translation) -> Evaluation:
        slo = translation.slo
        if slo.id in self.errors:
            return Evaluation(slo, None, self.errors[slo.id], ENGINE)
        got = self.parts.get(slo.id, {})
        if len(got) != len(translation.parts):
            return Evaluation(slo, None, "GX returned no result for this SLO", ENGINE)
        try:
            return Evaluation(slo, gx_suite.observed(translation, [got[i] for i in range(len(got))]), None, ENGINE)
        except gx_suite.MissingResult as exc:
            return Evaluation(slo, None, str(exc), ENGINE)


def _dataset_error(con: duckdb.DuckDBPyConnection, dataset: str, columns: Sequence[str]) -> str | None:
    try:
        con.execute(f"SELECT {', '.join(quote_ident(c) for c in columns)} FROM {table_ref(dataset)} LIMIT 0")
    except duckdb.Error as exc:
        return safe_error(exc)
    return None


# --- where GX reads the batches: one source per engine ----------------------------------------------------------


@dataclass(frozen=True)
class _Batch:
    definition: Any  # GX's batch definition
    parameters: dict[str, Any] | None = None  # run parameters (Spark: the dataframe); None: the definition suffices


class _Source:
    """How GX reads one engine's datasets: its datasource, one batch per dataset, and the errors it gives."""

    name = ""
    runtime: Mapping[str, str] = {}

    def datasource(self, context: Any) -> Any:
        raise NotImplementedError

    def dataset_error(self, dataset: str, columns: Sequence[str]) -> str | None:
        raise NotImplementedError

    def batch(self, datasource: Any, name: str, dataset: str, columns: Sequence[gx_suite.BatchColumn]) -> _Batch:
        raise NotImplementedError

    def unchanged(self, dataset: str) -> Callable[[gx_suite.BatchColumn], bool]:
        """Whether a batch column's cast leaves the dataset's column as it is (text cast to text)."""
        return lambda _: False

    def part(self, part: gx_suite.Part) -> gx_suite.Part:
        return part

    def error_text(self, exc: BaseException) -> str:
        return safe_error(exc)


def _innermost(exc: BaseException) -> BaseException:
    """The error under GX's and SQLAlchemy's wrappers: the driver's own."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    orig = getattr(exc, "orig", None)
    return orig if isinstance(orig, BaseException) else exc


class _DuckDBSource(_Source):
    """GX's pandas datasource over Parquet snapshots: its SQL datasource fails silently on DuckDB."""

    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection, root: Path) -> None:
        # Absolute: the parquet assets GX keeps name their files, and a GX user runs the checkpoint from anywhere.
        self.con, self.batches = con, root.absolute() / CONTEXT_DIR / "uncommitted" / "batches"

    def datasource(self, context: Any) -> Any:
        return context.data_sources.add_or_update_pandas(DATASOURCE)

    def dataset_error(self, dataset: str, columns: Sequence[str]) -> str | None:
        return _dataset_error(self.con, dataset, columns)

    def batch(self, datasource: Any, name: str, dataset: str, columns: Sequence[gx_suite.BatchColumn]) -> _Batch:
        path = self.batches / f"{name}.parquet"
        _snapshot(self.con, dataset, columns, path)
        _drop_asset(datasource, name)
        return _Batch(datasource.add_parquet_asset(name, path=path).add_batch_definition("whole_table"))

    def unchanged(self, dataset: str) -> Callable[[gx_suite.BatchColumn], bool]:
        types = dict(table_schema(self.con, dataset))
        return lambda c: c.cast == "VARCHAR" and types.get(c.source[0]) == "VARCHAR"


def _drop_asset(datasource: Any, name: str) -> None:
    if name in {a.name for a in datasource.assets}:
        datasource.delete_asset(name)


# Text types a cast to text leaves as they are (not a blank-padded CHAR(n)).
_PLAIN_TEXT = re.compile(r"(varchar|text|character varying|string)(\(\d+\))?", re.IGNORECASE)


class _AdapterSource(_Source):
    """An engine adapter (PostgreSQL, Spark): a missing table or column is found by the adapter, as natively."""

    def __init__(self, adapter: EngineAdapter) -> None:
        self.adapter = adapter
        self.name = adapter.name
        self._catalog: Catalog | None = None

    def unchanged(self, dataset: str) -> Callable[[gx_suite.BatchColumn], bool]:
        if self._catalog is None:
            self._catalog = self.adapter.catalog()
        plain = {c.name for c in self._catalog.columns(dataset) if _PLAIN_TEXT.fullmatch(c.type)}
        return lambda c: c.cast == "VARCHAR" and c.source[0] in plain

    def dataset_error(self, dataset: str, columns: Sequence[str]) -> str | None:
        try:
            self.adapter.fetch(gx_batches.probe_query(dataset, columns, self.adapter.dialect), GX_TIMEOUT_S)
        except EngineError as exc:
            return str(exc)
        return None

    def part(self, part: gx_suite.Part) -> gx_suite.Part:
        return gx_batches.part_for(part, self.adapter.dialect)


USER_VARIABLE, PASSWORD_VARIABLE = "SLO_GX_POSTGRES_USER", "SLO_GX_POSTGRES_PASSWORD"
# Every session GX opens: read-only transactions, UTC, and no statement running past the limit.
GX_TIMEOUT_S = 600.0
_SESSION_OPTIONS = (
    f"-c default_transaction_read_only=on -c TimeZone=UTC -c statement_timeout={int(GX_TIMEOUT_S * 1000)}"
)


def postgres_url(info: Any) -> tuple[str, dict[str, str]]:
    """GX's connection string for the database of a psycopg ConnectionInfo, and the config variables it needs at run
    time. The string names the variables (`${SLO_GX_POSTGRES_PASSWORD}`); their values, URL-quoted, exist only in the
    run's memory."""
    from urllib.parse import quote, urlencode

    runtime = {USER_VARIABLE: quote(info.user or "", safe="")}
    credentials = f"${{{USER_VARIABLE}}}"
    if info.password:
        runtime[PASSWORD_VARIABLE] = quote(info.password, safe="")
        credentials += f":${{{PASSWORD_VARIABLE}}}"
    query = {"options": _SESSION_OPTIONS, "application_name": "slo-monitor-gx"}
    sslmode = info.get_parameters().get("sslmode")
    if sslmode:
        query["sslmode"] = sslmode
    host = info.host or ""
    if host.startswith("/"):  # a Unix socket folder
        query["host"] = host
        where = f"@:{info.port}" if info.port else "@"
    else:
        where = f"@{host}:{info.port}"
    return f"postgresql+psycopg://{credentials}{where}/{quote(info.dbname, safe='')}?{urlencode(query)}", runtime


class _PostgresSource(_AdapterSource):
    """GX's SQL datasource for PostgreSQL, one query asset per dataset."""

    def __init__(self, adapter: EngineAdapter) -> None:
        super().__init__(adapter)
        self.url, self.runtime = postgres_url(adapter.con.info)  # type: ignore[attr-defined]
        self.label = getattr(adapter, "label", "postgres")

    def datasource(self, context: Any) -> Any:
        return context.data_sources.add_or_update_postgres(gx_name("postgres", self.label), connection_string=self.url)

    def error_text(self, exc: BaseException) -> str:
        from dagster_project.engines.postgres import _message

        return _message(exc)

    def batch(self, datasource: Any, name: str, dataset: str, columns: Sequence[gx_suite.BatchColumn]) -> _Batch:
        query = gx_batches.batch_query(dataset, columns, "postgres")
        _drop_asset(datasource, name)
        return _Batch(datasource.add_query_asset(name, query=query).add_batch_definition_whole_table("whole_table"))


class _SparkSource(_AdapterSource):
    """GX's Spark datasource, one dataframe asset per dataset, made in the adapter's session."""

    def datasource(self, context: Any) -> Any:
        return context.data_sources.add_or_update_spark(gx_name("spark"))

    def batch(self, datasource: Any, name: str, dataset: str, columns: Sequence[gx_suite.BatchColumn]) -> _Batch:
        from dagster_project.engines.spark import require_one_select

        query = gx_batches.batch_query(dataset, columns, "spark")
        require_one_select(query)
        frame = self.adapter.session.sql(query)  # type: ignore[attr-defined]
        _drop_asset(datasource, name)
        definition = datasource.add_dataframe_asset(name).add_batch_definition_whole_dataframe("whole_table")
        return _Batch(definition, {"dataframe": frame})


def run_checkpoints(
    con: duckdb.DuckDBPyConnection,
    slos: Sequence[Slo],
    root: Path,
    build_docs: bool = True,
    as_of: datetime | None = None,
) -> GxRun:
    """Evaluate the GX-expressible SLOs through one Checkpoint per data product in the file context under `root`.
    Each checkpoint run is named `<product>-<as_of>` (as_of: naive UTC; default now)."""
    return _run(_DuckDBSource(con, root), slos, root, build_docs, as_of=as_of)


def _run(
    source: _Source,
    slos: Sequence[Slo],
    root: Path,
    build_docs: bool,
    clean: bool = True,
    as_of: datetime | None = None,
) -> GxRun:
    translations = [gx_suite.translate(s) for s in sorted(slos, key=lambda s: (s.product, s.dataset, s.id))]
    if not translations:
        return GxRun([], (), None)
    root = root.absolute()
    as_of = as_of if as_of is not None else datetime.now(UTC).replace(tzinfo=None)
    with _exclusive(root / CONTEXT_DIR / ".slo.lock"):
        return _run_checkpoints(source, translations, root, build_docs, clean, as_of)


def run_name(product: str, as_of: datetime) -> str:
    """What Data Docs call a checkpoint run: the product and the evaluation time (UTC, ISO 8601 basic format: the
    run name is a folder of the Data Docs site, and a colon in it would read as a URL scheme)."""
    return f"{product}-{as_of.strftime('%Y%m%dT%H%M%SZ')}"


def _name_assets(context: Any, results: Mapping[Any, Any]) -> list[Any]:
    """Put each validation result's data asset where GX 1.x's validation page looks for it (batch_spec's
    data_asset_name; fluent datasources leave it out, so the page said "Data asset: None") and store it again.
    The keys of the results that changed: their pages are rendered again."""
    changed = []
    for key, result in results.items():
        spec = result.meta.get("batch_spec")
        if isinstance(spec, dict) and result.asset_name and not spec.get("data_asset_name"):
            spec["data_asset_name"] = result.asset_name
            context.validation_results_store.set(key, result)
            changed.append(key)
    return changed


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """One GX run at a time per context folder (runs regenerate the same objects): later ones wait their turn."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_checkpoints(
    source: _Source,
    translations: list[gx_suite.Translation],
    root: Path,
    build_docs: bool,
    clean: bool,
    as_of: datetime,
) -> GxRun:
    import great_expectations as gx
    from great_expectations.checkpoint.actions import UpdateDataDocsAction, ValidationAction
    from great_expectations.core.run_identifier import RunIdentifier

    context = _context(root, clean, source.runtime)
    try:
        datasource = source.datasource(context)  # GX tests a SQL datasource's connection here
    except Exception as exc:
        error = f"GX cannot open its {source.name} datasource: {source.error_text(_innermost(exc))}"
        return GxRun([Evaluation(t.slo, None, error, ENGINE) for t in translations], (), None)

    by_product: dict[str, dict[str, list[gx_suite.Translation]]] = {}
    for t in translations:
        by_product.setdefault(t.slo.product, {}).setdefault(t.slo.dataset, []).append(t)

    collected, evaluations, checkpoints = _Results(), [], []
    actions: list[ValidationAction] = [UpdateDataDocsAction(name="update_data_docs")] if build_docs else []

    rendered: list[Any] = []

    def run(
        name: str, product: str, definitions: list[Any], parameters: dict[str, Any] | None, slo_ids: list[str]
    ) -> None:
        checkpoint = context.checkpoints.add_or_update(
            gx.Checkpoint(name=name, validation_definitions=definitions, actions=actions, result_format="SUMMARY")
        )
        checkpoints.append(checkpoint.name)
        run_id = RunIdentifier(run_name=run_name(product, as_of), run_time=datetime.now(UTC))
        try:
            result = checkpoint.run(batch_parameters=parameters, run_id=run_id)
        except Exception as exc:  # the server went away mid-run, GX failed: an error for its SLOs, the rest still run
            for slo_id in slo_ids:
                collected.errors.setdefault(slo_id, f"GX: {safe_error(exc)}")
            return
        finally:
            if parameters and "dataframe" in parameters:
                parameters["dataframe"].unpersist()  # GX persists a Spark batch and leaves it in the session's cache
        for validation in result.run_results.values():
            for expectation_result in validation.results:
                collected.add(expectation_result)
        if build_docs:
            rendered.extend(_name_assets(context, result.run_results))

    for product, datasets in sorted(by_product.items()):
        definitions, in_checkpoint = [], []
        for dataset, items in sorted(datasets.items()):
            # A missing table or column is an error for the SLOs that need it; the others still run, as natively.
            errors = {t.slo.id: source.dataset_error(dataset, t.columns) for t in items}
            evaluations += [Evaluation(t.slo, None, errors[t.slo.id], ENGINE) for t in items if errors[t.slo.id]]
            items = [t for t in items if errors[t.slo.id] is None]
            if not items:
                continue
            for group in gx_suite.batches(items, source.unchanged(dataset)):
                name = gx_name(product, dataset, *([group.suffix] if group.suffix else []))
                batch = source.batch(datasource, name, dataset, group.columns)
                suite = gx.ExpectationSuite(name=name, meta={"product": product, "dataset": dataset})
                for t in group.items:
                    for index, part in enumerate(t.parts):
                        suite.add_expectation(_expectation(source.part(part), t.slo, index))
                suite = context.suites.add_or_update(suite)
                definition = context.validation_definitions.add_or_update(
                    gx.ValidationDefinition(name=name, data=batch.definition, suite=suite)
                )
                slo_ids = [t.slo.id for t in group.items]
                if batch.parameters is None:
                    definitions.append(definition)
                    in_checkpoint += slo_ids
                else:  # a run parameter belongs to one batch: a checkpoint of its own
                    run(name, product, [definition], batch.parameters, slo_ids)
        if definitions:
            run(gx_name(product), product, definitions, None, in_checkpoint)
    site = root / CONTEXT_DIR / "uncommitted" / "data_docs" / "local_site"
    if rendered:
        context.build_data_docs(resource_identifiers=rendered)
    if build_docs:
        gx_docs.localize(site)
    done = {e.slo.id for e in evaluations}
    evaluations += [collected.evaluation(t) for t in translations if t.slo.id not in done]
    docs = site / "index.html"
    return GxRun(evaluations, tuple(checkpoints), docs if build_docs and docs.exists() else None)


def evaluate(
    con: duckdb.DuckDBPyConnection, plan: CheckPlan, as_of: datetime, root: Path, build_docs: bool = True
) -> tuple[list[Evaluation], GxRun]:
    """Every planned SLO: the expressible ones through GX, the others natively; in plan order."""
    expressible = [s for s in plan.slos if gx_suite.expressible(s)]
    native_only = [s for s in plan.slos if not gx_suite.expressible(s)]
    gx_run = run_checkpoints(con, expressible, root, build_docs, as_of)
    by_id = {e.slo.id: e for e in gx_run.evaluations}
    by_id |= {e.slo.id: e for e in native_evaluate(con, compile_plan(native_only), as_of)}
    return [by_id[s.id] for s in plan.slos], gx_run


def evaluate_on(
    adapter: EngineAdapter,
    plan: CheckPlan,
    as_of: datetime,
    root: Path,
    build_docs: bool = True,
    clean: bool = True,
    history: Mapping[str, History] | None = None,
) -> tuple[list[Evaluation], GxRun]:
    """As `evaluate`, on any engine adapter: DuckDB through the pandas datasource, PostgreSQL through GX's SQL
    datasource, Spark through its Spark datasource; the SLOs GX cannot express through the native evaluator on the
    same adapter. `clean`: remove the previous run's generated GX objects first (once per check)."""
    from dagster_project.engines.duckdb_adapter import DuckDBAdapter
    from dagster_project.engines.evaluate import evaluate as adapter_evaluate
    from dagster_project.engines.samples import with_samples

    source: _Source
    if isinstance(adapter, DuckDBAdapter):
        source = _DuckDBSource(adapter.con, root)
    elif adapter.name == "postgres":
        source = _PostgresSource(adapter)
    elif adapter.name == "spark":
        source = _SparkSource(adapter)
    else:
        raise ValueError(f"the GX engine has no datasource for {adapter.name}")
    expressible = [s for s in plan.slos if gx_suite.expressible(s)]
    native_only = [s for s in plan.slos if not gx_suite.expressible(s)]
    gx_run = _run(source, expressible, root, build_docs, clean, as_of)
    # GX judges; the failed-row samples (spec: samples) are the same bounded query on the same engine as natively.
    sampled = [s for s in expressible if s.samples is not None]
    catalog = adapter.catalog() if sampled else None
    by_id = {
        e.slo.id: with_samples(adapter, catalog, e, as_of) if catalog is not None else e for e in gx_run.evaluations
    }
    by_id |= {e.slo.id: e for e in adapter_evaluate(adapter, compile_plan(native_only), as_of, history)}
    return [by_id[s.id] for s in plan.slos], gx_run
