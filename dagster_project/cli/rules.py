"""`slo rules`: Prometheus recording and alerting rules generated from the spec (committed in
dashboards/prometheus/)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from dagster_project.cli.specs import add_slos_option, config_of, load_specs
from dagster_project.errors import EXIT_OK

RULES_DIR = Path("dashboards/prometheus")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "rules",
        help="generate Prometheus recording and alerting rules (burn rates, budgets) from the spec",
        description="Sloth-compatible recording rules and multiwindow multi-burn-rate alerts for every SLO, plus "
        f"pipeline alerts. Regenerate the committed copy with `slo rules -o {RULES_DIR}`; a test fails when it "
        "is stale.",
        epilog="examples:\n  slo rules                             print the rules\n"
        f"  slo rules -o {RULES_DIR}   regenerate the committed copy\n"
        "  promtool check rules dashboards/prometheus/slo_rules.yml",
    )
    p.add_argument("-o", "--output-dir", type=Path, help="write <dir>/slo_rules.yml instead of printing")
    add_slos_option(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from dagster_project.generators.rules import RULES_FILE, render

    specs = load_specs(config_of(args))
    text = render(specs)
    if args.output_dir is None:
        sys.stdout.write(text)
        return EXIT_OK
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / RULES_FILE).write_text(text)
    print(f"wrote {args.output_dir / RULES_FILE}")
    return EXIT_OK
