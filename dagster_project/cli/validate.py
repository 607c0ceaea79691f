"""`slo validate`: every problem in the specs, one per line, as file:line:col: dotted.path: message."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from dagster_project.errors import EXIT_OK, EXIT_USAGE
from dagster_project.settings import DEFAULT_STATE_DIR

DEFAULT_SPEC_DIR = Path("slo_definitions")
DEFAULT_RESULTS = DEFAULT_STATE_DIR / "results.sqlite"
EPILOG = """\
examples:
  slo validate                                   every spec in slo_definitions/
  slo validate slo_definitions/product_affinity.yaml --db .slo_state/warehouse.duckdb

With --db, the spec is also checked against the database: datasets, columns and the types each indicator needs,
and custom SQL, consumer queries and measure expressions prepared (not run). Warnings (file:line:col: ...: warning:)
name freshness thresholds that leave no slack for the use case's update cadence plus a build, and windows shorter
than the check cadence; they do not change the exit code.

exit codes: 0 valid (warnings or not), 2 at least one problem (each printed as file:line:col: dotted.path: message)
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "validate",
        help="check SLO spec files (structure, references, and with --db the datasets, columns, types and SQL)",
        description="Validate data product specs: YAML, fields and types, cross-file references, thresholds.",
        epilog=EPILOG,
    )
    p.add_argument("paths", nargs="*", type=Path, help="spec files or folders (default slo_definitions/)")
    p.add_argument(
        "--db", type=Path, help="also check datasets, columns, their types and the spec's SQL against this DuckDB file"
    )
    p.add_argument(
        "--results",
        type=Path,
        help="results store whose latest build_duration is the build time freshness thresholds must allow for "
        f"(default {DEFAULT_RESULTS} when it exists; without one a build is assumed to take up to an hour)",
    )
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from dagster_project.spec.validate import validate
    from dagster_project.verify.slack import measured_build_seconds, slack_warnings

    specs, issues = validate(args.paths or [DEFAULT_SPEC_DIR])
    if not issues and args.db is not None:
        if not args.db.exists():
            print(f"{args.db}: no such database", file=sys.stderr)
            return EXIT_USAGE
        from dagster_project.verify.database import database_issues

        issues = database_issues(specs, args.db)
    results = args.results or (DEFAULT_RESULTS if DEFAULT_RESULTS.is_file() else None)
    if args.results is not None and not args.results.is_file():
        print(f"{args.results}: no such results store", file=sys.stderr)
        return EXIT_USAGE
    build_s = measured_build_seconds([s.spec for s in specs], results) if results is not None else {}
    for line in sorted([*issues, *slack_warnings(specs, build_s)]):
        print(line)
    if issues:
        print(f"{len(issues)} problem(s) found", file=sys.stderr)
        return EXIT_USAGE
    slos = sum(len(s.spec.slos) for s in specs)
    print(
        f"{len(specs)} spec file(s) valid: {slos} SLOs"
        + (f", datasets, columns, types and SQL checked against {args.db}" if args.db else "")
    )
    return EXIT_OK
