"""SLO checks for your own Dagster project: the public API (stable names: those in __all__).

    from dagster_project.dagster import attach_slos

    defs = attach_slos(
        dg.Definitions(assets=[flights, airports]),
        specs=["slo_definitions/flights.yaml"],
        database="warehouse/nyc.duckdb",
    )

gives, for the assets you already have:

- one asset check per SLO on the asset its dataset maps to (`schema.table` -> AssetKey([schema, table]) unless
  `asset_keys` says otherwise: a dict from dataset to key, or a function), each runnable alone, blocking when the
  SLO's severity is `error`, with `observed` and `threshold` as float metadata that Dagster plots;
- the spec's owner on each checked asset (`team:<owner>`) and its labels as tags, and a freshness policy on each
  asset with a max-age SLO;
- an asset-check job (`check_slos`) and a schedule per check cadence of the spec's use cases (or `check_cron`), so
  every scheduled evaluation is in the checks' history;
- every evaluation kept in the results store that `slo serve`, `slo report` and `slo tree` read.

The checks open `database` read-only (DuckDB); your assets write it. What is not given is found as every `slo`
command finds it: SLO_* variables, then slo.toml / [tool.slo], then defaults (docs/running.md, Configuration).
`slo_definitions` gives the same without touching your assets; `SloChecks` is the same as a Dagster Component.
"""

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg

from dagster_project.checking import check_slos
from dagster_project.defs.resources import ResultsStoreResource
from dagster_project.defs.slo_checks import (
    check_job,
    dagster_tag,
    freshness_policies,
    owner_of,
    schedule,
    slo_checks,
)
from dagster_project.engines.servers import uses_deployment_database
from dagster_project.errors import UsageError
from dagster_project.settings import Config, load_config, parse_timestamp
from dagster_project.slo.cadence import check_cadences
from dagster_project.slo.domain import Slo
from dagster_project.slo.from_spec import all_slos
from dagster_project.spec.models import SpecFile
from dagster_project.spec.validate import validate

__all__ = [
    "CHECK_JOB",
    "DATABASE_RESOURCE",
    "RESULTS_RESOURCE",
    "AssetKeys",
    "Config",
    "SloChecks",
    "SloDatabaseResource",
    "attach_slos",
    "dataset_asset_key",
    "load_config",
    "slo_definitions",
    "slo_freshness_policies",
]

CHECK_JOB = "check_slos"
DATABASE_RESOURCE = "slo_database"
RESULTS_RESOURCE = "slo_results_store"

# dataset ("schema.table") -> your asset key: a mapping (datasets it does not name keep the default) or a function.
AssetKeys = Mapping[str, dg.AssetKey | str | Sequence[str]] | Callable[[str], dg.AssetKey] | None
PathLike = str | Path


def dataset_asset_key(dataset: str) -> dg.AssetKey:
    """The default: `schema.table` -> AssetKey([schema, table])."""
    return dg.AssetKey(dataset.split("."))


def _key_mapper(asset_keys: AssetKeys) -> Callable[[str], dg.AssetKey]:
    if asset_keys is None:
        return dataset_asset_key
    if callable(asset_keys):
        return asset_keys
    mapping = {
        dataset: key if isinstance(key, dg.AssetKey) else dg.AssetKey.from_coercible(key)
        for dataset, key in asset_keys.items()
    }
    return lambda dataset: mapping.get(dataset) or dataset_asset_key(dataset)


class SloDatabaseResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The database the SLO checks read (DuckDB, opened read-only), and the time they judge it at (empty: now)."""

    database: str
    landing: str = ""  # a second file attached as `raw`, if the SLOs read one (default: `<database>.landing`)
    as_of: str = ""


def _evaluate(
    context: dg.AssetCheckExecutionContext, asset: dg.AssetKey, slos: Sequence[Slo], building: bool
) -> list[dict[str, Any]]:
    source: SloDatabaseResource = getattr(context.resources, DATABASE_RESOURCE)
    store: ResultsStoreResource = getattr(context.resources, RESULTS_RESOURCE)
    db = Path(source.database)
    if not db.is_file() and any(uses_deployment_database(s.server) for s in slos):
        raise dg.Failure(f"{db}: no such database; materialize the assets that write it ({len(slos)} SLOs not checked)")
    as_of = parse_timestamp(source.as_of or "now", f"{DATABASE_RESOURCE}.as_of")
    landing = Path(source.landing) if source.landing else None
    results = check_slos(slos, as_of, db, landing=landing, store=store.path).results
    store.record(context.run.run_id, as_of, results)  # kept before reported: a red run must not lose them
    context.log.info(f"{len(results)} SLOs on {asset.to_user_string()} judged on {db}")
    return results


def _load(specs: Sequence[PathLike] | PathLike | None, config: Config) -> list[SpecFile]:
    paths = (
        config.require_specs()
        if specs is None
        else (Path(specs),)
        if isinstance(specs, str | Path)
        else tuple(Path(p) for p in specs)
    )
    loaded, issues = validate(paths)
    if issues:
        raise UsageError("invalid SLO spec:\n" + "\n".join(str(i) for i in issues))
    return [s.spec for s in loaded]


def slo_definitions(
    specs: Sequence[PathLike] | PathLike | None = None,
    *,
    database: PathLike | None = None,
    asset_keys: AssetKeys = None,
    results: PathLike | None = None,
    pushgateway: str | None = None,
    check_cron: str | Sequence[str] | None = None,
    job_name: str = CHECK_JOB,
    as_of: str = "",
    config: Config | None = None,
) -> dg.Definitions:
    """The SLO checks, the asset-check job, its schedules and the two resources they use (`slo_database`,
    `slo_results_store`), for the assets of your own Definitions (merge them: dg.Definitions.merge).

    specs: spec files or folders. database: the DuckDB file the checks read. asset_keys: dataset -> asset key.
    results / pushgateway: where evaluations are kept and pushed. check_cron: when `job_name` runs (default: one
    schedule per distinct check cadence of the specs' use cases; none when they have none). as_of: judge at this
    time instead of now (tests, replays). Anything not given comes from `config` (default: load_config())."""
    config = config if config is not None else load_config()
    return _definitions(
        _load(specs, config), database, asset_keys, results, pushgateway, check_cron, job_name, as_of, config
    )


def _definitions(
    specs_loaded: Sequence[SpecFile],
    database: PathLike | None,
    asset_keys: AssetKeys,
    results: PathLike | None,
    pushgateway: str | None,
    check_cron: str | Sequence[str] | None,
    job_name: str,
    as_of: str,
    config: Config,
) -> dg.Definitions:
    slos = all_slos(specs_loaded)
    key_of = _key_mapper(asset_keys)
    checks = slo_checks(slos, lambda slo: key_of(slo.dataset), _evaluate, (DATABASE_RESOURCE, RESULTS_RESOURCE))
    if check_cron is None:
        crons = [(c.cron, f"as use cases {', '.join(c.use_cases)} ask") for c in check_cadences(specs_loaded)]
    else:
        crons = [(c, "as asked") for c in ([check_cron] if isinstance(check_cron, str) else check_cron)]
    job = check_job(job_name, checks, f"Run the {len(slos)} SLO checks on {database or config.database}.")
    return dg.Definitions(
        asset_checks=checks,
        jobs=[job] if checks else [],
        schedules=[schedule(job_name, cron, f"Check the SLOs at '{cron}' (UTC), {why}.") for cron, why in crons]
        if checks
        else [],
        resources={
            DATABASE_RESOURCE: SloDatabaseResource(database=str(database or config.database), as_of=as_of),
            RESULTS_RESOURCE: ResultsStoreResource(
                path=str(results or config.results_path),
                pushgateway=config.pushgateway if pushgateway is None else pushgateway,
            ),
        },
    )


def slo_freshness_policies(
    specs: Sequence[PathLike] | PathLike | None = None,
    *,
    asset_keys: AssetKeys = None,
    config: Config | None = None,
) -> dict[dg.AssetKey, dg.FreshnessPolicy]:
    """Asset key -> the freshness policy its max-age SLOs give it (the tightest bound), for `@dg.asset(
    freshness_policy=...)` where attach_slos cannot reach the assets (a Component project)."""
    key_of = _key_mapper(asset_keys)
    slos = all_slos(_load(specs, config if config is not None else load_config()))
    return freshness_policies(slos, lambda slo: key_of(slo.dataset))


def _annotate(slos: Sequence[Slo], key_of: Callable[[str], dg.AssetKey]) -> Callable[[dg.AssetSpec], dg.AssetSpec]:
    policies = freshness_policies(slos, lambda slo: key_of(slo.dataset))
    owners: dict[dg.AssetKey, set[str]] = {}
    tags: dict[dg.AssetKey, dict[str, str]] = {}
    for slo in slos:
        key = key_of(slo.dataset)
        owner = owner_of(slo)
        if owner:
            owners.setdefault(key, set()).add(owner)
        labels = {"slo_product": slo.product, **dict(slo.labels)}
        tags.setdefault(key, {}).update({k: v for k, v in labels.items() if dagster_tag(k, v)})

    def _apply(spec: dg.AssetSpec) -> dg.AssetSpec:
        if spec.key not in tags:
            return spec
        spec = spec.merge_attributes(
            owners=sorted(owners.get(spec.key, set()) - set(spec.owners)),
            tags={k: v for k, v in tags[spec.key].items() if k not in spec.tags},
        )
        if spec.key in policies and spec.freshness_policy is None:  # a policy of your own wins
            spec = spec.replace_attributes(freshness_policy=policies[spec.key])
        return spec

    return _apply


def attach_slos(
    defs: dg.Definitions,
    specs: Sequence[PathLike] | PathLike | None = None,
    *,
    database: PathLike | None = None,
    asset_keys: AssetKeys = None,
    results: PathLike | None = None,
    pushgateway: str | None = None,
    check_cron: str | Sequence[str] | None = None,
    job_name: str = CHECK_JOB,
    as_of: str = "",
    config: Config | None = None,
) -> dg.Definitions:
    """Your Definitions with slo_definitions merged in, and the checked assets given the spec's owner (as
    `team:<owner>`), its labels as tags and the freshness policy of their max-age SLOs (a policy, owner or tag you
    set yourself is kept)."""
    config = config if config is not None else load_config()
    loaded = _load(specs, config)  # validated once, for the checks and for the assets' owners, tags and policies
    slos = all_slos(loaded)
    ours = _definitions(loaded, database, asset_keys, results, pushgateway, check_cron, job_name, as_of, config)
    with warnings.catch_warnings():  # map_asset_specs is marked preview in Dagster 1.13; it is what we mean
        warnings.simplefilter("ignore", dg.PreviewWarning)
        annotated = defs.map_asset_specs(func=_annotate(slos, _key_mapper(asset_keys)))
    return dg.Definitions.merge(annotated, ours)


@dataclass
class SloChecks(dg.Component, dg.Resolvable):
    """The same as slo_definitions, as a Dagster Component: a `dg` project adds SLO checks with a defs.yaml.

        type: dagster_project.SloChecks
        attributes:
          specs: [slo_definitions/flights.yaml]
          database: warehouse/nyc.duckdb
          asset_keys:                 # optional: dataset -> asset key ("a/b" or [a, b]); default [schema, table]
            flights.flights: raw/flights

    Relative paths are relative to the project root (the folder of its pyproject.toml). `results`, `pushgateway`,
    `check_cron`, `job_name` and `as_of` are as for slo_definitions; what is not given comes from the SLO_*
    variables, then slo.toml / [tool.slo], then defaults. A Component cannot change assets it did not define, so the
    freshness policies are for your assets to take: slo_freshness_policies()."""

    specs: Sequence[str]
    database: str | None = None
    asset_keys: Mapping[str, str | Sequence[str]] = field(default_factory=dict)
    results: str | None = None
    pushgateway: str | None = None
    check_cron: Sequence[str] | None = None
    job_name: str = CHECK_JOB
    as_of: str = ""

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        root = Path(context.project_root)
        return slo_definitions(
            [root / p for p in self.specs],
            database=root / self.database if self.database else None,
            asset_keys={
                d: dg.AssetKey.from_user_string(k) if isinstance(k, str) else dg.AssetKey(list(k))
                for d, k in self.asset_keys.items()
            },
            results=root / self.results if self.results else None,
            pushgateway=self.pushgateway,
            check_cron=self.check_cron,
            job_name=self.job_name,
            as_of=self.as_of,
            config=load_config(cwd=root),
        )
