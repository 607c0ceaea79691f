"""SLOs as Dagster asset checks, for any asset: the one builder behind the bundled example's checks (checks.py) and
a user's own project (dagster_project/dagster.py, the public API).

- One check per SLO, on the asset its dataset maps to; the SLOs of one asset share one step (one scan of the
  table) but each check runs alone too (`can_subset`), so the UI never says REQUIRES_MATERIALIZATION.
- Error-severity SLOs are blocking: a failure stops the assets downstream of the checked one in the same run.
- A run that only checks (a scheduled check job, "Execute check" in the UI) goes red when an error-severity SLO
  fails or cannot be evaluated, as `slo check` exits 1; in a run that also materializes the asset, blocking does
  that job.
- `observed` and `threshold` are float metadata, so Dagster plots them over the check's history; the text forms,
  the whole result record (JSON) and the SLO's owner, dimension and labels ride along.
- Every evaluation is kept in the results store before it is reported: a failing run must not lose it.

(No `from __future__ import annotations`: Dagster inspects the check function's annotations at definition time.)
"""

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import timedelta
from typing import Any

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from dagster_project.slo.cadence import FreshnessWindow, freshness_windows
from dagster_project.slo.domain import Slo
from dagster_project.slo.report import blocking_failures, sample_text

RESULT_METADATA_KEY = "slo_result"
MIN_FRESHNESS_WINDOW_S = 60.0  # Dagster refuses a freshness window under a minute

# (context, the checked asset, its selected SLOs, whether this run materializes the asset) -> result records (the
# shape of slo/report.py's as_json), one per SLO, already kept in the results store. The context is the check's, or
# the asset's when the checks run in their asset's step (the build's own assets, defs/assets.py).
Evaluate = Callable[[Any, dg.AssetKey, Sequence[Slo], bool], list[dict[str, Any]]]


# What Dagster accepts as a tag key or value and as a team name (a code location with anything else fails to load).
_DAGSTER_TAG = re.compile(r"^[A-Za-z0-9_.-]{1,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def dagster_tag(key: str, value: str) -> bool:
    """Whether Dagster takes `key: value` as an asset tag; the others stay in each check's metadata only."""
    return bool(_DAGSTER_TAG.match(key)) and (value == "" or bool(_DAGSTER_TAG.match(value)))


def owner_of(slo: Slo) -> str | None:
    """The spec's data_product.owner as a Dagster team owner (`team:<owner>`), or as given when it is an e-mail;
    None when Dagster would refuse it (it stays in each check's metadata)."""
    owner = slo.owner.strip()
    if not owner:
        return None
    if _EMAIL.match(owner):
        return owner
    name = owner.removeprefix("team:")
    return f"team:{name}" if _DAGSTER_TAG.match(name) else None


def check_spec(asset: dg.AssetKey, slo: Slo) -> dg.AssetCheckSpec:
    metadata: dict[str, Any] = {
        "slo_id": slo.id,
        "product": slo.product,
        "dimension": slo.dimension,
        "dataset": slo.dataset,
        "indicator": slo.kind,
        "severity": slo.severity,
        "objective": slo.objective,
        "threshold_text": slo.threshold.describe(slo.unit),
        **{f"label/{k}": v for k, v in slo.labels},
    }
    if owner_of(slo):
        metadata["owner"] = owner_of(slo)
    if slo.runbook_url:
        metadata["runbook"] = dg.MetadataValue.url(slo.runbook_url)
    return dg.AssetCheckSpec(
        name=slo.id,
        asset=asset,
        description=f"[{slo.dimension}] {slo.id}: {slo.threshold.describe(slo.unit)} (objective {slo.objective})",
        blocking=slo.severity == "error",
        metadata=metadata,
    )


def check_result(asset: dg.AssetKey, slo: Slo, record: Mapping[str, Any]) -> dg.AssetCheckResult:
    """Numbers as floats (Dagster plots float metadata over the check's history), text as people read it."""
    metadata: dict[str, Any] = {
        RESULT_METADATA_KEY: dg.MetadataValue.json(dict(record)),
        "slo_id": slo.id,
        "dimension": slo.dimension,
        "unit": slo.unit,
        "threshold": dg.MetadataValue.float(float(record["threshold"]["value"])),
        "observed_text": record["observed_text"],
        "threshold_text": record["threshold_text"],
        "status": record["status"],
    }
    if record["observed"] is not None:  # an SLO that could not be evaluated has no number, only its error
        metadata["observed"] = dg.MetadataValue.float(float(record["observed"]))
    failing = sample_text(record.get("samples"))
    if failing is not None:  # the keys of failing rows (spec: samples), as `slo check` shows them
        metadata["failing_rows"] = failing
    return dg.AssetCheckResult(
        check_name=slo.id,
        asset_key=asset,
        # A warning (a warn SLO failed, or an error SLO met its threshold but not its warn level) is a failed check
        # of WARN severity, which never blocks; only an error SLO's failure or error is ERROR.
        passed=record["status"] == "ok",
        severity=dg.AssetCheckSeverity.ERROR
        if slo.severity == "error" and record["passed"] is not True
        else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
    )


def _materializes(context: dg.AssetCheckExecutionContext, asset: dg.AssetKey) -> bool:
    """Whether this run also materializes `asset` (a build) rather than only checking it."""
    return asset in context.op_execution_context.job_def.asset_layer.selected_asset_keys


def slo_check_results(
    context: Any, asset: dg.AssetKey, slos: Sequence[Slo], evaluate: Evaluate, building: bool
) -> Iterator[dg.AssetCheckResult]:
    """The results of the selected checks of `asset`, evaluated by `evaluate`; in a run that only checks, raises
    dg.Failure when an error-severity SLO failed (in a build, blocking does that). `context`: the check's or, for
    checks that run in their asset's step, the asset's."""
    by_id = {slo.id: slo for slo in slos}
    selected = {k.name for k in context.selected_asset_check_keys if k.asset_key == asset}
    chosen = [slo for slo in slos if slo.id in selected]
    if not chosen:
        return
    records = evaluate(context, asset, chosen, building)
    for record in records:
        yield check_result(asset, by_id[record["slo"]], record)
    failed = blocking_failures(records)
    if failed and not building:
        lines = [f"{r['slo']}: {r['observed_text']} (needs {r['threshold_text']})" for r in failed]
        raise dg.Failure(
            f"{len(failed)} error-severity SLOs failed on {asset.to_user_string()}",
            metadata={"failed": "\n".join(lines)},
        )


def asset_slo_checks(
    asset: dg.AssetKey,
    slos: Sequence[Slo],
    evaluate: Evaluate,
    required_resource_keys: Iterable[str],
    name: str | None = None,
) -> dg.AssetChecksDefinition:
    """The checks of one asset: one per SLO, in one subsettable step."""

    @dg.multi_asset_check(
        specs=[check_spec(asset, slo) for slo in slos],
        name=name or f"slo_checks__{'__'.join(asset.path)}",
        can_subset=True,
        required_resource_keys=set(required_resource_keys),
    )
    def _run(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        yield from slo_check_results(context, asset, slos, evaluate, _materializes(context, asset))

    return _run


def slo_checks(
    slos: Sequence[Slo],
    key_for: Callable[[Slo], dg.AssetKey],
    evaluate: Evaluate,
    required_resource_keys: Iterable[str],
) -> list[dg.AssetChecksDefinition]:
    """One subsettable check definition per asset that has SLOs, in a stable order."""
    by_asset: dict[dg.AssetKey, list[Slo]] = {}
    for slo in slos:
        by_asset.setdefault(key_for(slo), []).append(slo)
    keys = list(required_resource_keys)
    return [
        asset_slo_checks(asset, items, evaluate, keys)
        for asset, items in sorted(by_asset.items(), key=lambda kv: kv[0].to_user_string())
    ]


def check_keys(checks: Iterable[dg.AssetsDefinition]) -> list[dg.AssetCheckKey]:
    return sorted((k for c in checks for k in c.check_keys), key=lambda k: (k.asset_key.to_user_string(), k.name))


def check_job(name: str, checks: Sequence[dg.AssetsDefinition], description: str) -> UnresolvedAssetJobDefinition:
    """An asset-check job: it runs the checks alone (no materialization), so every run lands in each check's history."""
    return dg.define_asset_job(name, selection=dg.AssetSelection.checks(*check_keys(checks)), description=description)


def freshness_policy(window: FreshnessWindow) -> dg.FreshnessPolicy:
    fail = max(window.fail_s, MIN_FRESHNESS_WINDOW_S)
    warn = timedelta(seconds=window.warn_s) if window.warn_s is not None and window.warn_s < fail else None
    if warn is not None and warn < timedelta(seconds=MIN_FRESHNESS_WINDOW_S):
        warn = None
    return dg.FreshnessPolicy.time_window(fail_window=timedelta(seconds=fail), warn_window=warn)


def freshness_policies(
    slos: Sequence[Slo], key_for: Callable[[Slo], dg.AssetKey]
) -> dict[dg.AssetKey, dg.FreshnessPolicy]:
    """Each asset with a max-age SLO on its dataset gets the window of its tightest bound (slo/cadence.py)."""
    by_dataset = {slo.dataset: key_for(slo) for slo in slos}
    windows = freshness_windows(slos, {dataset: () for dataset in by_dataset})
    return {by_dataset[dataset]: freshness_policy(window) for dataset, window in windows.items()}


def cron_slug(cron: str) -> str:
    """A name part that keeps cron expressions apart: '0 5,6 * * *' -> 0_5c6_x_x_x, '0 5-6 * * *' -> 0_5to6_x_x_x."""
    words = {"*": "x", ",": "c", "-": "to", "/": "every"}
    return "_".join(re.sub(r"[*,/-]", lambda m: words[m.group()], field) for field in cron.split())


def schedule(job: str, cron: str, description: str) -> dg.ScheduleDefinition:
    """Named after the job and the cron; in UTC; stopped until someone turns it on."""
    return dg.ScheduleDefinition(
        name=f"{job}__{cron_slug(cron)}",
        cron_schedule=cron,
        job_name=job,
        execution_timezone="UTC",
        description=description,
    )
