"""Where a command finds its specs, state folder, results store, database and Pushgateway: its flags, then SLO_*
environment variables, then slo.toml / [tool.slo], then defaults (settings.load_config), the same for every command.
Specs are validated; any problem is a usage error listing every one (exit 2)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagster_project.errors import UsageError
from dagster_project.settings import Config, load_config

if TYPE_CHECKING:  # the models load pydantic: only when a command runs, not for `slo --help`
    from dagster_project.spec.models import SpecFile


def remember_in(state_dir: Path, store_checks: bool = False) -> None:
    """What validation works out, remembered in the state folder for this command and the next (when the folder
    exists): the validated spec files (spec/spec_cache.py), the SQL verdicts and rendered queries (spec/sql_cache.py),
    written by `save_remembered`; with `store_checks` (a command that records results), when each results store was
    last found intact (results/store.py remember_checks_in)."""
    from dagster_project.spec import spec_cache, sql_cache

    spec_cache.use(state_dir)
    sql_cache.use(state_dir)
    if store_checks:
        from dagster_project.results.store import remember_checks_in

        remember_checks_in(state_dir)


def save_remembered() -> None:
    from dagster_project.spec import spec_cache, sql_cache

    spec_cache.save()
    sql_cache.save()


def forget_remembered() -> None:
    """The memories dropped when a command ends, for a caller that goes on (tests, a sensor calling main(args)): the
    next command names its own state folder, and what the caller validates in between is remembered nowhere."""
    for name in ("dagster_project.spec.spec_cache", "dagster_project.spec.sql_cache"):
        module = sys.modules.get(name)  # only those the command loaded
        if module is not None:
            module.forget()


def add_slos_option(parser: Any) -> None:
    parser.add_argument(
        "--slos",
        type=Path,
        action="append",
        help="spec file or folder, repeatable (default $SLO_SPECS, specs in slo.toml, else ./slo_definitions/)",
    )


def add_state_dir_option(parser: Any) -> None:
    parser.add_argument(
        "--state-dir", type=Path, help="state folder (default $SLO_STATE_DIR, state_dir in slo.toml, else .slo_state)"
    )


def add_state_options(parser: Any, db_help: str | None = "published database") -> None:
    """--state-dir, --results and (unless db_help is None) --db, each defaulting through the configuration."""
    parser.add_argument(
        "--state-dir", type=Path, help="state folder (default $SLO_STATE_DIR, state_dir in slo.toml, else .slo_state)"
    )
    parser.add_argument(
        "--results",
        metavar="PATH|URL",
        help="results store: a SQLite file (or sqlite:///path) or postgresql://user@host:port/db, the password from"
        " PGPASSWORD or ~/.pgpass (default $SLO_RESULTS, results in slo.toml, else <state-dir>/results.sqlite)",
    )
    if db_help is not None:
        parser.add_argument(
            "--db", type=Path, help=f"{db_help} (default $SLO_DB, db in slo.toml, else <state-dir>/warehouse.duckdb)"
        )


def config_of(args: argparse.Namespace) -> Config:
    """The configuration with this command's flags first (a flag the command does not have is simply not given)."""
    flags = {
        "specs": getattr(args, "slos", None),
        "state_dir": getattr(args, "state_dir", None),
        "results": getattr(args, "results", None),
        "db": getattr(args, "db", None),
        "data_dir": getattr(args, "data_dir", None),
        "pushgateway": getattr(args, "pushgateway", None),
    }
    return load_config(flags)


def load_specs(config: Config) -> list[SpecFile]:
    from dagster_project.spec.validate import validate

    specs, issues = validate(list(config.require_specs()))
    if issues:
        raise UsageError("invalid SLO spec:\n" + "\n".join(str(i) for i in issues))
    return [s.spec for s in specs]
