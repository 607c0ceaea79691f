"""Dagster asset checks generated from the SLO specs: one multi-asset check per dataset, evaluating all of that
dataset's SLOs in one scan of the build database. Error-severity SLOs are blocking, so a failure stops every asset
downstream, the publish step included: bad data never replaces the published product.

SLOs on tables this job does not build are left to `slo check`. Build-duration SLOs are checked on the publish step,
after the build's timing is recorded.
"""

import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from dagster import AssetCheckExecutionContext

from dagster_project.build_api import Build
from dagster_project.engines.native import evaluate, open_for_checks
from dagster_project.slo.domain import Slo
from dagster_project.slo.evaluation import Evaluation
from dagster_project.slo.plan import compile_plan
from dagster_project.slo.report import as_json

from .assets import publish_key
from .resources import BuildParamsResource, ResultsStoreResource, WarehouseResource

RESULT_METADATA_KEY = "slo_result"


def check_asset(slo: Slo, build: Build) -> dg.AssetKey:
    return publish_key(build) if slo.kind == "build_duration" else dg.AssetKey(slo.dataset.split("."))


def _check_result(evaluation: Evaluation, asset: dg.AssetKey) -> dg.AssetCheckResult:
    """The result record goes into the metadata whole (JSON), plus the fields the UI shows as columns."""
    slo, record = evaluation.slo, as_json(evaluation)
    return dg.AssetCheckResult(
        check_name=slo.id,
        asset_key=asset,
        passed=record["passed"] is True,
        severity=dg.AssetCheckSeverity.ERROR if slo.severity == "error" else dg.AssetCheckSeverity.WARN,
        metadata={
            RESULT_METADATA_KEY: dg.MetadataValue.json(record),
            "slo_id": slo.id,
            "dimension": slo.dimension,
            "observed": record["observed_text"],
            "threshold": record["threshold_text"],
        },
    )


def _checks_for(asset: dg.AssetKey, slos: Sequence[Slo], on_published: bool) -> dg.AssetChecksDefinition:
    specs = [
        dg.AssetCheckSpec(
            name=slo.id,
            asset=asset,
            description=f"[{slo.dimension}] {slo.id}: {slo.threshold.describe(slo.unit)} (objective {slo.objective})",
            blocking=slo.severity == "error",
        )
        for slo in slos
    ]

    @dg.multi_asset_check(specs=specs, name=f"slo_checks__{'__'.join(asset.path)}")
    def _run(
        context: AssetCheckExecutionContext,
        warehouse: WarehouseResource,
        build_params: BuildParamsResource,
        results_store: ResultsStoreResource,
    ) -> Iterator[dg.AssetCheckResult]:
        as_of = (build_params.params().as_of or datetime.now(UTC)).astimezone(UTC)
        db = Path(warehouse.published_database if on_published else warehouse.build_database)
        started = time.perf_counter()
        with open_for_checks(db, landing=Path(warehouse.landing_database)) as con:
            evaluations = evaluate(con, compile_plan(slos), as_of.replace(tzinfo=None))
        context.log.info(f"{len(evaluations)} SLOs on {asset.to_user_string()} in {time.perf_counter() - started:.2f}s")
        # Kept before they are reported: a blocking failure stops the run, and its evaluations must not be lost.
        results_store.record(context.run.run_id, as_of, [as_json(e) for e in evaluations])
        for evaluation in evaluations:
            yield _check_result(evaluation, asset)

    return _run


def checked_in_build(slo: Slo, build: Build | None) -> bool:
    """Whether the build job checks this SLO; the others (tables it does not build, every SLO of a check-only
    product) are for the check jobs and `slo check`."""
    return build is not None and (slo.kind == "build_duration" or slo.dataset in build.published_tables)


def slo_asset_checks(slos: Sequence[Slo], build: Build | None) -> list[dg.AssetChecksDefinition]:
    """One check definition per asset of the build that has SLOs; SLOs on datasets it does not build are skipped
    (and without a build there are no assets: none)."""
    if build is None:
        return []
    by_asset: dict[dg.AssetKey, list[Slo]] = {}
    for slo in slos:
        if checked_in_build(slo, build):
            by_asset.setdefault(check_asset(slo, build), []).append(slo)
    return [
        _checks_for(asset, items, asset == publish_key(build))
        for asset, items in sorted(by_asset.items(), key=lambda kv: kv[0].to_user_string())
    ]
