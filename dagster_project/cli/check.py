"""`slo check`: evaluate the SLOs against an existing DuckDB database, without building anything."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagster_project.checking import ENGINES
from dagster_project.cli.specs import add_slos_option, add_state_options, config_of, remember_in, save_remembered
from dagster_project.cli.startup import uncollected
from dagster_project.cli.table import print_slo_results
from dagster_project.errors import EXIT_OK, EXIT_SLO_FAILED, EXIT_USAGE, UsageError
from dagster_project.settings import parse_timestamp

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from dagster_project.engines.adapter import EngineAdapter
    from dagster_project.slo.domain import Slo
    from dagster_project.spec.validate import LoadedSpec, SpecIssue
    from dagster_project.verify.check_memory import CleanCheck

EPILOG = """\
examples:
  slo check --db .slo_state/warehouse.duckdb
  slo check --db /srv/warehouse.duckdb --slos my_slos/ --json --as-of 2026-11-27T06:00:00Z
  slo check --db /srv/warehouse.duckdb --results /srv/slo/results.sqlite
  slo check --db .slo_state/warehouse.duckdb --engine gx     GX suites, checkpoint and Data Docs in .slo_state/gx/

The spec is first checked against the database (datasets, columns and their types, SQL and measures prepared);
every mismatch is printed as file:line:col: dotted.path: message and nothing is evaluated (exit 2).

exit codes: 0 all passed or only warnings failed, 1 an error-severity SLO failed or could not be evaluated,
2 invalid spec or usage (the spec does not fit the database included), 3 runtime error
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "check",
        help="evaluate the SLOs against an existing database (no build)",
        description="Evaluate every SLO of the specs against a DuckDB database, read-only, with the native engine.",
        epilog=EPILOG,
    )
    add_slos_option(p)
    add_state_options(p, db_help="the DuckDB database to check; its .landing file is used if present")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--as-of", help="evaluate as if at this time, ISO 8601 (default: now)")
    p.add_argument("--no-record", action="store_true", help="do not append the results to the store")
    p.add_argument(
        "--pushgateway",
        default=None,
        help="also push every result to this Prometheus Pushgateway URL (default $SLO_PUSHGATEWAY, pushgateway in "
        "slo.toml)",
    )
    p.add_argument(
        "--engine",
        choices=ENGINES,
        default="native",
        help="native DuckDB (default), or Great Expectations for the SLOs it can express (the others natively); "
        "GX's file context and Data Docs go to gx/ beside the results store",
    )
    p.set_defaults(handler=handle)


def located(results: list[dict[str, Any]], where: Mapping[str, str]) -> list[dict[str, Any]]:
    """The results, each error prefixed with where its SLO is written (`where`: id -> file:line), for whoever reads
    the store."""
    out = []
    for r in results:
        if r["error"] and r["slo"] in where:
            error = f"{where[r['slo']]}: {r['error']}"
            r = {**r, "error": error, "observed_text": error}
        out.append(r)
    return out


def _texts(files: Sequence[Path]) -> list[tuple[Path, str]] | None:
    """Each spec file named (folders expanded) with its text; None when one cannot be read (validation says why)."""
    from dagster_project.spec.yaml_doc import YamlError, read_text, spec_files

    try:
        return [(file, read_text(file)) for file in spec_files(files)]
    except YamlError:
        return None


def _still_clean(clean: CleanCheck, db: Path, stack: contextlib.ExitStack, opened: dict[str, EngineAdapter]) -> bool:
    """Whether a remembered clean check still holds: the database opens and answers as it did (its adapter is kept
    open in `opened` for the evaluation either way)."""
    from dagster_project.engines.adapter import EngineError
    from dagster_project.engines.servers import open_server, server_key

    if not db.is_file():
        return False
    try:
        deployment = stack.enter_context(open_server(None, db))
    except EngineError:
        return False
    opened[server_key(None)] = deployment
    return clean.answers.still_given_by(deployment)


def _checked(
    files: Sequence[Path],
    texts: Sequence[tuple[Path, str]] | None,
    db: Path,
    db_origin: str,
    stack: contextlib.ExitStack,
    opened: dict[str, EngineAdapter],
) -> tuple[list[Slo], dict[str, str], list[SpecIssue], CleanCheck | None]:
    """The specs validated and checked against their databases (every server opened is kept in `opened`): their SLOs,
    where each is written, every problem, and what to remember when there are none (only when no spec names a
    server: their data all in the deployment's database)."""
    with uncollected():  # validation's imports (pydantic, the spec models), without collection (cli/startup.py)
        from dagster_project.engines.adapter import EngineError
        from dagster_project.engines.servers import open_server, server_key, uses_deployment_database
        from dagster_project.slo.from_spec import all_slos
        from dagster_project.spec.validate import validate
        from dagster_project.verify.answers import Recorder
        from dagster_project.verify.check_memory import CleanCheck
        from dagster_project.verify.database import adapter_issues, database_issues

    specs, issues = validate(files, texts)  # the texts read for the memory's key, if they could be
    recorder: Recorder | None = None
    if not issues:
        here = [s for s in specs if uses_deployment_database(s.spec.server)]
        if here and not db.is_file():
            raise UsageError(f"--db: {db} is not a file (from {db_origin})")
        # Before evaluating anything: a spec that does not fit its database is a usage error, whatever the severity.
        # The deployment's database is opened once, for this check and the evaluation (a connection costs ~10 ms);
        # one that cannot be opened is checked as before, raising what it raised.
        issues = []
        if here:
            deployment = opened.get(server_key(None))
            if deployment is None:
                try:
                    deployment = stack.enter_context(open_server(None, db))
                except EngineError:
                    issues = database_issues(here, db)
                else:
                    opened[server_key(None)] = deployment
            if deployment is not None:
                recorder = Recorder(deployment)
                issues = adapter_issues(here, recorder)
        for s in specs:
            server = s.spec.server
            if server is not None and server.type == "duckdb" and server.path is not None:
                if not Path(server.path).is_file():
                    issues.append(s.issue(("server", "path"), f"DuckDB database {server.path} does not exist"))
                else:
                    issues.extend(database_issues([s], Path(server.path)))
        # Servers (PostgreSQL, Spark) are opened once, checked against, and kept open for the evaluation. One that
        # cannot be reached is not a mistake in the spec: its SLOs are recorded as errors naming it.
        elsewhere: dict[str, list[LoadedSpec]] = {}
        for s in specs:
            if s.spec.server is not None and s.spec.server.type != "duckdb":
                elsewhere.setdefault(server_key(s.spec.server), []).append(s)
        for key, group in elsewhere.items():
            try:
                adapter = stack.enter_context(open_server(group[0].spec.server, db))
                issues.extend(adapter_issues(group, adapter))
                opened[key] = adapter
            except EngineError:
                continue
    slos = all_slos([s.spec for s in specs]) if not issues else []
    where = {
        slo.id: f"{s.doc.path}:{s.doc.position(('slos', i)).line}" for s in specs for i, slo in enumerate(s.spec.slos)
    }
    answers = recorder.answers if recorder is not None else None
    clean = None
    if not issues and answers is not None and all(s.spec.server is None for s in specs):
        clean = CleanCheck(tuple(slos), where, answers)
    return slos, where, issues, clean


def handle(args: argparse.Namespace) -> int:
    with uncollected():  # the evaluation's imports, without collection (cli/startup.py)
        from dagster_project.checking import check_slos
        from dagster_project.exporter.push import keep
        from dagster_project.results.address import gx_root, store_exists
        from dagster_project.slo.report import blocking_failures
        from dagster_project.verify import check_memory

    config = config_of(args)
    as_of = parse_timestamp(args.as_of) if args.as_of else datetime.now(UTC)
    # The store's integrity check once an hour, not once a call: only when results are recorded.
    remember_in(config.state_dir, store_checks=not args.no_record)
    files, db = config.require_specs(), config.database
    stack = contextlib.ExitStack()
    opened: dict[str, EngineAdapter] = {}
    # The same specs against a database that answers as it did when they were last found clean: nothing to validate
    # or check again (verify/check_memory.py). Otherwise every layer, and a clean result is remembered.
    texts = _texts(files)
    clean = check_memory.recall(config.state_dir, texts, db) if texts else None
    if clean is not None and _still_clean(clean, db, stack, opened):
        slos, where = list(clean.slos), clean.where
    else:
        with contextlib.ExitStack() as on_error:
            on_error.callback(stack.close)
            slos, where, issues, clean = _checked(
                files, texts, db, config.origins.get("db", "the default"), stack, opened
            )
            on_error.pop_all()
        save_remembered()
        if issues:
            stack.close()
            for issue in issues:
                print(issue, file=sys.stderr)
            print(f"{len(issues)} problem(s) found; nothing was evaluated", file=sys.stderr)
            return EXIT_USAGE
        if clean is not None and texts is not None:
            check_memory.keep(config.state_dir, texts, db, clean)
    with stack:
        checked = check_slos(
            slos,
            as_of,
            db,
            engine=args.engine,
            gx_root=gx_root(config.results_path, config.state_dir),
            opened=opened,
            # Read for the SLOs judged against their history; with --no-record and no store yet, nothing is.
            store=None if args.no_record and not store_exists(config.results_path) else config.results_path,
        )
    save_remembered()  # the queries the evaluation rendered
    results = located(checked.results, where)
    run_id = str(uuid.uuid4())
    warning = keep(None if args.no_record else config.results_path, config.pushgateway, run_id, as_of, results)
    if warning is not None:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        payload = {"run_id": run_id, "as_of": as_of.isoformat(), "results": results}
        print(json.dumps(payload, indent=2))
    else:
        print_slo_results(results)
        if not args.no_record:
            print(f"{len(results)} results recorded in {config.results_path} (run {run_id})", file=sys.stderr)
    if checked.data_docs is not None:
        print(f"GX Data Docs: {checked.data_docs}", file=sys.stderr)
    return EXIT_SLO_FAILED if blocking_failures(results) else EXIT_OK
