"""Plain aligned text tables for the terminal."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from typing import Any


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> str:
    """Columns padded to their widest cell; align is one letter per column, 'l' or 'r' (default l)."""
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        out = []
        for i, cell in enumerate(cells):
            right = i < len(align) and align[i] == "r"
            out.append(cell.rjust(widths[i]) if right else cell.ljust(widths[i]))
        return "  ".join(out).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


# Status colours, only on a terminal and unless NO_COLOR is set (https://no-color.org).
_COLOURS = {"ok": "32", "warn": "33", "FAIL": "31;1", "ERROR": "31;1"}


def colour_status(table: str) -> str:
    """Colour the status at the end of each line (the table's last column), keeping the alignment."""
    if not sys.stdout.isatty() or os.environ.get("NO_COLOR"):
        return table
    out = []
    for line in table.splitlines():
        head, _sep, last = line.rpartition(" ")
        code = _COLOURS.get(last)
        out.append(f"{head} \033[{code}m{last}\033[0m" if code and head else line)
    return "\n".join(out)


def narrow_table(results: Sequence[dict[str, Any]]) -> str:
    """The SLO table for a narrow terminal: grouped under each dataset, without the dataset column."""
    from dagster_project.slo.report import table_rows  # not at import: every `slo` command loads this module

    ordered = sorted(results, key=lambda r: r["dataset"])  # stable: each dataset's rows keep their order
    rows = [row[:2] + row[3:] for row in table_rows(ordered)]
    lines = render_table(["slo", "dimension", "observed", "threshold", "status"], rows, align="llrrl").splitlines()
    out, dataset = [], None
    for result, line in zip(ordered, lines[2:], strict=True):  # one width for every group
        if result["dataset"] != dataset:
            dataset = result["dataset"]
            out.append(dataset)
        out.append("  " + line)
    return "\n".join(out)


def print_slo_results(results: Sequence[dict[str, Any]]) -> None:
    """The SLO table of `slo run` and `slo check`, then a line for each result that is not ok and says why, and one
    for each that kept failed-row samples. On a terminal narrower than the table, the rows are grouped by dataset
    instead, to stay readable in 80 columns."""
    from dagster_project.slo.report import TABLE_HEADER, explanations, sample_lines, table_rows

    table = render_table(TABLE_HEADER, table_rows(results), align="lllrrl")
    width = max((len(line) for line in table.splitlines()), default=0)
    if sys.stdout.isatty() and width > shutil.get_terminal_size().columns:
        table = narrow_table(results)
    print(colour_status(table))
    lines = explanations(results) + sample_lines(results)
    if lines:
        print()
        print("\n".join(lines))
