"""`slo store check|backup`: is the results store whole, and a consistent copy of it while runs keep writing."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from dagster_project.cli.specs import add_state_options, config_of
from dagster_project.errors import EXIT_OK

EPILOG = """\
examples:
  slo store check                                   .slo_state/results.sqlite: identity, version, integrity, size
  slo store check --results /srv/slo/results.sqlite
  slo store backup -o /backup/results-$(date +%F).sqlite

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


def _store_options(p: Any) -> None:
    add_state_options(p, db_help=None)


def _path(args: argparse.Namespace) -> Path:
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
