"""The plan's queries as SQL text, rendered once per process and filled in per evaluation.

Building an indicator's tree and rendering it cost more than running the queries of a small database (~20 ms for
the shipped SLOs, at every evaluation, and twice in `slo check`, which prepares each query before running it), yet
the text only changes with the evaluation time. So each query is rendered once, with a placeholder literal for the
evaluation time (indicators/sql.py: AS_OF_PLACEHOLDER), and kept as the pieces around it; an evaluation joins the
pieces with its time's literal. A dataset's fused scan is the SLOs' one-SLO scans put together, so the per-SLO
queries `slo check` prepares are the ones its evaluation reuses.

Keys hold everything the text depends on: the dialect, the dataset, the dataset's text columns, and the indicator
as its type and repr, every field with its own type (`min: 1` and `min: 1.0` render differently, and are two keys).
A changed spec is a new key, never a stale text. An indicator that uses the evaluation time otherwise than as its
literal (EvaluationTimeUsed) is rendered afresh at every evaluation instead. The cache is per process, bounded, and
cleared when full; `slo check` also keeps its texts in the state folder for the next call (spec/sql_cache.py, whose
fingerprint covers this package's code and sqlglot's version, so a changed renderer is a cold start).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from dagster_project.indicators.lazy import AS_OF_TOKEN, exp, sql, timestamp_text
from dagster_project.slo import plan
from dagster_project.slo.domain import Slo
from dagster_project.spec import sql_cache

MAX_ENTRIES = 4096


@dataclass(frozen=True)
class Text:
    """A query's text cut where the evaluation time's literal goes (one piece when it has none); `shifts` has one
    entry per cut: the microseconds after the evaluation time that literal stands for (0, or e.g. a tolerance)."""

    pieces: tuple[str, ...]
    shifts: tuple[int, ...] = ()

    def at(self, as_of: datetime) -> str:
        if len(self.pieces) == 1:
            return self.pieces[0]
        out = [self.pieces[0]]
        for shift, piece in zip(self.shifts or (0,) * (len(self.pieces) - 1), self.pieces[1:], strict=True):
            out.append(f"'{timestamp_text(as_of + timedelta(microseconds=shift) if shift else as_of)}'")
            out.append(piece)
        return "".join(out)


_AFRESH = object()  # an entry whose text is rendered at every evaluation (it uses the evaluation time otherwise)
_QUOTED_TOKEN = re.compile(f"'{AS_OF_TOKEN}([+-][0-9]+)?'")
_cache: dict[tuple[Any, ...], object] = {}
T = TypeVar("T")


def clear() -> None:
    _cache.clear()


def _keep(key: tuple[Any, ...], value: T) -> T:
    if len(_cache) >= MAX_ENTRIES:
        _cache.clear()
    _cache[key] = value
    return value


def _once(tree_at: Callable[[datetime], exp.Expr], dialect: str) -> object:
    try:
        text = sql.render(tree_at(sql.AS_OF_PLACEHOLDER), dialect)
    except sql.EvaluationTimeUsed:
        return _AFRESH
    parts = _QUOTED_TOKEN.split(text)  # piece, shift, piece, shift, ..., piece
    pieces, shifts = parts[0::2], [int(shift or 0) for shift in parts[1::2]]
    if any(AS_OF_TOKEN in piece for piece in pieces):
        return _AFRESH  # the placeholder was rendered other than as a string literal: not ours to cut
    return Text(tuple(pieces), tuple(shifts))


def _remembered(key: tuple[Any, ...], compute: Callable[[], object]) -> object:
    """The entry of `key`: this process's, else the state folder's (spec/sql_cache.py), else computed now."""
    hit = _cache.get(key)
    if hit is not None:
        return hit
    if not sql_cache.in_use():  # no state folder named: this process's cache alone
        return _keep(key, compute())
    name = "render:" + repr(key)
    stored = sql_cache.recall(name)
    hit = _decoded(stored) if stored is not sql_cache.MISSING else None
    if hit is None:
        hit = compute()
        sql_cache.keep(name, _encoded(hit))
    return _keep(key, hit)


def _encoded(entry: object) -> object:
    if isinstance(entry, Text):
        return {"text": list(entry.pieces), "shifts": list(entry.shifts)}
    if isinstance(entry, str):
        return {"table": entry}
    return {"afresh": True}


def _decoded(stored: object) -> object | None:
    """The entry stored, or None when it is not of a shape `_encoded` writes (then it is computed again)."""
    if isinstance(stored, dict) and "text" in stored:
        pieces, shifts = stored.get("text"), stored.get("shifts")
        if (
            len(stored) == 2
            and isinstance(pieces, list)
            and all(isinstance(p, str) for p in pieces)
            and isinstance(shifts, list)
            and all(type(s) is int for s in shifts)
            and len(shifts) == len(pieces) - 1
        ):
            return Text(tuple(pieces), tuple(shifts))
        return None
    if isinstance(stored, dict) and len(stored) == 1:
        table = stored.get("table")
        if isinstance(table, str):
            return table
        if stored.get("afresh") is True:
            return _AFRESH
    return None


def _indicator_key(slo: Slo) -> tuple[Any, ...]:
    return (type(slo.indicator), repr(slo.indicator), slo.dataset, repr(slo.filter))


def _alone_key(slo: Slo, text_columns: tuple[str, ...], dialect: str) -> tuple[Any, ...]:
    return ("scan", dialect, *_indicator_key(slo), text_columns)


def _alone_tree(slo: Slo, as_of: datetime, text_columns: tuple[str, ...]) -> exp.Expr:
    query = sql.select(plan.scan_expression(slo, as_of, text_columns), from_=sql.table(slo.dataset))
    return plan.narrowed(query, slo.filter, as_of)


def _alone(slo: Slo, text_columns: tuple[str, ...], dialect: str) -> object:
    return _remembered(
        _alone_key(slo, text_columns, dialect), lambda: _once(lambda t: _alone_tree(slo, t, text_columns), dialect)
    )


def _table(dataset: str, dialect: str) -> str:
    hit = _remembered(("table", dialect, dataset), lambda: sql.render(sql.table(dataset), dialect))
    assert isinstance(hit, str)
    return hit


def scan_alone(slo: Slo, text_columns: Sequence[str], dialect: str, as_of: datetime) -> str:
    """`SELECT <the SLO's scan aggregate> FROM <its dataset>` at `as_of` (naive UTC)."""
    columns = tuple(text_columns)
    hit = _alone(slo, columns, dialect)
    if isinstance(hit, Text):
        return hit.at(as_of)
    return sql.render(_alone_tree(slo, as_of, columns), dialect)


def _inner(alone: Text, dataset: str, dialect: str) -> list[str] | None:
    """The pieces of a one-SLO scan query without its `SELECT ` and ` FROM <dataset>`: its aggregate."""
    head, tail = "SELECT ", f" FROM {_table(dataset, dialect)}"
    pieces = list(alone.pieces)
    if not (pieces[0].startswith(head) and pieces[-1].endswith(tail)):
        return None
    pieces[0] = pieces[0][len(head) :]
    pieces[-1] = pieces[-1][: len(pieces[-1]) - len(tail)]
    return pieces


def scan_expression(slo: Slo, text_columns: Sequence[str], dialect: str, as_of: datetime) -> str:
    """The SLO's scan aggregate alone, as it appears in its scan query."""
    inner = _inner(Text((scan_alone(slo, text_columns, dialect, as_of),)), slo.dataset, dialect)
    if inner is None:
        return sql.render(plan.scan_expression(slo, as_of, tuple(text_columns)), dialect)
    return inner[0]


def _fused(dataset: str, slos: Sequence[Slo], columns: tuple[str, ...], dialect: str) -> object:
    key = ("fused", dialect, dataset, columns, tuple(_indicator_key(s) for s in slos))
    hit = _cache.get(key)
    if hit is not None:
        return hit
    pieces, shifts = ["SELECT "], list[int]()
    for i, slo in enumerate(slos):
        alone = _alone(slo, columns, dialect)
        inner = _inner(alone, dataset, dialect) if isinstance(alone, Text) else None
        if inner is None:
            return _keep(key, _AFRESH)
        assert isinstance(alone, Text)
        pieces[-1] += ("" if i == 0 else ", ") + "(" + inner[0]
        pieces.extend(inner[1:])
        shifts.extend(alone.shifts or (0,) * (len(alone.pieces) - 1))
        pieces[-1] += f") AS m{i}"
    pieces[-1] += f" FROM {_table(dataset, dialect)}"
    return _keep(key, Text(tuple(pieces), tuple(shifts)))


def scan(dataset: str, slos: Sequence[Slo], text_columns: Sequence[str], dialect: str, as_of: datetime) -> str:
    """The dataset's one scan: a column m<i> per SLO, in order (slo/plan.py: scan_query)."""
    columns = tuple(text_columns)
    hit = _fused(dataset, slos, columns, dialect)
    if isinstance(hit, Text):
        return hit.at(as_of)
    return sql.render(plan.scan_query(dataset, slos, as_of, columns).fused, dialect)


def single(slo: Slo, dialect: str, as_of: datetime) -> str:
    """The query of an indicator measured by a query of its own (slo/plan.py: single_query)."""
    hit = _remembered(
        ("single", dialect, *_indicator_key(slo)), lambda: _once(lambda t: plan.single_query(slo, t), dialect)
    )
    if isinstance(hit, Text):
        return hit.at(as_of)
    return sql.render(plan.single_query(slo, as_of), dialect)
