"""Assets generated from a product's build (build_api.Build: its sources and table builds); none is written out by
hand, and a product without a build gets none.

raw/*      one per source file (loaded as-is, checked against the build's source contract)
<schema>/* one per table the build declares (for Product Affinity: staging/*, product_affinity/*)
<product>/published_database  swaps the finished build in; the only step that touches the published file

The SLO checks of an asset run in its step, right after it is made (a step per check batch cost ~50 ms of Dagster's
fixed cost and its events, issue 11): blocking checks still fail the step, so nothing downstream runs. The step is
subsettable, so the checks also run alone (the check jobs, "Execute check" in the UI): the step then only checks,
against the published database, and never touches the build's files. (A check that reads another table of the build,
not upstream of its asset, keeps a step of its own that runs after both: defs/checks.py.)
"""

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import timedelta
from pathlib import Path

import dagster as dg
import duckdb
from dagster import AssetExecutionContext

from dagster_project.build_api import Build, SourceTable, TableBuild
from dagster_project.slo.cadence import FreshnessWindow
from dagster_project.slo.domain import Slo
from dagster_project.warehouse.build_log import record_run, record_step, steps_missing_from_run
from dagster_project.warehouse.connection import row_count, table_schema
from dagster_project.warehouse.loading import load_source, require_contract_columns
from dagster_project.warehouse.publish import PublishError, publish

from .resources import SourceFilesResource, WarehouseResource
from .slo_checks import Evaluate, check_spec, slo_check_results

# What an asset's own work needs; its checks add theirs (defs/checks.py REQUIRED_RESOURCES).
BUILD_RESOURCES = ("warehouse", "sources", "build_params")


def build_job_name(build: Build) -> str:
    """`build_<product>`: for the bundled example, build_product_affinity."""
    return f"build_{build.product}"


def publish_key(build: Build) -> dg.AssetKey:
    return dg.AssetKey([build.product, "published_database"])


def _key(qualified: str) -> dg.AssetKey:
    return dg.AssetKey(qualified.split("."))


def _table_metadata(
    con: duckdb.DuckDBPyConnection, qualified: str, docs: dict[str, str] | None = None
) -> dict[str, object]:
    docs = docs or {}
    columns = [dg.TableColumn(name, type_, description=docs.get(name)) for name, type_ in table_schema(con, qualified)]
    return {
        "dagster/row_count": row_count(con, qualified),
        "dagster/column_schema": dg.TableSchema(columns=columns),
        "dagster/table_name": qualified,
    }


class Checks:
    """The SLO checks of each asset of the build and how they are judged (defs/checks.py)."""

    def __init__(
        self,
        by_asset: Mapping[dg.AssetKey, Sequence[Slo]] | None = None,
        evaluate: Evaluate | None = None,
        resources: Sequence[str] = (),
    ) -> None:
        self.by_asset = dict(by_asset or {})
        self.evaluate = evaluate
        self.resources = tuple(resources)


Make = Callable[[AssetExecutionContext], dg.MaterializeResult[None]]


def _asset_step(spec: dg.AssetSpec, checks: Checks, make: Make) -> dg.AssetsDefinition:
    """One step: make the asset when the run materializes it, then evaluate its selected checks."""
    slos = list(checks.by_asset.get(spec.key, ()))
    evaluate = checks.evaluate

    @dg.multi_asset(
        name="__".join(spec.key.path),
        specs=[spec],
        check_specs=[check_spec(spec.key, slo) for slo in slos],
        can_subset=True,
        required_resource_keys={*BUILD_RESOURCES, *(checks.resources if slos else ())},
    )
    def _step(context: AssetExecutionContext) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
        building = spec.key in context.selected_asset_keys
        if building:
            yield make(context)
        if slos and evaluate is not None:
            yield from slo_check_results(context, spec.key, slos, evaluate, building)

    return _step


def _source_asset(table: SourceTable, freshness: FreshnessWindow | None, checks: Checks) -> dg.AssetsDefinition:
    key = _key(f"raw.{table.name}")

    def _load(context: AssetExecutionContext) -> dg.MaterializeResult[None]:
        warehouse: WarehouseResource = context.resources.warehouse
        sources: SourceFilesResource = context.resources.sources
        with warehouse.connect() as con:
            result = load_source(con, Path(sources.data_dir), table)
            docs = {c.name: c.description + (" (PII)" if c.pii else "") for c in table.columns}
            metadata = _table_metadata(con, result.table, docs)
            record_step(con, result.table, context.run.run_id)
        metadata["source_file"] = dg.MetadataValue.path(str(result.path))
        if result.missing or result.extra:  # drift: loaded as it came, for the schema SLOs to judge
            drift = f"missing {', '.join(result.missing) or '-'}; not in the contract {', '.join(result.extra) or '-'}"
            context.log.warning(f"{result.path}: columns differ from the contract: {drift}")
            metadata["schema_drift"] = drift
        return dg.MaterializeResult(asset_key=key, metadata=metadata)  # type: ignore[arg-type]

    spec = dg.AssetSpec(
        key=key,
        group_name="raw",
        description=f"{table.description} Loaded from {table.name}.csv or {table.name}.parquet.",
        kinds={"duckdb"},
        freshness_policy=_policy(freshness),
    )
    return _asset_step(spec, checks, _load)


MIN_FRESHNESS_WINDOW_S = 60.0  # Dagster refuses a freshness window under a minute


def _policy(window: FreshnessWindow | None) -> dg.FreshnessPolicy | None:
    if window is None:
        return None
    fail = max(window.fail_s, MIN_FRESHNESS_WINDOW_S)
    warn = timedelta(seconds=window.warn_s) if window.warn_s is not None and window.warn_s < fail else None
    if warn is not None and warn < timedelta(seconds=MIN_FRESHNESS_WINDOW_S):
        warn = None
    return dg.FreshnessPolicy.time_window(fail_window=timedelta(seconds=fail), warn_window=warn)


def _built_asset(
    build: Build, spec: TableBuild, freshness: FreshnessWindow | None, checks: Checks
) -> dg.AssetsDefinition:
    sources_read = [t for t in build.sources if f"raw.{t.name}" in spec.deps]
    key = _key(spec.name)

    def _build(context: AssetExecutionContext) -> dg.MaterializeResult[None]:
        warehouse: WarehouseResource = context.resources.warehouse
        sources: SourceFilesResource = context.resources.sources
        with warehouse.connect() as con:
            for table in sources_read:  # a drifted source no blocking SLO stopped: one clear line, not a SQL error
                require_contract_columns(con, Path(sources.data_dir), table)
            spec.build(con, build.params(context.resources.build_params.params()))
            metadata = _table_metadata(con, spec.name, dict(spec.columns))
            record_step(con, spec.name, context.run.run_id)
        return dg.MaterializeResult(asset_key=key, metadata=metadata)  # type: ignore[arg-type]

    asset = dg.AssetSpec(
        key=key,
        deps=[_key(d) for d in spec.deps],
        group_name=spec.schema,
        description=spec.description,
        kinds={"duckdb"},
        freshness_policy=_policy(freshness),
    )
    return _asset_step(asset, checks, _build)


def _publish_asset(build: Build, checks: Checks) -> dg.AssetsDefinition:
    published_tables = build.published_tables
    job = build_job_name(build)
    key = publish_key(build)

    def published_database(context: AssetExecutionContext) -> dg.MaterializeResult[None]:
        warehouse: WarehouseResource = context.resources.warehouse
        with warehouse.connect() as con:
            missing = steps_missing_from_run(con, published_tables, context.run.run_id)
            if not missing:
                stats = context.instance.get_run_stats(context.run.run_id)
                started = stats.start_time or time.time()
                record_run(con, context.run.run_id, started, time.time())
        if missing:
            raise PublishError(
                f"not publishing: {', '.join(missing)} were not built in this run; materialize all assets together "
                f"(job {job}) so the published database comes from one complete build"
            )
        size = publish(
            Path(warehouse.build_database), Path(warehouse.published_database), landing=Path(warehouse.landing_database)
        )
        return dg.MaterializeResult(
            asset_key=key,
            metadata={"path": dg.MetadataValue.path(warehouse.published_database), "size_bytes": size},
        )

    spec = dg.AssetSpec(
        key=key,
        # Every other asset, not only the product tables: a source that failed to load must stop the publish even
        # when no product table reads it (customers feeds only staging in the Product Affinity example).
        deps=[_key(t) for t in published_tables],
        group_name=build.product,
        description="Replaces the published database with the finished build in one atomic rename.",
        kinds={"duckdb"},
    )
    return _asset_step(spec, checks, published_database)


def all_assets(
    build: Build, freshness: Mapping[str, FreshnessWindow] | None = None, checks: Checks | None = None
) -> list[dg.AssetsDefinition]:
    """The build's assets. `freshness`: table -> the window its freshness SLOs give it (slo/cadence.py), shown and
    tracked by Dagster; `checks`: the SLO checks each asset's step runs."""
    freshness = freshness or {}
    checks = checks or Checks()
    return [
        *(_source_asset(t, freshness.get(f"raw.{t.name}"), checks) for t in build.sources),
        *(_built_asset(build, t, freshness.get(t.name), checks) for t in build.tables),
        _publish_asset(build, checks),
    ]
