"""The short report `slo run` prints: row counts of every table the build made, then the build's own summary."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from dagster_project.build_api import Build
from dagster_project.cli.table import render_table
from dagster_project.warehouse.connection import connect, row_count


def print_summary(build: Build, database: Path, landing: Path, as_of: datetime) -> None:
    with connect(database, landing=landing, read_only=True) as con:
        names = build.published_tables
        print()
        print(render_table(["table", "rows"], [[n, f"{row_count(con, n):,}"] for n in names], align="lr"))
        text = build.summary(con, as_of) if build.summary is not None else None
    if text:
        print()
        print(text)
