"""`slo store check|backup|migrate|copy`: is the results store whole, a consistent copy of it while runs keep writing,
its schema brought to this version, and its whole history moved to another store (SQLite <-> PostgreSQL)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from dagster_project.cli.specs import add_state_options, config_of
from dagster_project.errors import EXIT_OK
from dagster_project.results.address import StoreAddress, parse_store_address

EPILOG = """\
examples:
  slo store check                                   .slo_state/results.sqlite: identity, version, integrity, size
  slo store check --results /srv/slo/results.sqlite
  slo store backup -o /backup/results-$(date +%F).sqlite
  slo store migrate                                 bring the store to this version (safe to repeat)
  slo store copy .slo_state/results.sqlite postgresql://slo@db:5432/slo     move the history to PostgreSQL

--results (and FROM/TO) is a SQLite file (or sqlite:///path) or postgresql://user@host:port/database; the password
comes from PGPASSWORD or ~/.pgpass, never from the URL.

A damaged store is refused for appends and by `slo serve` and `slo report`: restore the latest backup (see the
README, "The results store"). exit codes: 0 intact, 2 usage, 3 not a results store, damaged, or the copy failed
"""

CHECK_EPILOG = """\
examples:
  slo store check
  slo store check --results /srv/slo/results.sqlite

exit codes: 0 an intact results store, 3 not a results store (empty, another application's, not SQLite, newer)
or damaged
"""

BACKUP_EPILOG = """\
examples:
  slo store backup -o /backup/results.sqlite
  slo store backup --results /srv/slo/results.sqlite -o /backup/results-$(date +%F).sqlite

Safe while runs and `slo serve` use the store: the copy holds whole runs as of one instant, is checked, and replaces
FILE only when complete. FILE may be an earlier backup, never a file that is not a results store.
"""


MIGRATE_EPILOG = """\
examples:
  slo store migrate
  slo store migrate --results postgresql://slo@db.internal:5432/slo

Upgrades the store's schema in place, in one transaction, keeping every row; a store already at this version is
left as it is (run it as often as you like, e.g. before every deployment). Where there is no store it makes one.
Nothing else upgrades a store: `slo serve`, `slo report`, `slo check` and Dagster runs refuse an older one and say
to run this. exit codes: 0 done (or nothing to do), 3 not a results store, newer than this tool, or unreachable
"""

COPY_EPILOG = """\
examples:
  slo store copy .slo_state/results.sqlite postgresql://slo@db.internal:5432/slo      a team outgrows one machine
  slo store copy postgresql://slo@db.internal:5432/slo laptop.sqlite                 and back, for a laptop

Copies every evaluation FROM holds when it starts (seq kept) in batches, each one transaction; interrupted, run the
same command again and it carries on where it stopped. TO must be new, empty, or what an interrupted copy from
FROM left. Verified at the end: the row counts and a SHA-256 checksum of every row must be equal on both sides.
exit codes: 0 copied and verified, 2 usage, 3 a store refused, unreachable, or the copy does not match
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "store",
        help="check or back up the results store",
        description="Maintain the results store: check its identity and integrity, copy it consistently.",
        epilog=EPILOG,
    )
    commands = p.add_subparsers(dest="store_command", metavar="COMMAND", parser_class=type(p))
    commands.required = True
    check = commands.add_parser(
        "check",
        help="identity, version, integrity (SQLite's integrity_check) and size of the store; exit 3 when damaged",
        description="Check the results store without writing to it.",
        epilog=CHECK_EPILOG,
    )
    _store_options(check)
    check.set_defaults(handler=handle_check)
    backup = commands.add_parser(
        "backup",
        help="copy the store consistently (SQLite's online backup) while writers may be active",
        description="Copy the results store to FILE with SQLite's backup API, check the copy, then put it in place.",
        epilog=BACKUP_EPILOG,
    )
    _store_options(backup)
    backup.add_argument("-o", "--output", type=Path, required=True, metavar="FILE", help="the copy to write")
    backup.set_defaults(handler=handle_backup)
    migrate = commands.add_parser(
        "migrate",
        help="upgrade the store's schema to this version in place (idempotent); nothing else upgrades it",
        description="Bring the results store to this tool's schema version, keeping every row.",
        epilog=MIGRATE_EPILOG,
    )
    _store_options(migrate)
    migrate.set_defaults(handler=handle_migrate)
    copy = commands.add_parser(
        "copy",
        help="copy a whole history to another store (SQLite <-> PostgreSQL), verified, resumable",
        description="Copy every evaluation of FROM into TO, verified by row counts and a checksum of the rows.",
        epilog=COPY_EPILOG,
    )
    copy.add_argument("source", metavar="FROM", help="the store to copy: a path, sqlite:///path or postgresql://...")
    copy.add_argument("dest", metavar="TO", help="the store to copy into (made when missing)")
    copy.add_argument("--batch", type=int, default=None, help="evaluations per transaction (default 50,000)")
    copy.set_defaults(handler=handle_copy)


def _store_options(p: Any) -> None:
    add_state_options(p, db_help=None)


def _path(args: argparse.Namespace) -> StoreAddress:
    return config_of(args).results_path


def handle_check(args: argparse.Namespace) -> int:
    from dagster_project.results.maintenance import check, describe
    from dagster_project.results.store import ResultsStoreError, damaged

    health = check(_path(args))
    for line in describe(health):
        print(line)
    if not health.intact:
        raise ResultsStoreError(damaged(health.path, health.problems[0]))
    return EXIT_OK


def handle_backup(args: argparse.Namespace) -> int:
    from dagster_project.results.maintenance import backup

    path = _path(args)
    evaluations = backup(path, args.output)
    print(f"backed up {path} to {args.output}: {evaluations:,} evaluations, integrity ok")
    return EXIT_OK


def handle_migrate(args: argparse.Namespace) -> int:
    from dagster_project.results.store import migrate

    address = _path(args)
    done = migrate(address)
    if done.found is None:
        print(f"made a new results store at {address} (version {done.version})")
    elif done.changed:
        print(f"migrated {address} from version {done.found} to {done.version}; every row kept")
    else:
        print(f"{address} is at version {done.version}: nothing to do")
    return EXIT_OK


def handle_copy(args: argparse.Namespace) -> int:
    from dagster_project.errors import UsageError
    from dagster_project.results.maintenance import COPY_BATCH, copy_store

    source, dest = parse_store_address(args.source, "FROM"), parse_store_address(args.dest, "TO")
    batch = COPY_BATCH if args.batch is None else args.batch
    if batch < 1:
        raise UsageError("--batch must be a positive number of evaluations")

    def progress(done: int, total: int) -> None:
        print(f"  {done:,} of {total:,} evaluations", file=sys.stderr, flush=True)

    report = copy_store(source, dest, batch=batch, progress=progress)
    resumed = f", resuming after {report.already:,} already there" if report.already else ""
    print(
        f"copied {report.copied:,} evaluations from {source} to {dest}{resumed}; verified: {report.evaluations:,}"
        f" evaluations on both sides, sha256 {report.checksum}"
    )
    return EXIT_OK
