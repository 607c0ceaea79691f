"""The Dagster definitions for given settings: used by definitions.py (settings from the environment, for
`dagster dev`) and by the CLI's runner (settings from its arguments), so both run the same job.

Everything SLO-shaped is generated from the spec: the asset checks, the freshness policies, the check jobs, and the
schedules (a build per distinct update cadence of the use cases, a check per distinct check cadence; hourly checks
for a product without use cases, slo/cadence.py). Schedules
start stopped: turning one on in the UI (with the daemon running, as `dagster dev` does) is the user's decision.
"""

from __future__ import annotations

import dagster as dg

from dagster_project.defs.assets import BUILD_JOB, all_assets
from dagster_project.defs.check_jobs import CHECK_JOB, CHECK_JOB_DESCRIPTION, PublishedDatabaseResource, check_jobs
from dagster_project.defs.checks import slo_asset_checks
from dagster_project.defs.resources import (
    BuildParamsResource,
    ResultsStoreResource,
    SourceFilesResource,
    WarehouseResource,
)
from dagster_project.defs.slo_checks import check_job, cron_slug
from dagster_project.errors import UsageError
from dagster_project.product.tables import table_deps
from dagster_project.settings import Settings
from dagster_project.slo.cadence import Cadence, build_cadences, check_cadences, freshness_windows
from dagster_project.slo.domain import Slo, all_slos
from dagster_project.spec.models import SpecFile
from dagster_project.spec.validate import validate

__all__ = ["BUILD_JOB", "build_definitions", "cron_slug", "load_slos", "load_specs"]


def load_specs(settings: Settings) -> list[SpecFile]:
    """The spec files in settings.spec_paths; UsageError listing every problem if any is invalid."""
    if not settings.spec_paths:
        return []
    specs, issues = validate(settings.spec_paths)
    if issues:
        raise UsageError("invalid SLO spec:\n" + "\n".join(str(i) for i in issues))
    return [s.spec for s in specs]


def load_slos(settings: Settings) -> list[Slo]:
    return all_slos(load_specs(settings))


def _schedule(job: str, cadence: Cadence, what: str) -> dg.ScheduleDefinition:
    slug = cron_slug(cadence.cron)
    return dg.ScheduleDefinition(
        name=f"{job}__{slug}",
        cron_schedule=cadence.cron,
        job_name=job,
        execution_timezone="UTC",
        description=f"{what} at '{cadence.cron}' (UTC), for {', '.join(cadence.use_cases)}.",
    )


def build_definitions(settings: Settings) -> dg.Definitions:
    specs = load_specs(settings)
    slos = all_slos(specs)
    build_job = dg.define_asset_job(
        BUILD_JOB,
        selection=dg.AssetSelection.all(),
        description="Load the sources, build staging and the Product Affinity tables, publish the database.",
    )
    schedules = [_schedule(BUILD_JOB, c, "Rebuild the data product") for c in build_cadences(specs)]
    schedules += [_schedule(CHECK_JOB, c, "Check every SLO") for c in check_cadences(specs)]
    checks = slo_asset_checks(slos)
    return dg.Definitions(
        assets=all_assets(freshness_windows(slos, table_deps())),
        asset_checks=checks,
        jobs=[build_job, check_job(CHECK_JOB, checks, CHECK_JOB_DESCRIPTION), *check_jobs(slos)],
        schedules=schedules,
        # One DuckDB file admits one writing process: steps run one after another in the run's process.
        executor=dg.in_process_executor,
        resources={
            "warehouse": WarehouseResource(
                build_database=str(settings.build_database),
                landing_database=str(settings.build_landing_database),
                published_database=str(settings.database),
                memory_limit=settings.duckdb_memory_limit,
                threads=settings.duckdb_threads,
            ),
            "published": PublishedDatabaseResource(
                database=str(settings.database),
                landing_database=str(settings.landing_database),
                gx_root=str(settings.state_dir),
                build_database=str(settings.build_database),
                build_landing_database=str(settings.build_landing_database),
            ),
            "sources": SourceFilesResource(data_dir=str(settings.sources_dir)),
            "build_params": BuildParamsResource.from_params(settings.build),
            "results_store": ResultsStoreResource(path=str(settings.results_path), pushgateway=settings.pushgateway),
        },
    )
