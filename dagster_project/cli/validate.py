"""`slo validate`: every problem in the specs, one per line, as file:line:col: dotted.path: message."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from dagster_project.cli.specs import add_state_dir_option, config_of, remember_in, save_remembered
from dagster_project.cli.startup import uncollected
from dagster_project.errors import EXIT_OK, EXIT_USAGE

EPILOG = """\
examples:
  slo validate                                   the specs of the configuration (--slos/$SLO_SPECS/slo.toml)
  slo validate slo_definitions/product_affinity.yaml --db .slo_state/warehouse.duckdb
  slo validate my_specs/ --json                  one JSON object: valid, files, SLOs, problems and warnings

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
    p.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="spec files or folders (default $SLO_SPECS, specs in slo.toml, else ./slo_definitions/)",
    )
    p.add_argument(
        "--db",
        type=Path,
        help="also check datasets, columns, their types and the spec's SQL against this DuckDB file (default $SLO_DB "
        "or db in slo.toml when set)",
    )
    p.add_argument(
        "--results",
        metavar="PATH|URL",
        help="results store whose latest build_duration is the build time freshness thresholds must allow for "
        "(default: the configuration's, when it exists; without one a build is assumed to take up to an hour)",
    )
    add_state_dir_option(p)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of lines")
    p.set_defaults(handler=handle)


def _issue_json(issue: Any) -> dict[str, Any]:
    return {
        "file": issue.file,
        "line": issue.line,
        "column": issue.column,
        "path": issue.path,
        "message": issue.message,
    }


def handle(args: argparse.Namespace) -> int:
    with uncollected():  # cli/startup.py
        from dagster_project.results.address import store_exists
        from dagster_project.spec.validate import validate
        from dagster_project.verify.slack import measured_build_seconds, slack_warnings

    config = config_of(
        argparse.Namespace(slos=args.paths or None, results=args.results, state_dir=args.state_dir, db=args.db)
    )
    remember_in(config.state_dir)
    specs, issues = validate(list(config.require_specs()))
    if not issues:
        from dagster_project.spec.build_ref import build_issues  # imports each declared build's module

        issues = build_issues(specs)
    db = config.db  # --db, SLO_DB or db in slo.toml: never the default path, which may hold another product
    if not issues and db is not None:
        if not db.exists():
            message = f"no such database (from {config.origins.get('db')})"
            if args.json:  # still one JSON object: scripts parse stdout
                problem = {"file": str(db), "line": 0, "column": 0, "path": "db", "message": message}
                print(json.dumps({"valid": False, "database": str(db), "problems": [problem], "warnings": []}))
            print(f"{db}: {message}", file=sys.stderr)
            return EXIT_USAGE
        from dagster_project.verify.database import database_issues

        issues = database_issues(specs, db)
    save_remembered()
    if args.results is not None and not store_exists(config.results_path):
        print(f"{args.results}: no such results store", file=sys.stderr)
        return EXIT_USAGE
    results = config.results_path if store_exists(config.results_path) else None
    build_s = measured_build_seconds([s.spec for s in specs], results) if results is not None else {}
    warnings = slack_warnings(specs, build_s)
    slos = sum(len(s.spec.slos) for s in specs)
    if args.json:
        payload = {
            "valid": not issues,
            "files": [str(s.doc.path) for s in specs],
            "products": [s.spec.data_product.id for s in specs],
            "slos": slos if not issues else None,
            "database": str(db) if db else None,
            "problems": [_issue_json(i) for i in sorted(issues)],
            "warnings": [_issue_json(w) for w in sorted(warnings)],
        }
        print(json.dumps(payload, indent=2))
        return EXIT_USAGE if issues else EXIT_OK
    for line in sorted([*issues, *warnings]):
        print(line)
    if issues:
        print(f"{len(issues)} problem(s) found", file=sys.stderr)
        return EXIT_USAGE
    print(
        f"{len(specs)} spec file(s) valid: {slos} SLOs"
        + (f", datasets, columns, types and SQL checked against {db}" if db else "")
    )
    return EXIT_OK
