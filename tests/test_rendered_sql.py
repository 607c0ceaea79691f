"""The plan's SQL rendered once per process (slo/rendered.py): the kept text with an evaluation's time filled in is
exactly what rendering the tree afresh gives, for every indicator, dialect and time; a changed SLO never gets the
text of the old one; an indicator that uses the evaluation time otherwise is rendered afresh; and an evaluation
after the first renders nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar

import duckdb
import pytest
from sqlglot import exp

from dagster_project.engines.duckdb_adapter import open_adapter
from dagster_project.engines.evaluate import evaluate
from dagster_project.indicators import sql
from dagster_project.indicators.base import Context
from dagster_project.indicators.max_age import MaxAgeIndicator
from dagster_project.indicators.registry import REGISTRY
from dagster_project.slo import rendered
from dagster_project.slo.domain import RowFilter, Slo
from dagster_project.slo.plan import compile_plan, scan_query, single_query
from tests.test_indicator_registry import RecordingAdapter, make_slo

TIMES = [
    datetime(2026, 11, 27, 6, 0, 0, 250000),
    datetime(1999, 12, 31, 23, 59, 59, 999999),
    datetime(2028, 2, 29, 0, 0),
    datetime(2026, 11, 27, 6, 0, 0, 250001),
]
TEXT_COLUMNS = ["b", "c"]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    rendered.clear()
    yield
    rendered.clear()


def fresh_scan(dataset: str, slos: list[Slo], as_of: datetime, dialect: str) -> str:
    return sql.render(scan_query(dataset, slos, as_of, TEXT_COLUMNS).fused, dialect)


@pytest.mark.parametrize("dialect", sql.DIALECTS)
def test_kept_text_is_a_fresh_render_for_every_indicator_and_evaluation_time(dialect: str) -> None:
    slos = [make_slo(kind) for kind in REGISTRY]
    scans = [s for s in slos if s.definition.measured == "scan"]
    queries = [s for s in slos if s.definition.measured == "query"]
    assert len(scans) + len(queries) == 16  # the scan and query indicators, each a sample of its own
    for as_of in TIMES:  # the first fills the cache, the others fill in their time
        for i, slo in enumerate(scans):
            assert rendered.scan("s.t", [slo], TEXT_COLUMNS, dialect, as_of) == fresh_scan("s.t", [slo], as_of, dialect)
            alone = scan_query("s.t", scans, as_of, TEXT_COLUMNS).alone(i)
            assert rendered.scan_alone(slo, TEXT_COLUMNS, dialect, as_of) == sql.render(alone, dialect)
        # One scan of them all, as a dataset's scan is fused: from the one-SLO texts, equal to the fused tree's.
        assert rendered.scan("s.t", scans, TEXT_COLUMNS, dialect, as_of) == fresh_scan("s.t", scans, as_of, dialect)
        for slo in queries:
            assert rendered.single(slo, dialect, as_of) == sql.render(single_query(slo, as_of), dialect)
    # And the time really is in them: the freshness aggregate's text changes with it.
    first, second = (rendered.scan("s.t", [make_slo("max_age")], TEXT_COLUMNS, dialect, t) for t in TIMES[:2])
    assert first != second and sql.timestamp_text(TIMES[1]) in second


@pytest.mark.parametrize("dialect", sql.DIALECTS)
def test_a_changed_slo_gets_new_sql_never_the_kept_text_of_the_old_one(dialect: str) -> None:
    as_of = TIMES[0]
    before = make_slo("in_range", column="a", min=1, max=10)
    for changed in [
        make_slo("in_range", column="a", min=2, max=10),  # another bound
        make_slo("in_range", column="b", min=1, max=10),  # another column
        make_slo("in_range", dataset="s.u", column="a", min=1, max=10),  # another dataset
    ]:
        kept = rendered.scan(before.dataset, [before], TEXT_COLUMNS, dialect, as_of)
        new = rendered.scan(changed.dataset, [changed], TEXT_COLUMNS, dialect, as_of)
        assert new != kept
        assert new == fresh_scan(changed.dataset, [changed], as_of, dialect)
    # The same number written as a float (1 == 1.0 in Python, a different key): always what a fresh render gives.
    as_float = make_slo("in_range", column="a", min=1.0, max=10)
    rendered.scan(before.dataset, [before], TEXT_COLUMNS, dialect, as_of)
    kept_float = rendered.scan(as_float.dataset, [as_float], TEXT_COLUMNS, dialect, as_of)
    assert kept_float == fresh_scan(as_float.dataset, [as_float], as_of, dialect)
    # What the engine's catalog says is part of the key too: no_pii reads every text column of its dataset.
    pii = make_slo("no_pii", patterns=["email"], columns=None)
    one = rendered.scan("s.t", [pii], ["b"], dialect, as_of)
    two = rendered.scan("s.t", [pii], ["b", "c"], dialect, as_of)
    assert one != two and two == sql.render(scan_query("s.t", [pii], as_of, ["b", "c"]).fused, dialect)


@dataclass(frozen=True)
class HourEarlierAge(MaxAgeIndicator):
    """A freshness measured an hour before the evaluation time: derives a time from it in Python."""

    type: ClassVar[str] = "max_age"

    def scan(self, ctx: Context) -> exp.Expr:
        return sql.epoch(sql.timestamp(ctx.as_of - timedelta(hours=1)))


@dataclass(frozen=True)
class HourAge(MaxAgeIndicator):
    """A freshness measured at the evaluation time's full hour: derives a time from it other than by a shift."""

    type: ClassVar[str] = "max_age"

    def scan(self, ctx: Context) -> exp.Expr:
        return sql.epoch(sql.timestamp(ctx.as_of.replace(minute=0, second=0, microsecond=0)))


def test_an_indicator_that_derives_from_the_evaluation_time_is_rendered_afresh_each_time() -> None:
    slo = make_slo("max_age")
    slo = Slo(**{**slo.__dict__, "indicator": HourAge("ts")})
    for as_of in TIMES:
        text = rendered.scan("s.t", [slo], TEXT_COLUMNS, "duckdb", as_of)
        assert text == fresh_scan("s.t", [slo], as_of, "duckdb")
        assert sql.timestamp_text(as_of.replace(minute=0, second=0, microsecond=0)) in text


@pytest.mark.parametrize("dialect", sql.DIALECTS)
def test_an_evaluation_time_shifted_by_a_fixed_time_is_kept_and_filled_in_per_evaluation(
    dialect: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ctx.as_of - 1h` (or not_in_future's `+ tolerance`) is a placeholder of its own: rendered once, each
    evaluation's text the fresh render's, the other SLOs of the scan beside it unchanged."""
    shifted = Slo(**{**make_slo("max_age").__dict__, "indicator": HourEarlierAge("ts")})
    slos = [make_slo("max_age"), shifted, make_slo("not_in_future", column="ts", tolerance=90.5), make_slo("row_count")]
    expected = {as_of: fresh_scan("s.t", slos, as_of, dialect) for as_of in TIMES}
    rendered.scan("s.t", slos, TEXT_COLUMNS, dialect, TIMES[0])  # kept

    def no_render(*args: object, **kwargs: object) -> str:
        raise AssertionError("rendered again")

    monkeypatch.setattr(sql, "render", no_render)
    for as_of in TIMES:
        text = rendered.scan("s.t", slos, TEXT_COLUMNS, dialect, as_of)
        assert text == expected[as_of]
        assert sql.timestamp_text(as_of - timedelta(hours=1)) in text
        assert sql.timestamp_text(as_of + timedelta(seconds=90.5)) in text


def test_the_placeholder_refuses_every_use_but_its_literal() -> None:
    placeholder = sql.AS_OF_PLACEHOLDER
    for use in (
        lambda: placeholder - datetime(2000, 1, 1),
        lambda: placeholder + 1,  # type: ignore[operator]
        lambda: (placeholder + timedelta(1)).year,  # shifted, still only a literal
        lambda: placeholder.replace(hour=1),
        lambda: placeholder.year,
        lambda: placeholder.strftime("%Y"),
        lambda: f"{placeholder}",
        lambda: placeholder < datetime(2000, 1, 2),
    ):
        with pytest.raises(sql.EvaluationTimeUsed):
            use()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "t.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA s")
    con.execute(
        "CREATE TABLE s.t AS SELECT * FROM (VALUES (1, 'x1', TIMESTAMP '2026-11-27 05:00:00'),"
        " (2, 'mail a@b.io', TIMESTAMP '2026-11-26 05:00:00')) AS v(a, b, ts)"
    )
    con.close()
    return path


def test_an_evaluation_after_the_first_renders_nothing_and_runs_its_own_time(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slos = [make_slo(k) for k in ("max_age", "in_range", "no_pii", "row_volume")]
    plan = compile_plan(slos)
    with open_adapter(db) as adapter:
        first = RecordingAdapter(adapter)
        first_values = {e.slo.id: e.observed for e in evaluate(first, plan, TIMES[0])}
        renders: list[str] = []
        real_render = sql.render

        def counted(tree: exp.Expr, dialect: str) -> str:
            renders.append(dialect)
            return real_render(tree, dialect)

        monkeypatch.setattr(sql, "render", counted)
        later = RecordingAdapter(adapter)
        later_values = {e.slo.id: e.observed for e in evaluate(later, plan, TIMES[0] + timedelta(hours=1))}
    assert renders == []
    assert len(later.queries) == len(first.queries) == 2  # s.t's one scan and row_volume's query
    for before, after in zip(first.queries, later.queries, strict=True):
        assert before.replace(sql.timestamp_text(TIMES[0]), "T") == after.replace(
            sql.timestamp_text(TIMES[0] + timedelta(hours=1)), "T"
        )
    assert first_values["max_age"] == pytest.approx(3600.25)
    assert later_values["max_age"] == pytest.approx(7200.25)
    assert first_values["in_range"] == later_values["in_range"] == 1.0


@pytest.mark.parametrize("dialect", sql.DIALECTS)
def test_kept_text_of_filtered_scans_is_a_fresh_render_at_every_evaluation_time(dialect: str) -> None:
    plain = [make_slo(kind) for kind in REGISTRY if REGISTRY[kind].measured == "scan"]
    filters = [
        RowFilter(where="a > 1 AND b IS NOT NULL"),
        RowFilter(column="ts", last_s=86400.0),
        RowFilter(where="a > 1", column="ts", last_s=3600.5),
    ]
    for row_filter in filters:
        slos = [dataclasses.replace(s, filter=row_filter) for s in plain]
        for as_of in TIMES:
            fused = rendered.scan("s.t", slos, TEXT_COLUMNS, dialect, as_of)
            assert fused == fresh_scan("s.t", slos, as_of, dialect)
            assert " WHERE " in fused
            for i, slo in enumerate(slos):
                alone = scan_query("s.t", slos, as_of, TEXT_COLUMNS).alone(i)
                assert rendered.scan_alone(slo, TEXT_COLUMNS, dialect, as_of) == sql.render(alone, dialect)
