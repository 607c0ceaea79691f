"""Jobs that evaluate the SLOs against the published database without building: `check_slos` (the native engine,
what the hourly check schedules run: freshness keeps ageing between builds) and `gx_checkpoint` (the Great
Expectations engine's checkpoint, with Data Docs). Both keep every evaluation in the results store and fail the run
when an error-severity SLO fails or cannot be evaluated, so a red run in the UI means a broken promise.

`check_slos` is an asset-check job (slo_checks.check_job over the example's asset checks), so each scheduled
evaluation lands in the check's history in the UI; `gx_checkpoint` is one op running the whole checkpoint.

They read the published file read-only and take no build lock: publishing is an atomic rename, so a check sees the
previous database or the new one, never half of either.

(No `from __future__ import annotations`: Dagster inspects the op's annotations at definition time.)
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from dagster_project.checking import Engine, check_slos
from dagster_project.engines.servers import uses_deployment_database
from dagster_project.slo.domain import Slo
from dagster_project.slo.report import blocking_failures

from .resources import BuildParamsResource, ResultsStoreResource

CHECK_JOB = "check_slos"
GX_JOB = "gx_checkpoint"


class PublishedDatabaseResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The published data product, read-only, and where the GX engine keeps its file context; and where the build
    is made, which the asset checks judge in a build (read-only too: the build's steps hold the lock)."""

    database: str
    landing_database: str
    gx_root: str
    build_database: str = ""
    build_landing_database: str = ""


def _job(name: str, engine: Engine, slos: Sequence[Slo], description: str) -> dg.JobDefinition:
    @dg.op(name=f"evaluate_slos_{engine}", description=description)
    def _evaluate(
        context: dg.OpExecutionContext,
        published: PublishedDatabaseResource,
        build_params: BuildParamsResource,
        results_store: ResultsStoreResource,
    ) -> dg.Output[int]:
        database = Path(published.database)
        if not database.is_file() and any(uses_deployment_database(s.server) for s in slos):
            raise dg.Failure(f"no published database at {database}: run the build job ({len(slos)} SLOs not checked)")
        as_of = (build_params.params().as_of or datetime.now(UTC)).astimezone(UTC)
        checked = check_slos(
            slos,
            as_of,
            database,
            landing=Path(published.landing_database),
            engine=engine,
            gx_root=Path(published.gx_root),
            store=results_store.path,
        )
        results_store.record(context.run.run_id, as_of, checked.results)
        failed = blocking_failures(checked.results)
        metadata: dict[str, dg.RawMetadataValue] = {
            "evaluated": len(checked.results),
            "passed": sum(1 for r in checked.results if r["passed"] is True),
            "blocking_failures": ", ".join(r["slo"] for r in failed) or "none",
        }
        if checked.data_docs is not None:
            metadata["data_docs"] = dg.MetadataValue.path(str(checked.data_docs))
        if failed:
            lines = [f"{r['slo']}: {r['observed_text']} (needs {r['threshold_text']})" for r in failed]
            raise dg.Failure(
                f"{len(failed)} error-severity SLOs failed", metadata={**metadata, "failed": "\n".join(lines)}
            )
        return dg.Output(len(checked.results), metadata=metadata)

    @dg.job(name=name, description=description)
    def _job_def() -> None:
        _evaluate()

    return _job_def


CHECK_JOB_DESCRIPTION = "Run every SLO check on the published database (native DuckDB engine), without building."


def check_jobs(slos: Sequence[Slo]) -> list[dg.JobDefinition]:
    """The op jobs; `check_slos` is built from the asset checks (slo_checks.check_job)."""
    return [
        _job(
            GX_JOB,
            "gx",
            slos,
            "Run the Great Expectations checkpoint on the published database (SLOs GX cannot express: natively).",
        ),
    ]
