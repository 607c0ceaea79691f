"""`slo validate`: every problem in the specs, one per line, as file:line:col: dotted.path: message."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from dagster_project.errors import EXIT_OK, EXIT_USAGE

DEFAULT_SPEC_DIR = Path("slo_definitions")
EPILOG = """\
examples:
  slo validate                                   every spec in slo_definitions/
  slo validate slo_definitions/product_affinity.yaml --db .slo_state/warehouse.duckdb

exit codes: 0 valid, 2 at least one problem (each printed as file:line:col: dotted.path: message)
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "validate",
        help="check SLO spec files (structure, references, and with --db the datasets and columns)",
        description="Validate data product specs: YAML, fields and types, cross-file references, thresholds.",
        epilog=EPILOG,
    )
    p.add_argument("paths", nargs="*", type=Path, help="spec files or folders (default slo_definitions/)")
    p.add_argument("--db", type=Path, help="also check that datasets and columns exist in this DuckDB file")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from dagster_project.spec.validate import validate

    specs, issues = validate(args.paths or [DEFAULT_SPEC_DIR])
    if not issues and args.db is not None:
        if not args.db.exists():
            print(f"{args.db}: no such database", file=sys.stderr)
            return EXIT_USAGE
        from dagster_project.spec.database_check import database_issues

        issues = sorted(database_issues(specs, args.db))
    for issue in issues:
        print(issue)
    if issues:
        print(f"{len(issues)} problem(s) found", file=sys.stderr)
        return EXIT_USAGE
    slos = sum(len(s.spec.slos) for s in specs)
    print(
        f"{len(specs)} spec file(s) valid: {slos} SLOs"
        + (f", datasets and columns found in {args.db}" if args.db else "")
    )
    return EXIT_OK
