"""The exporter's indexed history gives exactly the SLO math's numbers (in any insertion order), reads only new rows,
and two exporters on one store export the same values."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dagster_project.exporter.history import History, SloHistory, StoreGone
from dagster_project.exporter.server import Exporter, ExporterConfig
from dagster_project.results.store import record
from dagster_project.slo.budget import Point, freshness_time_sli, occurrence_sli, time_sli
from dagster_project.spec.validate import validate
from tests.conftest import REPO


@pytest.mark.parametrize("seed", range(20))
def test_window_sums_equal_the_slo_math(seed: int) -> None:
    rng = random.Random(seed)
    points = []
    for _ in range(60):
        passed = rng.choice([True, True, True, False, None])
        points.append(Point(rng.uniform(0, 1000), passed, None if passed is None else rng.uniform(0, 10)))
    history = SloHistory()
    for p in points:  # written in any order (runs with older --as-of come late)
        history.add(p.at, p.passed, p.observed)
    ordered = sorted(points, key=lambda p: p.at)
    for _ in range(30):
        start = rng.uniform(-100, 1000)
        end = start + rng.uniform(1, 600)
        good, total = history.occurrence(start, end)
        expected = occurrence_sli(ordered, start, end)
        assert (good / total if total else None) == expected
        assert history.freshness(5.0, start, end) == pytest.approx(
            freshness_time_sli(ordered, 5.0, start, end), abs=1e-12
        )
        good_time, known = history.time(start, end)
        expected_time = time_sli(ordered, start, end)
        if expected_time is None:
            assert known == 0
        else:
            assert good_time / known == pytest.approx(expected_time, abs=1e-12)


def _result(slo: str, passed: bool | None) -> dict[str, object]:
    return {
        "slo": slo,
        "product": "product_affinity",
        "dimension": "validity",
        "dataset": "raw.orders",
        "observed": 1.0 if passed else 0.5,
        "threshold": {"bound": "min", "value": 0.99},
        "passed": passed,
        "severity": "error",
        "engine": "native",
        "error": None if passed is not None else "boom",
    }


def test_history_reads_only_new_rows_and_keeps_the_latest_outcome(tmp_path: Path) -> None:
    store = tmp_path / "r.sqlite"
    history = History(store)
    assert history.refresh() == 0  # no store yet: an empty history
    record(store, "r1", datetime(2026, 11, 27, 6, tzinfo=UTC), [_result("a", True), _result("b", False)])
    assert history.refresh() == 2
    record(store, "r2", datetime(2026, 11, 27, 7, tzinfo=UTC), [_result("a", None)])
    record(store, "r0", datetime(2026, 11, 27, 5, tzinfo=UTC), [_result("a", True)])  # an older as-of, later
    assert history.refresh() == 2 and history.rows == 4
    a = history.slos["a"]
    assert a.totals == {"pass": 2, "fail": 0, "error": 1}
    k = a.latest(datetime(2026, 11, 27, 12, tzinfo=UTC).timestamp())
    assert k is not None and a.passed[k] is None and a.at[k] == datetime(2026, 11, 27, 7, tzinfo=UTC).timestamp()
    # One dated after "now" is not the latest yet.
    assert a.latest(datetime(2026, 11, 27, 6, 30, tzinfo=UTC).timestamp()) == 1


def test_a_replaced_store_is_read_again_and_a_vanished_one_is_an_error(tmp_path: Path) -> None:
    store = tmp_path / "r.sqlite"
    history = History(store)
    when = datetime(2026, 11, 27, 6, tzinfo=UTC)
    record(store, "r1", when, [_result("a", True)] * 5)
    assert history.refresh() == 5
    replacement = tmp_path / "new.sqlite"
    record(replacement, "r2", when, [_result("a", False)] * 2)
    replacement.replace(store)  # fewer rows, another file: the old numbers must not be served
    for leftover in tmp_path.glob("r.sqlite-*"):
        leftover.unlink()
    assert history.refresh() == 2 and history.slos["a"].totals == {"pass": 0, "fail": 2, "error": 0}
    store.unlink()
    with pytest.raises(StoreGone):
        history.refresh()


def test_two_exporters_on_one_store_export_the_same_values(tmp_path: Path) -> None:
    specs, _ = validate([REPO / "slo_definitions"])
    store = tmp_path / "r.sqlite"
    for hour in range(5):
        results = [_result(s.id, hour != 2) for s in specs[0].spec.slos]
        record(store, f"r{hour}", datetime(2026, 11, 27, hour, tzinfo=UTC), results)
    config = ExporterConfig([s.spec for s in specs], store, database=None)
    now = datetime(2026, 11, 27, 12, tzinfo=UTC).timestamp()

    def values(exporter: Exporter) -> list[str]:
        body = exporter.refresh(now=now).decode()
        return [line for line in body.splitlines() if line and not line.startswith(("#", "dataslo_exporter_"))]

    first, second = values(Exporter(config)), values(Exporter(config))
    assert first == second and len(first) > 23 * 10
    assert 'dataslo_evaluations_total{outcome="fail",product="product_affinity",slo="orders_fresh"} 1.0' in first
