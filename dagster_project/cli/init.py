"""`slo init`: a starter spec from an existing database - its tables profiled read-only, SLOs with thresholds from
what was observed (each explained in a comment), checked before it is written: valid, and fitting the database."""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagster_project.cli.specs import add_state_dir_option, config_of
from dagster_project.errors import EXIT_OK, SloError, UsageError
from dagster_project.settings import parse_timestamp

if TYPE_CHECKING:
    from dagster_project.scaffold.profile import DatabaseProfile

EPILOG = """\
examples:
  slo init --db flights.duckdb -o slo_definitions/flights.yaml
  slo init --db flights.duckdb --tables main.flights main.airlines --product flights --owner data-team -o flights.yaml
  slo init --db warehouse.duckdb --as-of 2013-12-31T23:59:00Z          historical data, judged as of its own time
  slo init --server postgres --host db.internal --database shop --user slo_reader --password-env SHOP_PG_PASSWORD \\
      -o shop.yaml
  slo init --server spark --master local[2] --tables-folder lake/ -o lake.yaml    Parquet tables as <schema>/<table>/
  slo init --server-file server.yaml -o shop.yaml                  a `server:` mapping, as a spec writes it

The database is only read (DuckDB opened read-only; PostgreSQL in read-only transactions; Spark sent nothing but
SELECTs, its Parquet tables registered in the session's own catalog). On PostgreSQL and Spark the spec carries the
`server:` block it was profiled through; no password is ever written, only the environment variable holding it.
Each SLO's threshold comes from what was observed, with a margin its comment states; the spec is validated (on
DuckDB, against the database too) before it is written, and passes `slo check` there. An existing output file is
never overwritten. The spec names the product and its owner (a TODO placeholder without --owner) and no more of
its design card: a comment says what to add next (use cases with their update cadence, goals, a North Star;
docs/writing-slos.md).

exit codes: 0 written, 2 invalid usage (no such database or table, output file exists, a server that cannot be
reached or refuses the credentials), 3 the database cannot be read or a query ran past --timeout
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "init",
        help="write a starter spec for the tables of an existing database, thresholds from what is observed",
        description="Profile the tables of a DuckDB, PostgreSQL or Spark database (read-only) and write a starter "
        "spec whose SLO thresholds come from what was observed, with a margin explained in a comment on each.",
        epilog=EPILOG,
    )
    p.add_argument(
        "--db",
        type=Path,
        help="the DuckDB database (default $SLO_DB, db in slo.toml, else "
        "<state-dir>/warehouse.duckdb); its .landing file is profiled as raw when beside it",
    )
    add_state_dir_option(p)
    where = p.add_argument_group("another engine (the spec then carries this `server:` block)")
    where.add_argument(
        "--server", choices=("duckdb", "postgres", "spark"), help="the engine holding the tables (default duckdb: --db)"
    )
    where.add_argument("--server-file", type=Path, metavar="FILE", help="a YAML file with a `server:` mapping")
    where.add_argument("--host", help="postgres: the server's host (default localhost)")
    where.add_argument("--port", type=int, help="postgres: its port (default 5432)")
    where.add_argument("--database", help="postgres: the database")
    where.add_argument("--user", help="postgres: the user (default: libpq's, PGUSER)")
    where.add_argument("--user-env", metavar="VAR", help="postgres: the environment variable holding the user")
    where.add_argument(
        "--password-env",
        metavar="VAR",
        help="postgres: the environment variable holding the password (default: PGPASSWORD or ~/.pgpass)",
    )
    where.add_argument("--master", help="spark: the master URL, e.g. local[2], spark://host:7077 (default local[*])")
    where.add_argument("--remote", metavar="URL", help="spark: a Spark Connect URL, sc://host:15002")
    where.add_argument(
        "--tables-folder", type=Path, metavar="FOLDER", help="spark: Parquet tables as FOLDER/<schema>/<table>/"
    )
    p.add_argument("--tables", nargs="+", metavar="SCHEMA.TABLE", help="tables to profile (default: all)")
    p.add_argument("--product", help="the data product's id (default: from the database's file name)")
    p.add_argument("--owner", help="the owning team (default: a TODO placeholder)")
    p.add_argument("--as-of", help="judge ages and future timestamps as of this time, ISO 8601 (default: now)")
    p.add_argument("--timeout", default="5m", help="the longest any one profiling query may run (default 5m)")
    p.add_argument("-o", "--output", type=Path, help="write the spec to this new file (default: print it)")
    p.set_defaults(handler=handle)


def _product_id(args: argparse.Namespace, default: str) -> str:
    from dagster_project.scaffold.starter import identifier

    if args.product is None:
        return identifier(default, "product")
    ident = identifier(args.product, "product")
    if ident != args.product:
        raise UsageError(f"--product: {args.product!r} is not an id (lower case letters, digits and _); e.g. {ident}")
    return ident


def _checked(text: str, db: Path | None) -> None:
    """Validate the text as a spec file, and against the DuckDB database: a starter that would not validate is a bug.
    (A spec on another server names only tables and columns its catalog listed.)"""
    from dagster_project.spec.validate import validate
    from dagster_project.verify.database import database_issues

    with tempfile.TemporaryDirectory(prefix="slo-init-") as tmp:
        path = Path(tmp) / "starter.yaml"
        path.write_text(text)
        specs, issues = validate([path])
        if not issues and db is not None:
            issues = database_issues(specs, db)
    if issues:
        raise SloError(f"the starter spec does not validate (a bug in slo init): {issues[0]}")


_POSTGRES_FLAGS = ("host", "port", "database", "user", "user_env", "password_env")
_SPARK_FLAGS = ("master", "remote", "tables_folder")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _server(args: argparse.Namespace) -> tuple[Any, Path] | None:
    """The server to profile (spec/server.py's model) and the folder its relative `tables:` is read from; None for
    the DuckDB database of --db."""
    import yaml
    from pydantic import TypeAdapter, ValidationError

    from dagster_project.spec.server import Server

    given = [name for name in (*_POSTGRES_FLAGS, *_SPARK_FLAGS) if getattr(args, name) is not None]
    if args.server_file is not None:
        if args.server is not None or given or args.db is not None:
            raise UsageError("--server-file: give the server in the file or as flags, not both")
        try:
            loaded = yaml.safe_load(args.server_file.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise UsageError(f"--server-file: cannot read {args.server_file}: {str(exc).splitlines()[0]}") from None
        if not isinstance(loaded, dict) or not isinstance(loaded.get("server"), dict):
            raise UsageError(f"--server-file: {args.server_file} holds no `server:` mapping")
        fields, base, origin = loaded["server"], args.server_file.resolve().parent, f"{args.server_file}: server"
    else:
        kind = args.server or "duckdb"
        allowed = {"duckdb": (), "postgres": _POSTGRES_FLAGS, "spark": _SPARK_FLAGS}[kind]
        wrong = [name for name in given if name not in allowed]
        if wrong:
            raise UsageError(
                f"{_flag(wrong[0])} is for --server {'postgres' if wrong[0] in _POSTGRES_FLAGS else 'spark'}"
            )
        if kind == "duckdb":
            return None
        if args.db is not None:
            raise UsageError(f"--db is the DuckDB database; --server {kind} reads another")
        fields = {"type": kind, **{name: getattr(args, name) for name in given}}
        if "tables_folder" in fields:
            fields["tables"] = str(Path(fields.pop("tables_folder")).resolve())
        base, origin = Path.cwd(), f"--server {kind}"
    try:
        server = TypeAdapter(Server).validate_python(fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"][1:]) or "server"
        raise UsageError(f"{origin}: {where}: {error['msg']}") from None
    if server.type == "duckdb":
        raise UsageError(f"{origin}: type duckdb: give the database with --db")
    return server, base


def _server_block(server: Any, base: Path, output: Path | None) -> list[str]:
    """The spec's `server:` lines: as given, but a Spark `tables:` folder relative to the spec's folder (printed: as
    an absolute path)."""
    import os

    import yaml

    fields = server.model_dump(exclude_none=True, exclude_defaults=True)
    fields = {"type": server.type, **fields}
    if server.type == "spark" and server.tables is not None:
        folder = (base / server.tables).resolve()
        fields["tables"] = os.path.relpath(folder, output.resolve().parent) if output is not None else str(folder)
    secret = getattr(server, "password_env", None)
    note = f"  # the password from ${secret}, never written here" if secret else ""
    body = yaml.safe_dump({"server": fields}, sort_keys=False, default_flow_style=False).splitlines()
    return [
        "# Where the data lives: slo check and the Dagster checks read it there." + note.replace("  #", ";", 1),
        *body,
    ]


def _label(server: Any) -> str:
    if server.type == "postgres":
        return f"postgres {server.host}:{server.port}/{server.database}"
    return f"spark {server.remote or server.master or 'local[*]'}"


def handle(args: argparse.Namespace) -> int:
    import duckdb

    from dagster_project.scaffold.profile import profile_database
    from dagster_project.scaffold.starter import starter_spec
    from dagster_project.spec.durations import parse_duration

    if args.output is not None and args.output.exists():
        raise UsageError(f"-o: {args.output} exists; slo init never overwrites a file: choose another name")
    try:
        timeout_s = parse_duration(args.timeout).total_seconds()
    except ValueError as exc:
        raise UsageError(f"--timeout: {exc}") from None
    as_of = parse_timestamp(args.as_of) if args.as_of else datetime.now(UTC)
    chosen = _server(args)
    db: Path | None = None
    server_lines: list[str] = []
    if chosen is None:
        config = config_of(args)
        db = config.database
        if not db.is_file():
            raise UsageError(f"--db: {db} is not a file (from {config.origins.get('db', 'the default')})")
        product = _product_id(args, db.stem)
        source = str(db)
        try:
            profile = profile_database(db, as_of, args.tables, timeout_s)
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SloError(f"{db}: cannot read it as a DuckDB database: {first}") from None
    else:
        server, base = chosen
        source = _label(server)
        default = server.database if server.type == "postgres" else Path(server.tables or "spark").name
        product = _product_id(args, default)
        server_lines = _server_block(server, base, args.output)
        profile = _profile_server(server, base, source, as_of, args.tables, timeout_s)
    try:
        text = starter_spec(profile, product, args.owner, server_lines)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    _checked(text if db is not None or _spec_has_server() else starter_spec(profile, product, args.owner), db)
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
    against = f"--db {db}" if db is not None else "(its server: block says where)"
    print(
        f"wrote {args.output}: {slos} SLOs for {len(profile.tables)} table(s) of {source}; next: "
        f"slo validate {args.output} {against}, then slo check --slos {args.output}"
        + (f" --db {db}" if db is not None else ""),
        file=sys.stderr,
    )
    return EXIT_OK


def _spec_has_server() -> bool:
    """Whether specs take a `server:` block yet (spec/models.py's SpecFile); until then the block is left out of the
    check, not out of the spec."""
    from dagster_project.spec.models import SpecFile

    return "server" in SpecFile.model_fields


def _profile_server(
    server: Any,
    base: Path,
    source: str,
    as_of: datetime,
    tables: list[str] | None,
    timeout_s: float,
) -> DatabaseProfile:
    """Connect (an unreachable server or refused credentials: exit 2, one line), profile, close."""
    from dagster_project.engines.adapter import EngineAdapter, EngineError
    from dagster_project.scaffold.profile import profile_adapter

    adapter: EngineAdapter
    try:
        if server.type == "postgres":
            from dagster_project.engines.postgres import PostgresAdapter

            adapter = PostgresAdapter.open(server)
        else:
            from dagster_project.engines.spark import SparkAdapter

            adapter = SparkAdapter.open(server, base)
    except EngineError as exc:
        raise UsageError(f"{source}: {exc}") from None
    try:
        return profile_adapter(adapter, source, as_of, tables, timeout_s)
    finally:
        adapter.close()
