"""sqlglot (`exp`) and the tree helpers (`sql`, indicators/sql.py) for modules that build SQL trees, loaded on first
use: importing sqlglot and building sql.py's node classes costs ~60 ms, and a warm `slo check` or `slo validate`
(every verdict and rendered query remembered in the state folder, spec/sql_cache.py) builds no tree at all.

`from dagster_project.indicators.lazy import exp, sql` binds stand-ins that import the real module at their first
attribute access and then hand out its attributes; type checkers see the real modules. What the rendered texts need
without a tree (the evaluation time's token and literal, a query template's text) lives here, sqlglot-free.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
import types
from datetime import datetime
from typing import TYPE_CHECKING, Any

# What the evaluation-time placeholder renders as (indicators/sql.py), a string literal no spec can contain (a new
# random token in every process); shifted, the token followed by the shift in microseconds (`<token>+300000000`).
AS_OF_TOKEN = f"slo_as_of_{os.urandom(12).hex()}"


def timestamp_text(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%d %H:%M:%S.%f")


class LazyModule(types.ModuleType):
    """A stand-in for the module `target`, imported at the first attribute asked of it. Every attribute is read from
    the module at each use (not copied here), so what is patched there (tests) is seen through the stand-in."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.__dict__["_lazy_target"] = target

    def __getattr__(self, name: str) -> Any:
        target = self.__dict__["_lazy_target"]
        module = sys.modules.get(target)
        if module is None:
            module = importlib.import_module(target)
        return getattr(module, name)


class Template:
    """A query's one canonical form (DuckDB's reading), with placeholder names that `sql.fill` replaces by nodes;
    epoch_seconds(x) stands for EpochSeconds. Parsed on first use (not when the indicators are imported)."""

    def __init__(self, text: str) -> None:
        self.text = text

    @functools.cached_property
    def tree(self) -> exp.Expr:
        import sqlglot

        return sqlglot.parse_one(self.text, read="duckdb")


def template(text: str) -> Template:
    return Template(text)


if TYPE_CHECKING:
    from sqlglot import expressions as exp

    from dagster_project.indicators import sql
else:
    exp = LazyModule("sqlglot.expressions")
    sql = LazyModule("dagster_project.indicators.sql")

__all__ = ["AS_OF_TOKEN", "LazyModule", "Template", "exp", "sql", "template", "timestamp_text"]
