"""`slo run`: build the data product its spec declares (build: module:ATTRIBUTE) through Dagster and print what was
built. A spec without a build is check-only: `slo run` refuses it and points to `slo check`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dagster_project.cli.progress import ProgressBar
from dagster_project.cli.specs import add_slos_option, add_state_options, config_of, remember_in, save_remembered
from dagster_project.cli.table import print_slo_results
from dagster_project.errors import EXIT_OK, EXIT_SLO_FAILED, UsageError
from dagster_project.settings import Settings, parse_timestamp, settings_from_config
from dagster_project.warehouse.lock import BuildLock, lock_path

EPILOG = """\
examples:
  slo run                                   fresh sample data ending now, built under .slo_state/
  slo run --data-dir sample_data --as-of 2026-11-27T06:00:00Z
  slo run --data-dir /data/exports --db /srv/warehouse.duckdb

The build happens in <db>.build and replaces <db> only when every step succeeded: a bad source file leaves the last
good data product as it was. It writes only to databases slo-monitor created: an existing --db (or its .landing)
without slo-monitor's marker - your own database - is refused before anything is written (exit 2).
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="build the data product its spec declares (e.g. Product Affinity) and print a summary",
        description="Load the source files, build the data product its spec declares in DuckDB through Dagster, "
        "and summarise it.",
        epilog=EPILOG,
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        help="folder of source files (default $SLO_DATA_DIR, data_dir in slo.toml, else sample data ending now)",
    )
    p.add_argument("--as-of", help="build as if at this time, ISO 8601 (default: now)")
    add_state_options(p, db_help="DuckDB file of the data product")
    p.add_argument("--sample-orders", type=int, default=5_000, help="orders in generated sample data (default 5000)")
    p.add_argument("--seed", type=int, default=42, help="seed of generated sample data (default 42)")
    p.add_argument("--json", action="store_true", help="print the SLO results as one JSON object")
    p.add_argument(
        "--pushgateway",
        default=None,
        help="also push every result to this Prometheus Pushgateway URL (default $SLO_PUSHGATEWAY, pushgateway in "
        "slo.toml)",
    )
    add_slos_option(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from dagster_project.cli.startup import uncollected

    # Imported here, not with the module: every `slo` command builds this parser, and these load numpy, DuckDB and
    # Dagster: ~280,000 objects that live as long as the process, which the collector walked again and again during
    # the build (~640 collections, 0.3 s of a 20,000-line build, issue 11) - frozen out of its sight (cli/startup.py).
    with uncollected():
        from dagster_project.cli.summary import print_summary
        from dagster_project.defs.factory import load_build, load_specs
        from dagster_project.defs.runner import no_build, run_build
        from dagster_project.slo.report import blocking_failures
        from dagster_project.warehouse.ownership import Owner, refuse_foreign

    config = config_of(args)
    # As `slo check`: what the SLO checks work out about their SQL, and the results store's integrity check, are
    # remembered in the state folder for the next build (cli/specs.py remember_in, results/store.py).
    remember_in(config.state_dir, store_checks=True)
    as_of = parse_timestamp(args.as_of) if args.as_of else datetime.now(UTC).replace(microsecond=0)
    config.require_specs()
    settings = settings_from_config(config, as_of)
    build = load_build(settings)
    if build is None:
        raise UsageError(no_build(p.data_product.id for p in load_specs(settings)))
    if config.data_dir is None and build.sample_data is None:
        raise UsageError(f"the build of {build.product} makes no sample data: give --data-dir (or SLO_DATA_DIR)")
    # Before anything is created or written, the lock file beside the database included: never over a file we did
    # not make (a user's own database).
    owner = Owner(build.product, build.schemas, tuple(t.name for t in build.sources))
    refuse_foreign(owner, settings.database, settings.landing_database)
    started = time.monotonic()
    # Held from before the sample data is rewritten until the summary is read: a UI run on the same state folder
    # must neither read half-rewritten sources nor change the landing file under the summary.
    with BuildLock(lock_path(settings.build_database)):
        if config.data_dir is None:
            assert build.sample_data is not None
            build.sample_data(settings.sources_dir, as_of, args.sample_orders, args.seed)
            print(
                f"sample data: {args.sample_orders:,} orders ending {as_of:%Y-%m-%d %H:%M}Z in {settings.sources_dir}"
            )
        print(f"building {settings.database} from {settings.sources_dir} ...", file=sys.stderr, flush=True)
        bar = ProgressBar("build steps")
        run = run_build(settings, progress=bar if bar.enabled else None)
        bar.close()
        results = list(run.results) + _check_the_rest(settings, run.run_id, as_of, run.published)
        save_remembered()
        elapsed = time.monotonic() - started
        out = sys.stderr if args.json else sys.stdout
        state = "published" if run.published else "NOT published: a blocking SLO failed"
        print(f"dagster run {run.run_id}: {run.steps} steps in {elapsed:.1f}s, {state}", file=out)
        if args.json:
            payload = {
                "run_id": run.run_id,
                "as_of": as_of.isoformat(),
                "published": run.published,
                "results": results,
            }
            print(json.dumps(payload, indent=2))
        else:
            if run.published:
                print_summary(build, settings.database, settings.landing_database, as_of)
            print()
            print(f"SLOs ({len(results)} evaluated, recorded in {settings.results_path}):")
            print_slo_results(results)
    return EXIT_SLO_FAILED if blocking_failures(results) or not run.published else EXIT_OK


def _check_the_rest(settings: Settings, run_id: str, as_of: datetime, published: bool) -> list[dict[str, Any]]:
    """SLOs on tables the build job does not produce, evaluated on the published database and kept under the
    build's run id. Not when the build was stopped: the published database is then the previous build's."""
    from dagster_project.checking import check_slos
    from dagster_project.defs.checks import checked_in_build
    from dagster_project.defs.factory import load_build, load_slos
    from dagster_project.exporter.push import keep

    build = load_build(settings)
    rest = [s for s in load_slos(settings) if not checked_in_build(s, build)]
    if not rest or not published:
        return []
    results = check_slos(
        rest, as_of, settings.database, landing=settings.landing_database, store=settings.results_path
    ).results
    warning = keep(settings.results_path, settings.pushgateway, run_id, as_of, results)
    if warning is not None:
        print(f"warning: {warning}", file=sys.stderr)
    return results
