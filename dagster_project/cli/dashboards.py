"""`slo dashboards`: Grafana dashboards and provisioning generated from the spec (committed in dashboards/)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from dagster_project.cli.specs import add_slos_option, config_of, load_specs
from dagster_project.errors import EXIT_OK

DASHBOARDS_DIR = Path("dashboards")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "dashboards",
        help="generate the Grafana dashboards (on-call, product owner) and provisioning from the spec",
        description="Write grafana/<product>-oncall.json, grafana/<product>-owner.json and Grafana provisioning "
        f"files under the output folder. Regenerate the committed copy with `slo dashboards -o {DASHBOARDS_DIR}`; "
        "a test fails when it is stale.",
        epilog="examples:\n  slo dashboards                 regenerate dashboards/grafana/\n"
        "  slo dashboards -o /srv/grafana --slos my_specs/\n"
        "  slo dashboards -o /srv/grafana --runbook-url https://git.example.com/data/slo/blob/main/docs/runbook.md",
    )
    p.add_argument("-o", "--output-dir", type=Path, default=DASHBOARDS_DIR, help="default dashboards/")
    p.add_argument(
        "--runbook-url",
        help="where on-call reads docs/runbook.md, e.g. on your git host; panels link to it with #<dimension> "
        "(default: the relative path docs/runbook.md, which Grafana cannot open)",
    )
    add_slos_option(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from dagster_project.generators.dashboards import RUNBOOK_URL, files

    specs = load_specs(config_of(args))
    for relative, text in files(specs, args.runbook_url or RUNBOOK_URL).items():
        path = args.output_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path}")
    return EXIT_OK
