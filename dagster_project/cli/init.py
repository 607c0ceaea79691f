"""`slo init`: a starter spec from an existing database - its tables profiled read-only, SLOs with thresholds from
what was observed (each explained in a comment), checked before it is written: valid, and fitting the database."""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dagster_project.cli.specs import add_state_dir_option, config_of
from dagster_project.errors import EXIT_OK, SloError, UsageError
from dagster_project.settings import parse_timestamp

EPILOG = """\
examples:
  slo init --db flights.duckdb -o slo_definitions/flights.yaml
  slo init --db flights.duckdb --tables main.flights main.airlines --product flights --owner data-team -o flights.yaml
  slo init --db warehouse.duckdb --as-of 2013-12-31T23:59:00Z          historical data, judged as of its own time

The database is only read (opened read-only, never written). Each SLO's threshold comes from what was observed,
with a margin its comment states; the spec is validated against the database before it is written, and passes
`slo check` on it. An existing output file is never overwritten. The spec names the product and its owner (a TODO
placeholder without --owner) and no more of its design card: a comment says what to add next (use cases with their
update cadence, goals, a North Star; docs/writing-slos.md).

exit codes: 0 written, 2 invalid usage (no such database or table, output file exists), 3 the database cannot be
read or a query ran past --timeout
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "init",
        help="write a starter spec for the tables of an existing database, thresholds from what is observed",
        description="Profile the tables of a DuckDB database (read-only) and write a starter spec whose SLO "
        "thresholds come from what was observed, with a margin explained in a comment on each.",
        epilog=EPILOG,
    )
    p.add_argument(
        "--db",
        type=Path,
        help="the DuckDB database (default $SLO_DB, db in slo.toml, else "
        "<state-dir>/warehouse.duckdb); its .landing file is profiled as raw when beside it",
    )
    add_state_dir_option(p)
    p.add_argument("--tables", nargs="+", metavar="SCHEMA.TABLE", help="tables to profile (default: all)")
    p.add_argument("--product", help="the data product's id (default: from the database's file name)")
    p.add_argument("--owner", help="the owning team (default: a TODO placeholder)")
    p.add_argument("--as-of", help="judge ages and future timestamps as of this time, ISO 8601 (default: now)")
    p.add_argument("--timeout", default="5m", help="the longest any one profiling query may run (default 5m)")
    p.add_argument("-o", "--output", type=Path, help="write the spec to this new file (default: print it)")
    p.set_defaults(handler=handle)


def _product_id(args: argparse.Namespace, db: Path) -> str:
    from dagster_project.scaffold.starter import identifier

    if args.product is None:
        return identifier(db.stem, "product")
    ident = identifier(args.product, "product")
    if ident != args.product:
        raise UsageError(f"--product: {args.product!r} is not an id (lower case letters, digits and _); e.g. {ident}")
    return ident


def _checked(text: str, db: Path) -> None:
    """Validate the text as a spec file, and against the database: a starter that would not validate is a bug."""
    from dagster_project.spec.validate import validate
    from dagster_project.verify.database import database_issues

    with tempfile.TemporaryDirectory(prefix="slo-init-") as tmp:
        path = Path(tmp) / "starter.yaml"
        path.write_text(text)
        specs, issues = validate([path])
        if not issues:
            issues = database_issues(specs, db)
    if issues:
        raise SloError(f"the starter spec does not validate (a bug in slo init): {issues[0]}")


def handle(args: argparse.Namespace) -> int:
    import duckdb

    from dagster_project.scaffold.profile import profile_database
    from dagster_project.scaffold.starter import starter_spec
    from dagster_project.spec.durations import parse_duration

    config = config_of(args)
    db = config.database
    if not db.is_file():
        raise UsageError(f"--db: {db} is not a file (from {config.origins.get('db', 'the default')})")
    if args.output is not None and args.output.exists():
        raise UsageError(f"-o: {args.output} exists; slo init never overwrites a file: choose another name")
    try:
        timeout_s = parse_duration(args.timeout).total_seconds()
    except ValueError as exc:
        raise UsageError(f"--timeout: {exc}") from None
    as_of = parse_timestamp(args.as_of) if args.as_of else datetime.now(UTC)
    product = _product_id(args, db)
    try:
        profile = profile_database(db, as_of, args.tables, timeout_s)
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SloError(f"{db}: cannot read it as a DuckDB database: {first}") from None
    try:
        text = starter_spec(profile, product, args.owner)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    _checked(text, db)
    slos = text.count("\n  - id: ")
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    if args.output.parent != Path(""):
        args.output.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(args.output, "x") as out:  # never replaces a file, even one created since the check above
            out.write(text)
    except FileExistsError:
        raise UsageError(f"-o: {args.output} exists; slo init never overwrites a file: choose another name") from None
    print(
        f"wrote {args.output}: {slos} SLOs for {len(profile.tables)} table(s) of {db}; next: "
        f"slo validate {args.output} --db {db}, then slo check --db {db} --slos {args.output}",
        file=sys.stderr,
    )
    return EXIT_OK
