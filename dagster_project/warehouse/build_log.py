"""Which run built each table of the build file, so that only a complete build of one run is ever published.

Dagster's deps order steps but do not stop a user from materializing the publish step alone, or after a run that
failed half-way; the log lets the publish step refuse a build file that mixes runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

BUILD_LOG_SCHEMA = "build_log"


def record_step(con: duckdb.DuckDBPyConnection, asset: str, run_id: str) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {BUILD_LOG_SCHEMA}")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {BUILD_LOG_SCHEMA}.steps "
        "(asset VARCHAR PRIMARY KEY, run_id VARCHAR NOT NULL, finished_at TIMESTAMPTZ NOT NULL)"
    )
    con.execute(f"INSERT OR REPLACE INTO {BUILD_LOG_SCHEMA}.steps VALUES (?, ?, current_timestamp)", [asset, run_id])


def steps_missing_from_run(con: duckdb.DuckDBPyConnection, assets: Sequence[str], run_id: str) -> list[str]:
    """The assets of `assets` whose latest build was not in `run_id`."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = 'steps'",
        [BUILD_LOG_SCHEMA],
    ).fetchall()[0][0]
    built = set()
    if exists:
        rows = con.execute(f"SELECT asset FROM {BUILD_LOG_SCHEMA}.steps WHERE run_id = ?", [run_id]).fetchall()
        built = {r[0] for r in rows}
    return [a for a in assets if a not in built]


def record_run(con: duckdb.DuckDBPyConnection, run_id: str, started_at: float, finished_at: float) -> None:
    """The build's start and end (epoch seconds), kept with the data so build-duration SLOs can read it."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {BUILD_LOG_SCHEMA}")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {BUILD_LOG_SCHEMA}.runs "
        "(run_id VARCHAR PRIMARY KEY, started_at TIMESTAMPTZ NOT NULL, finished_at TIMESTAMPTZ NOT NULL)"
    )
    con.execute(
        f"INSERT OR REPLACE INTO {BUILD_LOG_SCHEMA}.runs VALUES (?, to_timestamp(?), to_timestamp(?))",
        [run_id, started_at, finished_at],
    )
