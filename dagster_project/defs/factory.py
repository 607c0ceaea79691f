"""The Dagster definitions for given settings: used by definitions.py (settings from the environment, for
`dagster dev`) and by the CLI's runner (settings from its arguments), so both run the same job.

Everything SLO-shaped is generated from the spec: the asset checks, the freshness policies, the check jobs, and the
schedules (a build per distinct update cadence of the use cases, a check per distinct check cadence; hourly checks
for a product without use cases, slo/cadence.py). Schedules
start stopped: turning one on in the UI (with the daemon running, as `dagster dev` does) is the user's decision.

Only a product whose spec declares a build (`build: module:ATTRIBUTE`, build_api.py) gets assets, a build job and
build schedules, and only then is anything written; a check-only product gets its check jobs and check schedules.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import dagster as dg

from dagster_project.build_api import Build
from dagster_project.defs.assets import Checks, all_assets, build_job_name, publish_key
from dagster_project.defs.check_jobs import CHECK_JOB, CHECK_JOB_DESCRIPTION, PublishedDatabaseResource, check_jobs
from dagster_project.defs.checks import REQUIRED_RESOURCES, build_checks, evaluator, published_checks
from dagster_project.defs.resources import (
    BuildParamsResource,
    ResultsStoreResource,
    SourceFilesResource,
    WarehouseResource,
)
from dagster_project.defs.slo_checks import check_job, cron_slug, schedule
from dagster_project.errors import UsageError
from dagster_project.settings import Settings
from dagster_project.slo.cadence import Cadence, build_cadences, check_cadences, freshness_windows
from dagster_project.slo.domain import Slo
from dagster_project.slo.from_spec import all_slos
from dagster_project.spec.models import SpecFile
from dagster_project.spec.validate import LoadedSpec, validate

__all__ = ["build_definitions", "build_job_name", "cron_slug", "load_build", "load_slos", "load_specs", "publish_key"]


# The specs validated last in this process, by the spec paths and the bytes of every file under them: `slo run` asks
# for them several times (the build, the definitions, the SLOs checked apart); a code server after an edit anew.
_validated: dict[tuple[object, ...], list[LoadedSpec]] = {}


def _stamp(paths: tuple[Path, ...]) -> tuple[object, ...]:
    stamps: list[object] = []
    for path in paths:
        for f in sorted(path.rglob("*")) if path.is_dir() else [path]:
            try:
                stamps.append((str(f), hashlib.sha256(f.read_bytes()).hexdigest() if f.is_file() else None))
            except OSError:
                stamps.append((str(f), "unreadable"))
    return tuple(stamps)


def _loaded_specs(settings: Settings) -> list[LoadedSpec]:
    if not settings.spec_paths:
        return []
    key = _stamp(tuple(settings.spec_paths))
    if key not in _validated:
        specs, issues = validate(settings.spec_paths)
        if issues:
            raise UsageError("invalid SLO spec:\n" + "\n".join(str(i) for i in issues))
        _validated.clear()
        _validated[key] = specs
    return list(_validated[key])


def load_specs(settings: Settings) -> list[SpecFile]:
    """The spec files in settings.spec_paths; UsageError listing every problem if any is invalid."""
    return [s.spec for s in _loaded_specs(settings)]


def load_build(settings: Settings) -> Build | None:
    """The build the specs declare (imported now), or None when every product is check-only."""
    from dagster_project.spec.build_ref import product_build

    found = product_build(_loaded_specs(settings))
    return found.build if found is not None else None


def load_slos(settings: Settings) -> list[Slo]:
    return all_slos(load_specs(settings))


def _schedule(job: str, cadence: Cadence, what: str) -> dg.ScheduleDefinition:
    return schedule(job, cadence.cron, f"{what} at '{cadence.cron}' (UTC), for {', '.join(cadence.use_cases)}.")


def build_definitions(settings: Settings) -> dg.Definitions:
    from dagster_project.spec.build_ref import product_build

    loaded = _loaded_specs(settings)
    specs = [s.spec for s in loaded]
    slos = all_slos(specs)
    found = product_build(loaded) if any(s.build is not None for s in specs) else None
    build = found.build if found is not None else None
    resources: dict[str, object] = {
        "published": PublishedDatabaseResource(
            database=str(settings.database),
            landing_database=str(settings.landing_database),
            gx_root=str(settings.state_dir),
            build_database=str(settings.build_database),
            build_landing_database=str(settings.build_landing_database),
        ),
        "build_params": BuildParamsResource.from_params(settings.build),
        "results_store": ResultsStoreResource(path=str(settings.results_path), pushgateway=settings.pushgateway),
    }
    schedules = [_schedule(CHECK_JOB, c, "Check every SLO") for c in check_cadences(specs)]
    externals, rest = published_checks(slos, build)
    built_assets: list[dg.AssetsDefinition] = []
    in_step, apart = build_checks(slos, build)
    if build is not None:  # the build's SLO checks run in the steps of the assets they check
        checks = Checks(in_step, evaluator(build), REQUIRED_RESOURCES)
        built_assets = all_assets(build, freshness_windows(slos, build.table_deps()), checks)
    rest = [*apart, *rest]
    jobs: list[dg.JobDefinition | dg.UnresolvedAssetJobDefinition] = [
        check_job(CHECK_JOB, [*built_assets, *rest], CHECK_JOB_DESCRIPTION),
        *check_jobs(slos),
    ]
    assets: list[dg.AssetsDefinition | dg.AssetSpec] = [*built_assets, *externals]
    if build is not None:  # only a declared build writes, and only to the databases it created
        job = build_job_name(build)
        jobs.insert(0, dg.define_asset_job(job, selection=dg.AssetSelection.all(), description=build.description))
        built = [s for s in specs if s.data_product.id == build.product]
        schedules = [_schedule(job, c, "Rebuild the data product") for c in build_cadences(built)] + schedules
        resources["warehouse"] = WarehouseResource(
            build_database=str(settings.build_database),
            landing_database=str(settings.build_landing_database),
            published_database=str(settings.database),
            memory_limit=settings.duckdb_memory_limit,
            threads=settings.duckdb_threads,
            product=build.product,
            schemas=list(build.schemas),
            sources=[t.name for t in build.sources],
        )
        resources["sources"] = SourceFilesResource(data_dir=str(settings.sources_dir))
    return dg.Definitions(
        assets=assets,
        asset_checks=rest,
        jobs=jobs,
        schedules=schedules,
        # One DuckDB file admits one writing process: steps run one after another in the run's process.
        executor=dg.in_process_executor,
        resources=resources,
    )
