"""`slo report`: the static SLO attainment report for product owners, one HTML file per data product, and the
data product hub (index.html) listing them all."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dagster_project.cli.specs import add_slos_option, add_state_options, config_of, load_specs
from dagster_project.errors import EXIT_OK
from dagster_project.settings import parse_timestamp

EPILOG = """\
examples:
  slo report                         writes .slo_state/report/index.html (the hub) and <product>.html
  slo report -o /srv/www/slo --as-of 2026-11-27T06:00:00Z

The files are self-contained (inline CSS and SVG, no scripts, no network): open them from disk or mail them.
index.html, the data product hub, lists every product with its owner, adherence badges per dimension and error
budget left, linking to each report. `slo serve` serves the same pages live at / (read-only).
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="write the SLO attainment report (static HTML, one file per data product, and a hub index.html)",
        description="The design card, the North Star against its target, attainment per dimension and per SLO over "
        "each window, budget burn-down, current breaches and what they threaten, adherence badges.",
        epilog=EPILOG,
    )
    p.add_argument("-o", "--output-dir", type=Path, help="default <state-dir>/report")
    add_state_options(p)
    add_slos_option(p)
    p.add_argument("--as-of", help="report as if at this time, ISO 8601 (default: now)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from dagster_project.report.build import reports
    from dagster_project.report.html import render
    from dagster_project.report.hub import INDEX, page_name, render_index

    config = config_of(args)
    specs = load_specs(config)
    as_of = parse_timestamp(args.as_of) if args.as_of else datetime.now(UTC)
    out = args.output_dir or config.state_dir / "report"
    docs = config.state_dir / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    built = reports(specs, config.results_path, as_of, config.database, docs)
    out.mkdir(parents=True, exist_ok=True)
    for report in built:
        path = out / page_name(report.spec.data_product.id)
        path.write_text(render(report, out))
        print(f"wrote {path}")
    index = out / INDEX
    index.write_text(render_index(built, as_of))
    print(f"wrote {index}")
    return EXIT_OK
