"""The exporter's history: read from the store incrementally, each row judged as it was when it ran (a freshness
rollback charged, a loosened threshold not rewriting the past), and two exporters on one store export the same
values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dagster_project.exporter.history import History, StoreGone
from dagster_project.exporter.server import Exporter, ExporterConfig
from dagster_project.results.address import PostgresUrl, StoreAddress
from dagster_project.results.store import record
from dagster_project.spec.validate import validate
from tests.conftest import REPO
from tests.server_support import PostgresCluster


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
    assert first == second and len(first) > 31 * 10
    assert 'dataslo_evaluations_total{outcome="fail",product="product_affinity",slo="orders_fresh"} 1.0' in first


def _freshness(at: datetime, age_h: float, threshold_h: float = 24) -> dict[str, object]:
    observed = age_h * 3600
    return {
        "slo": "orders_fresh",
        "product": "product_affinity",
        "dimension": "freshness",
        "dataset": "raw.orders",
        "indicator": "max_age",
        "objective": 0.99,
        "observed": observed,
        "threshold": {"bound": "max", "value": threshold_h * 3600},
        "passed": observed <= threshold_h * 3600,
        "severity": "error",
        "engine": "native",
        "error": None,
    }


def _exported(store: Path, now: datetime, threshold: str | None = None) -> dict[str, float]:
    """The shipped spec's orders_fresh series as `slo serve` exports them at `now` (optionally with the spec's
    threshold changed to `threshold`)."""
    specs, _ = validate([REPO / "slo_definitions"])
    spec = specs[0].spec
    if threshold is not None:
        slos = [
            s.model_copy(update={"threshold": s.threshold.model_copy(update={"max": threshold})})
            if s.id == "orders_fresh"
            else s
            for s in spec.slos
        ]
        spec = spec.model_copy(update={"slos": slos})
    body = Exporter(ExporterConfig([spec], store, database=None)).refresh(now=now.timestamp()).decode()
    out = {}
    for line in body.splitlines():
        if 'slo="orders_fresh"' in line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def test_a_freshness_rollback_is_charged_in_the_exported_budget(tmp_path: Path) -> None:
    # Hourly checks of fresh data (age 1h..10h), then a restore from an old backup: every check sees 72h-old data.
    store = tmp_path / "r.sqlite"
    t0 = datetime(2026, 11, 20, 0, tzinfo=UTC)
    for hour in range(10):
        record(store, f"ok{hour}", t0 + timedelta(hours=hour), [_freshness(t0 + timedelta(hours=hour), 1 + hour)])
    for hour in range(10, 13):
        record(store, f"old{hour}", t0 + timedelta(hours=hour), [_freshness(t0 + timedelta(hours=hour), 72 + hour)])
    values = _exported(store, t0 + timedelta(hours=13))
    labels = 'product="product_affinity",slo="orders_fresh"'
    assert values[f"dataslo_check_passed{{{labels}}}"] == 0.0
    # Bad from the first failing check (10h): 3 of the 13 known hours.
    assert values[f'dataslo_sli_error_ratio{{{labels},window="28d"}}'] == pytest.approx(3 / 13)
    assert values[f'dataslo_objective_met{{{labels},window="7d"}}'] == 0.0
    assert values[f'dataslo_error_budget_remaining_ratio{{{labels},window="7d"}}'] == pytest.approx(1 - (3 / 13) / 0.01)


def test_a_loosened_threshold_does_not_rewrite_the_past(tmp_path: Path) -> None:
    # Judged by 24h, the data was stale from 23h to 30h; loosening the spec to 48h afterwards changes nothing.
    store = tmp_path / "r.sqlite"
    t0 = datetime(2026, 11, 20, 0, tzinfo=UTC)
    record(store, "a", t0, [_freshness(t0, 1)])
    record(store, "b", t0 + timedelta(hours=30), [_freshness(t0 + timedelta(hours=30), 31, threshold_h=48)])
    now = t0 + timedelta(hours=40)
    as_judged, loosened = _exported(store, now), _exported(store, now, threshold="48h")
    budget_key = 'dataslo_error_budget_remaining_ratio{product="product_affinity",slo="orders_fresh",window="7d"}'
    assert as_judged[budget_key] == pytest.approx(1 - (7 / 40) / 0.01)
    assert {k: v for k, v in loosened.items() if "threshold" not in k} == {
        k: v for k, v in as_judged.items() if "threshold" not in k
    }


def test_rows_written_before_the_store_kept_the_indicator_take_it_from_the_spec(tmp_path: Path) -> None:
    store = tmp_path / "r.sqlite"
    t0 = datetime(2026, 11, 20, 0, tzinfo=UTC)
    old = {k: v for k, v in _freshness(t0, 1).items() if k not in ("indicator", "objective")}
    record(store, "a", t0, [old])
    end = (t0 + timedelta(hours=24)).timestamp()
    as_freshness = History(store, {"orders_fresh": "max_age"})
    as_freshness.refresh()
    assert as_freshness.slos["orders_fresh"].time(t0.timestamp(), end) == (23 * 3600, 24 * 3600)
    unknown = History(store)  # without the spec's word, a passed check holds until the next one
    unknown.refresh()
    assert unknown.slos["orders_fresh"].time(t0.timestamp(), end) == (24 * 3600, 24 * 3600)


# --- The same history from a PostgreSQL store (results/postgres.py).


def _postgres_store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> PostgresUrl:
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    monkeypatch.setenv("PGPASSWORD", cluster.password)
    return PostgresUrl(cluster.url(cluster.create_database()))


def test_history_on_postgresql_reads_only_new_rows_and_reads_a_store_made_again_from_the_start(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _postgres_store(request, monkeypatch)
    history = History(url)
    assert history.refresh() == 0  # an empty database: an empty history (and now a store)
    record(url, "r1", datetime(2026, 11, 27, 6, tzinfo=UTC), [_result("a", True), _result("b", False)])
    assert history.refresh() == 2
    record(url, "r2", datetime(2026, 11, 27, 7, tzinfo=UTC), [_result("a", None)])
    assert history.refresh() == 1 and history.rows == 3
    assert history.slos["a"].totals == {"pass": 1, "fail": 0, "error": 1}
    import psycopg

    with psycopg.connect(url.url, autocommit=True) as con:  # the store dropped and made again, with more rows
        con.execute("DROP TABLE evaluations, slo_results_store")
    for i in range(4):
        record(url, f"n{i}", datetime(2026, 11, 27, 8, tzinfo=UTC), [_result("a", False)])
    assert history.refresh() == 4 and history.slos["a"].totals == {"pass": 0, "fail": 4, "error": 0}
    assert "b" not in history.slos


def test_the_exporter_and_the_report_give_the_same_numbers_from_sqlite_and_from_its_postgresql_copy(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster_project.report.build import reports
    from dagster_project.results.maintenance import copy_store

    specs, _ = validate([REPO / "slo_definitions"])
    lite, url = tmp_path / "r.sqlite", _postgres_store(request, monkeypatch)
    for hour in range(6):
        results = [_result(s.id, [True, False, None][(hour + k) % 3]) for k, s in enumerate(specs[0].spec.slos)]
        record(lite, f"r{hour}", datetime(2026, 11, 27, hour, tzinfo=UTC), results)
    copy_store(lite, url)
    now = datetime(2026, 11, 27, 12, tzinfo=UTC)

    def values(store: StoreAddress) -> list[str]:
        body = Exporter(ExporterConfig([s.spec for s in specs], store, database=None)).refresh(now.timestamp())
        return [line for line in body.decode().splitlines() if line and not line.startswith(("#", "dataslo_exporter_"))]

    from_sqlite, from_postgres = values(lite), values(url)
    assert from_sqlite == from_postgres and len(from_sqlite) > 31 * 10
    spec_files = [s.spec for s in specs]
    assert reports(spec_files, lite, now, None, None) == reports(spec_files, url, now, None, None)


def test_a_run_that_commits_after_a_higher_numbered_one_is_still_read_by_an_incremental_reader(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL numbers rows when they are inserted, not when they commit: run A takes seq 2 and is still open when
    run B would take seq 3. Were B to commit first, a reader would move past 3 and never read A's row; appends are
    therefore serialised (B waits for A), so the reader misses nothing."""
    import threading

    from dagster_project.results import postgres as pg
    from dagster_project.results.store import INSERT_COLUMNS

    url = _postgres_store(request, monkeypatch)
    when = datetime(2026, 11, 27, 6, tzinfo=UTC)
    record(url, "first", when, [_result("a", True)])
    history = History(url)
    assert history.refresh() == 1
    row = ("A", "a", "product_affinity", "validity", "raw.orders", when.timestamp(), when.timestamp(), 0.5, "min",
           0.99, 0, "error", "native", None, None, None, None, None, "FAIL", None)  # fmt: skip
    late = threading.Thread(target=record, args=(url, "B", when, [_result("b", False)]))
    with pg.connect(url) as con, pg.transaction(con, "writers"):
        pg.insert(con, INSERT_COLUMNS, [row])  # run A: inserted, numbered, not committed
        late.start()
        late.join(timeout=1.0)  # B either waits for A (serialised) or commits now (the bug)
        history.refresh()  # whatever is committed by now
    late.join()
    history.refresh()
    assert history.rows == 3 and history.slos["a"].totals == {"pass": 1, "fail": 1, "error": 0}
