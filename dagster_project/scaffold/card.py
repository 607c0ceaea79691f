"""The design card a starter spec needs today (spec/models.py requires a name, vision, goals, use cases, a semantic
model and a North Star), as TODO placeholders where `slo init` cannot know them. One function on purpose: when the
card becomes optional (a spec with only `data_product: {id, owner}` and its SLOs), it shrinks to that and the
placeholders below go."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from dagster_project.scaffold.profile import NORTH_STAR_WINDOW, DatabaseProfile

# The placeholder use case's update cadence (hourly): max_age thresholds leave slack over it plus a build.
PLACEHOLDER_CADENCE = "0 * * * *"
PLACEHOLDER_USE_CASE = "todo_use_case"
PLACEHOLDER_GOAL = "todo_goal"


def quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is a subset of it)."""
    return json.dumps(text, ensure_ascii=False)


# Plain words YAML reads as something other than text (PyYAML follows YAML 1.1: `no` is false, `on` is true).
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null"})


def scalar(name: str) -> str:
    """A name (column, id) as a YAML scalar: plain unless YAML would read it as a boolean or null."""
    return quoted(name) if name.lower() in _YAML_WORDS else name


def when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def design_card(profile: DatabaseProfile, product: str, owner: str | None) -> list[str]:
    """The data product card, semantic model and North Star today's spec requires, with TODO placeholders where
    `slo init` cannot know (a name, a vision, goals, use cases, the North Star): the one place to change when they
    become optional. The North Star counts the rows of the largest table with a timestamp over 28 days."""
    timed = [t for t in profile.tables if t.time_column is not None]
    if not timed:
        raise ValueError(
            "none of the tables has a timestamp or date column with values, which today's spec needs for the North "
            "Star's time dimension; include one with --tables"
        )
    home = max(timed, key=lambda t: t.rows)
    assert home.time_column is not None
    window_rows = home.column(home.time_column).in_window
    days = NORTH_STAR_WINDOW.days
    datasets = ", ".join(t.dataset for t in profile.tables)
    return [
        "# TODO: the design card below is a placeholder today's spec requires; write your own (docs/writing-slos.md).",
        "data_product:",
        f"  id: {scalar(product)}",
        f"  name: {quoted('TODO: ' + product)}",
        f"  owner: {quoted(owner) if owner else quoted('TODO') + '  # TODO: the owning team (label team of alerts)'}",
        f"  vision: {quoted('TODO: what this data is for')}",
        "  goals:",
        f"    - id: {PLACEHOLDER_GOAL}",
        f"      description: {quoted('TODO: a measurable goal the data serves')}",
        f"      target: {{measure: rows, min: {window_rows}}}  # TODO: placeholder: the rows of the last {days} days",
        "  use_cases:",
        f"    - id: {PLACEHOLDER_USE_CASE}",
        f"      description: {quoted('TODO: who uses these tables, for what')}",
        f"      consumers: [{quoted('TODO')}]",
        f"      goals: [{PLACEHOLDER_GOAL}]",
        f"      datasets: [{datasets}]",
        "      usage:",
        "        frequency: hourly",
        f"        users: [{quoted('TODO')}]",
        f"        update_cadence: {quoted(PLACEHOLDER_CADENCE)}  # TODO: when the tables are updated (cron, UTC)",
        "semantic_model:",
        "  measures:",
        "    - name: rows",
        f"      table: {home.dataset}",
        "      expression: count(*)",
        "  dimensions:",
        "    - name: time",
        f"      table: {home.dataset}",
        f"      column: {scalar(home.time_column)}",
        "north_star:",
        f"  name: {quoted('TODO: rows of ' + home.dataset)}",
        "  measure: rows",
        "  time_dimension: time",
        f"  window: {days}d",
        f"  target: {window_rows}  # TODO: placeholder: the rows observed in the last {days} days",
    ]
