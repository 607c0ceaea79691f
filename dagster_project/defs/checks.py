"""The bundled example's asset checks: one per SLO (defs/slo_checks.py, the builder a user's project uses too), on the
asset that produces its dataset. Error-severity SLOs are blocking, so in a build a failure stops every asset
downstream, the publish step included: bad data never replaces the published product.

In a build the checks run in the step of the asset they check, right after it is made (defs/assets.py: one step,
not two, per asset), and judge the build database; run alone (the scheduled `check_slos` asset-check job, or
"Execute check" in the UI) the same step only checks: it judges the published database, read-only and without the
build lock. SLOs on tables this job does not build are left to `slo check`. Build-duration SLOs are checked in the
publish step, after the build's timing is recorded.

(No `from __future__ import annotations`: Dagster inspects the check function's annotations at definition time.)
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg

from dagster_project.build_api import Build
from dagster_project.checking import check_slos
from dagster_project.engines.servers import uses_deployment_database
from dagster_project.slo.cadence import upstream
from dagster_project.slo.domain import Slo

from .assets import publish_key
from .slo_checks import RESULT_METADATA_KEY, Evaluate, asset_slo_checks, slo_checks

__all__ = [
    "REQUIRED_RESOURCES",
    "RESULT_METADATA_KEY",
    "build_checks",
    "check_asset",
    "checked_in_build",
    "evaluator",
    "published_checks",
]

REQUIRED_RESOURCES = ("published", "build_params", "results_store")


def check_asset(slo: Slo, build: Build) -> dg.AssetKey:
    return publish_key(build) if slo.definition.about_the_build else dg.AssetKey(slo.dataset.split("."))


def evaluator(build: Build | None) -> Evaluate:
    publish = publish_key(build) if build is not None else None

    def _evaluate(context: Any, asset: dg.AssetKey, slos: Sequence[Slo], building: bool) -> list[dict[str, Any]]:
        published, build_params, results_store = (getattr(context.resources, k) for k in REQUIRED_RESOURCES)
        as_of = (build_params.params().as_of or datetime.now(UTC)).astimezone(UTC)
        in_build = building and asset != publish
        db = Path(published.build_database if in_build else published.database)
        landing = Path(published.build_landing_database if in_build else published.landing_database)
        if not db.is_file() and any(uses_deployment_database(s.server) for s in slos):
            raise dg.Failure(f"no database at {db}: run the build job ({len(slos)} SLOs not checked)")
        results = check_slos(slos, as_of, db, landing=landing, store=results_store.path).results
        context.log.info(f"{len(results)} SLOs on {asset.to_user_string()} judged on {db}")
        # Kept before they are reported: a blocking failure stops the run, and its evaluations must not be lost.
        results_store.record(context.run.run_id, as_of, results)
        return results

    return _evaluate


def checked_in_build(slo: Slo, build: Build | None) -> bool:
    """Whether the build job checks this SLO; the others (tables it does not build, every SLO of a check-only
    product) are for the check jobs and `slo check`."""
    return build is not None and (slo.definition.about_the_build or slo.dataset in build.published_tables)


def _reads(slo: Slo, build: Build) -> list[dg.AssetKey]:
    """The other tables of the build the SLO reads that are not upstream of its dataset (a referential SLO on
    raw.order_items reads raw.orders): its check cannot run in its asset's step, before they are made."""
    deps = build.table_deps()
    read = {r.dataset for r in slo.indicator.reads(slo.dataset) if not r.implicit}
    others = (read & set(deps)) - upstream(slo.dataset, deps) - {slo.dataset}
    return [dg.AssetKey(t.split(".")) for t in sorted(others)]


def build_checks(
    slos: Sequence[Slo], build: Build | None
) -> tuple[dict[dg.AssetKey, list[Slo]], list[dg.AssetChecksDefinition]]:
    """The SLOs the build checks: by the asset they check, those that run in that asset's step (defs/assets.py),
    right after it is made, judged by `evaluator(build)`; and, as check steps of their own, those that also
    read another table of the build made independently of their asset. Such a step runs after its asset, in the
    next level of the plan, so after every source is loaded: no data dependency on the other table, or a check job
    would skip the check whenever that table's own checks failed."""
    if build is None:
        return {}, []
    in_step: dict[dg.AssetKey, list[Slo]] = {}
    apart: dict[dg.AssetKey, list[Slo]] = {}
    for slo in slos:
        if checked_in_build(slo, build):
            group = apart if _reads(slo, build) else in_step
            group.setdefault(check_asset(slo, build), []).append(slo)
    evaluate = evaluator(build)
    steps = [
        asset_slo_checks(asset, items, evaluate, REQUIRED_RESOURCES)
        for asset, items in sorted(apart.items(), key=lambda kv: kv[0].to_user_string())
    ]
    return in_step, steps


def published_checks(
    slos: Sequence[Slo], build: Build | None
) -> tuple[list[dg.AssetSpec], list[dg.AssetChecksDefinition]]:
    """The SLOs no build checks (every SLO of a check-only product, and the example's on tables it does not make):
    checks on the published database, each on an external asset (an AssetSpec: observed, never materialized, so
    nothing can write it) named after its dataset, so the scheduled `check_slos` job and its history cover them."""
    rest = [s for s in slos if not checked_in_build(s, build) and not s.definition.about_the_build]
    made = set(build.published_tables) if build is not None else set()
    keys = sorted({s.dataset for s in rest} - made)
    externals = [dg.AssetSpec(key=dg.AssetKey(k.split(".")), description=f"{k}: checked, not built here") for k in keys]
    checks = slo_checks(rest, lambda slo: dg.AssetKey(slo.dataset.split(".")), evaluator(None), REQUIRED_RESOURCES)
    return externals, checks
