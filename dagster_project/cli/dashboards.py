"""`slo dashboards`: Grafana dashboards and provisioning generated from the spec (committed in dashboards/)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from dagster_project.errors import EXIT_OK, UsageError
from dagster_project.settings import default_spec_paths

DASHBOARDS_DIR = Path("dashboards")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "dashboards",
        help="generate the Grafana dashboards (on-call, product owner) and provisioning from the spec",
        description="Write grafana/<product>-oncall.json, grafana/<product>-owner.json and Grafana provisioning "
        f"files under the output folder. Regenerate the committed copy with `slo dashboards -o {DASHBOARDS_DIR}`; "
        "a test fails when it is stale.",
        epilog="examples:\n  slo dashboards                 regenerate dashboards/grafana/\n"
        "  slo dashboards -o /srv/grafana --slos my_specs/",
    )
    p.add_argument("-o", "--output-dir", type=Path, default=DASHBOARDS_DIR, help="default dashboards/")
    p.add_argument("--slos", type=Path, action="append", help="spec files or folders (default slo_definitions/)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from dagster_project.generators.dashboards import files
    from dagster_project.spec.validate import validate

    specs, issues = validate(args.slos or list(default_spec_paths()))
    if issues:
        raise UsageError("invalid SLO spec:\n" + "\n".join(str(i) for i in issues))
    for relative, text in files([s.spec for s in specs]).items():
        path = args.output_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path}")
    return EXIT_OK
