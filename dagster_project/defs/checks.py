"""The bundled example's asset checks: one per SLO (defs/slo_checks.py, the builder a user's project uses too), on the
asset that produces its dataset. Error-severity SLOs are blocking, so in a build a failure stops every asset
downstream, the publish step included: bad data never replaces the published product.

In a build the checks judge the build database; run alone (the scheduled `check_slos` asset-check job, or "Execute
check" in the UI) they judge the published database, read-only and without the build lock. SLOs on tables this
job does not build are left to `slo check`. Build-duration SLOs are checked on the publish step, after the build's
timing is recorded.

(No `from __future__ import annotations`: Dagster inspects the check function's annotations at definition time.)
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg

from dagster_project.checking import check_database
from dagster_project.slo.domain import Slo

from .assets import PUBLISH_KEY, PUBLISHED_TABLES
from .slo_checks import RESULT_METADATA_KEY, slo_checks

__all__ = ["RESULT_METADATA_KEY", "check_asset", "checked_in_build", "slo_asset_checks"]

REQUIRED_RESOURCES = ("published", "build_params", "results_store")


def check_asset(slo: Slo) -> dg.AssetKey:
    return PUBLISH_KEY if slo.kind == "build_duration" else dg.AssetKey(slo.dataset.split("."))


def _evaluate(
    context: dg.AssetCheckExecutionContext, asset: dg.AssetKey, slos: Sequence[Slo], building: bool
) -> list[dict[str, Any]]:
    published, build_params, results_store = (getattr(context.resources, k) for k in REQUIRED_RESOURCES)
    as_of = (build_params.params().as_of or datetime.now(UTC)).astimezone(UTC)
    in_build = building and asset != PUBLISH_KEY
    db = Path(published.build_database if in_build else published.database)
    landing = Path(published.build_landing_database if in_build else published.landing_database)
    if not db.is_file():
        raise dg.Failure(f"no database at {db}: run the build job ({len(slos)} SLOs not checked)")
    results = check_database(db, slos, as_of, landing=landing).results
    context.log.info(f"{len(results)} SLOs on {asset.to_user_string()} judged on {db}")
    # Kept before they are reported: a blocking failure stops the run, and its evaluations must not be lost.
    results_store.record(context.run.run_id, as_of, results)
    return results


def checked_in_build(slo: Slo) -> bool:
    """Whether the build job checks this SLO; the others (tables it does not build) are for `slo check`."""
    return slo.kind == "build_duration" or slo.dataset in PUBLISHED_TABLES


def slo_asset_checks(slos: Sequence[Slo]) -> list[dg.AssetChecksDefinition]:
    """One check definition per asset that has SLOs; SLOs on datasets this job does not build are skipped."""
    return slo_checks([s for s in slos if checked_in_build(s)], check_asset, _evaluate, REQUIRED_RESOURCES)
