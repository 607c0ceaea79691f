"""`slo report`: the static SLO attainment report for product owners, one HTML file per data product."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dagster_project.cli.specs import add_slos_option, load_specs
from dagster_project.errors import EXIT_OK
from dagster_project.settings import DEFAULT_STATE_DIR, parse_timestamp

EPILOG = """\
examples:
  slo report                         writes .slo_state/report/<product>.html from .slo_state/
  slo report -o /srv/www/slo --as-of 2026-11-27T06:00:00Z

The files are self-contained (inline CSS and SVG, no scripts, no network): open them from disk or mail them.
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="write the SLO attainment report (static HTML, one file per data product)",
        description="The design card, the North Star against its target, attainment per dimension and per SLO over "
        "each window, budget burn-down, current breaches and what they threaten, adherence badges.",
        epilog=EPILOG,
    )
    p.add_argument("-o", "--output-dir", type=Path, help="default <state-dir>/report")
    p.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, help="state folder (default .slo_state)")
    p.add_argument("--results", type=Path, help="results store (default <state-dir>/results.sqlite)")
    p.add_argument("--db", type=Path, help="published database (default <state-dir>/warehouse.duckdb)")
    add_slos_option(p)
    p.add_argument("--as-of", help="report as if at this time, ISO 8601 (default: now)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from dagster_project.report.build import reports
    from dagster_project.report.html import render

    specs = load_specs(args.slos)
    as_of = parse_timestamp(args.as_of) if args.as_of else datetime.now(UTC)
    out = args.output_dir or args.state_dir / "report"
    docs = args.state_dir / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    built = reports(
        specs,
        args.results or args.state_dir / "results.sqlite",
        as_of,
        args.db or args.state_dir / "warehouse.duckdb",
        docs,
    )
    out.mkdir(parents=True, exist_ok=True)
    for report in built:
        path = out / f"{report.spec.data_product.id}.html"
        path.write_text(render(report, out))
        print(f"wrote {path}")
    return EXIT_OK
