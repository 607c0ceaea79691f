"""Plain aligned text tables for the terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from dagster_project.slo.report import TABLE_HEADER, explanations, table_rows


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


def print_slo_results(results: Sequence[dict[str, Any]]) -> None:
    """The SLO table of `slo run` and `slo check`, then a line for each result that is not ok and says why."""
    print(colour_status(render_table(TABLE_HEADER, table_rows(results), align="lllrrl")))
    lines = explanations(results)
    if lines:
        print()
        print("\n".join(lines))
