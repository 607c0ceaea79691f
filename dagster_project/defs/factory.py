"""The Dagster definitions for given settings: used by definitions.py (settings from the environment, for
`dagster dev`) and by the CLI's runner (settings from its arguments), so both run the same job."""

from __future__ import annotations

import dagster as dg

from dagster_project.defs.assets import BUILD_JOB, all_assets
from dagster_project.defs.checks import slo_asset_checks
from dagster_project.defs.resources import (
    BuildParamsResource,
    ResultsStoreResource,
    SourceFilesResource,
    WarehouseResource,
)
from dagster_project.errors import UsageError
from dagster_project.settings import Settings
from dagster_project.slo.domain import Slo, all_slos
from dagster_project.spec.validate import validate

__all__ = ["BUILD_JOB", "build_definitions", "load_slos"]


def load_slos(settings: Settings) -> list[Slo]:
    """The SLOs of the spec files in settings.spec_paths; UsageError listing every problem if any is invalid."""
    if not settings.spec_paths:
        return []
    specs, issues = validate(settings.spec_paths)
    if issues:
        raise UsageError("invalid SLO spec:\n" + "\n".join(str(i) for i in issues))
    return all_slos([s.spec for s in specs])


def build_definitions(settings: Settings) -> dg.Definitions:
    build_job = dg.define_asset_job(
        BUILD_JOB,
        selection=dg.AssetSelection.all(),
        description="Load the sources, build staging and the Product Affinity tables, publish the database.",
    )
    return dg.Definitions(
        assets=all_assets(),
        asset_checks=slo_asset_checks(load_slos(settings)),
        jobs=[build_job],
        # One DuckDB file admits one writing process: steps run one after another in the run's process.
        executor=dg.in_process_executor,
        resources={
            "warehouse": WarehouseResource(
                build_database=str(settings.build_database),
                landing_database=str(settings.landing_database),
                published_database=str(settings.database),
                memory_limit=settings.duckdb_memory_limit,
                threads=settings.duckdb_threads,
            ),
            "sources": SourceFilesResource(data_dir=str(settings.sources_dir)),
            "build_params": BuildParamsResource.from_params(settings.build),
            "results_store": ResultsStoreResource(path=str(settings.results_path)),
        },
    )
