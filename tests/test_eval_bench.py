"""The evaluation benchmark's floor: it is written for exactly the shipped SLOs and computes the native engine's
numbers by hand, on a real build, at the build's time and at a back-dated time (rows after it must be left out)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from benchmarks.eval_bench import (
    check_text_columns,
    floor_evaluate,
    floor_scans,
    load_plan,
    require_equal,
    scans_only,
    values,
)
from dagster_project.engines.native import evaluate, open_for_checks
from dagster_project.settings import Settings
from tests.conftest import AS_OF

NAIVE_AS_OF = AS_OF.replace(tzinfo=None)


def test_the_evaluation_floor_is_written_for_every_shipped_slo() -> None:
    plan = load_plan()  # stops (SystemExit) when slo_definitions/ ships SLOs the floor does not compute
    assert len(plan.slos) == 31


@pytest.mark.parametrize("days_back", [0, 3], ids=["at-build-time", "back-dated"])
def test_the_evaluation_floor_gives_the_native_engines_numbers(built_product: Settings, days_back: int) -> None:
    plan = load_plan()
    as_of = NAIVE_AS_OF - timedelta(days=days_back)
    with open_for_checks(built_product.database) as con:
        check_text_columns(con)
        native = evaluate(con, plan, as_of)
        assert [f"{e.slo.id}: {e.error}" for e in native if e.error is not None] == []
        require_equal(values(native), floor_evaluate(con, plan, as_of), "whole plan")
        require_equal(values(evaluate(con, scans_only(plan), as_of)), floor_scans(con, plan, as_of), "scans")
