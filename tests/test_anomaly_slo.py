"""The anomaly indicator (issue 14, point 7) end to end: a metric of the data (here yesterday's orders, a row count
over a one-day partition) is judged against its own values at the SLO's earlier evaluations in the results store -
learning first, then normal through a weekly pattern, then a volume drop flagged - with the expected value, the band
and the score kept with each result, exported for Grafana and shown by `slo check`."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

from dagster_project.checking import check_slos
from dagster_project.engines.adapter import EngineAdapter
from dagster_project.engines.duckdb_adapter import open_adapter
from dagster_project.engines.evaluate import evaluate
from dagster_project.exporter import names as n
from dagster_project.exporter.server import Exporter, ExporterConfig
from dagster_project.indicators.base import History, Previous
from dagster_project.results.store import ResultsStore, record
from dagster_project.slo.from_spec import slos_from_spec
from dagster_project.slo.plan import compile_plan
from dagster_project.spec.validate import validate
from tests.cli_support import run_slo
from tests.conftest import REPO
from tests.server_support import PostgresCluster, copied_to_servers

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SPEC = REPO / "tests" / "specs" / "good" / "orders_anomaly.yaml"
FIRST_DAY = datetime(2026, 9, 1)  # a Tuesday
DAYS = 50


def _orders_on(day: int) -> int:
    """Weekdays about 200 orders, weekends about 80, a slight trend, noise of up to 2.5% either way (relative: the
    detector's model); the last day drops to 30%."""
    date = FIRST_DAY + timedelta(days=day)
    base = 80 if date.weekday() >= 5 else 200
    noise = (int(hashlib.sha256(str(day).encode()).hexdigest(), 16) % 11 - 5) / 200
    count = round(base * (1 + day / 500) * (1 + noise))
    return int(count * 0.3) if day == DAYS - 1 else count


def _make_orders(db: Path) -> None:
    rows = [(day, k) for day in range(DAYS) for k in range(_orders_on(day))]
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE daily_orders (order_id BIGINT, ordered_at TIMESTAMP)")
        con.executemany(
            "INSERT INTO daily_orders VALUES (?, ?)",
            [(i, FIRST_DAY + timedelta(days=day, minutes=7 * k % 1440)) for i, (day, k) in enumerate(rows)],
        )


def _check_day(day: int, db: Path, results: Path) -> dict[str, object]:
    """The check at the midnight after `day` (its partition is that day), recorded as `slo check` records it."""
    (loaded,), _ = validate([SPEC])
    as_of = (FIRST_DAY + timedelta(days=day + 1)).replace(tzinfo=UTC)
    run = check_slos(slos_from_spec(loaded.spec), as_of, db, store=results)
    record(results, f"day-{day}", as_of, run.results)
    (result,) = run.results
    return result


@pytest.fixture
def replayed(tmp_path: Path) -> tuple[Path, Path, list[dict[str, object]]]:
    db, results = tmp_path / "orders.duckdb", tmp_path / "results.sqlite"
    _make_orders(db)
    return db, results, [_check_day(day, db, results) for day in range(DAYS - 1)]


def test_an_anomaly_slo_learns_then_judges_a_weekly_pattern_as_normal(
    replayed: tuple[Path, Path, list[dict[str, object]]],
) -> None:
    _, _, days = replayed
    kept = [d["kept"] for d in days]
    assert [k["value"] for k in kept] == [float(_orders_on(d)) for d in range(DAYS - 1)]  # type: ignore[index]
    learning = [d for d in days if d["kept"]["verdict"] == "learning"]  # type: ignore[index]
    assert len(learning) == 14 and all(d["observed"] == 0.0 and d["status"] == "ok" for d in learning)
    assert "learning: " in str(learning[0]["detail"])
    judged = days[14:]
    assert all(d["kept"]["verdict"] == "normal" and d["status"] == "ok" for d in judged), [  # type: ignore[index]
        (d["detail"], d["observed"]) for d in judged if d["status"] != "ok"
    ]
    saturday = next(d for d, day in zip(judged, range(14, DAYS - 1), strict=True) if _orders_on(day) < 120)
    assert saturday["kept"]["expected"] < 120  # type: ignore[index]  # the weekend dip is expected, not flagged


def test_a_volume_drop_is_an_anomaly_with_its_band_kept_exported_and_shown(
    replayed: tuple[Path, Path, list[dict[str, object]]], tmp_path: Path
) -> None:
    db, results, _ = replayed
    as_of = (FIRST_DAY + timedelta(days=DAYS)).replace(tzinfo=UTC)
    run = run_slo(
        "check", "--slos", str(SPEC), "--db", str(db), "--results", str(results), "--json",
        "--as-of", as_of.isoformat().replace("+00:00", "Z"), cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 1, run.stderr  # an error SLO failed
    (drop,) = json.loads(run.stdout)["results"]
    kept = drop["kept"]
    assert (drop["status"], kept["verdict"], kept["value"]) == ("FAIL", "anomalous", float(_orders_on(DAYS - 1)))
    assert drop["observed"] > 4 and kept["score"] < -4  # a drop: below the band, more than 4 noise scales out
    assert kept["low"] > kept["value"] and kept["low"] < kept["expected"] < kept["high"]
    assert drop["detail"].startswith(f"anomalous: {kept['value']:g} against ")
    with ResultsStore(results) as store:
        latest = store.latest()["daily_orders_normal"]
    assert latest.extra["kept"] == kept and latest.level == "FAIL"

    (loaded,), _ = validate([SPEC])
    body = Exporter(ExporterConfig([loaded.spec], results, db, as_of=as_of)).refresh().decode()
    ids = 'product="orders_watch",slo="daily_orders_normal"'
    assert f"{n.ANOMALY_VALUE.name}{{{ids}}} {kept['value']}" in body
    assert f"{n.ANOMALY_EXPECTED.name}{{{ids}}} {kept['expected']}" in body
    assert f'{n.ANOMALY_BAND.name}{{bound="min",{ids}}} {kept["low"]}' in body
    assert f'{n.ANOMALY_BAND.name}{{bound="max",{ids}}} {kept["high"]}' in body


def test_an_anomaly_without_a_results_store_is_an_error_not_a_pass(tmp_path: Path) -> None:
    db = tmp_path / "orders.duckdb"
    _make_orders(db)
    run = run_slo(
        "check", "--slos", str(SPEC), "--db", str(db), "--no-record", "--json", "--results",
        str(tmp_path / "none.sqlite"), "--as-of", "2026-10-01T00:00:00Z", cwd=tmp_path,
    )  # fmt: skip
    (result,) = json.loads(run.stdout)["results"]
    assert result["status"] == "ERROR" and "no results store to learn from" in result["error"]


@pytest.mark.parametrize(
    ("threshold", "message"),
    [
        ("{min: 4}", "an anomaly's threshold is its sensitivity: give only max, a number above 0 (e.g. {max: 4.5})"),
        ("{max: 0}", "an anomaly's threshold is its sensitivity: give only max, a number above 0 (e.g. {max: 4.5})"),
    ],
)
def test_an_anomaly_threshold_other_than_a_positive_max_is_refused_at_its_line(
    tmp_path: Path, threshold: str, message: str
) -> None:
    text = SPEC.read_text().replace("threshold: {max: 4}\n    warn: {max: 3}", f"threshold: {threshold}")
    spec = tmp_path / "bad.yaml"
    spec.write_text(text)
    _, issues = validate([spec])
    assert [(i.path, i.message) for i in issues] == [("slos.0.threshold", message)]
    assert issues[0].line == text.splitlines().index(f"    threshold: {threshold}") + 1


def test_an_anomaly_watches_only_a_metric_measured_in_its_datasets_scan(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(SPEC.read_text().replace("metric: {type: row_count}", "metric: {type: custom_sql, sql: SELECT 1}"))
    _, issues = validate([spec])
    assert len(issues) == 1 and issues[0].path == "slos.0.indicator.metric" and issues[0].line == 14
    assert "custom_sql" in issues[0].message and "row_count" in issues[0].message


@pytest.mark.heavy
def test_an_anomaly_is_judged_the_same_on_duckdb_postgres_and_spark(
    tmp_path: Path, postgres: PostgresCluster, spark: SparkSession
) -> None:
    db = tmp_path / "orders.duckdb"
    _make_orders(db)
    (loaded,), _ = validate([SPEC])
    slos = slos_from_spec(loaded.spec)
    plan = compile_plan(slos)
    as_of = FIRST_DAY + timedelta(days=DAYS)  # the day of the drop, naive UTC
    history = {
        slos[0].id: History(
            tuple(
                Previous((FIRST_DAY + timedelta(days=d + 1)).replace(tzinfo=UTC), 0.0, "ok", {"value": _orders_on(d)})
                for d in range(DAYS - 1)
            )
        )
    }

    def judged(adapter: EngineAdapter) -> tuple[float | None, str | None, dict[str, object]]:
        (e,) = evaluate(adapter, plan, as_of, history)
        return e.observed, e.detail, dict(e.kept or {})

    with open_adapter(db) as duck:
        on_duckdb = judged(duck)
    assert on_duckdb[2]["verdict"] == "anomalous" and on_duckdb[2]["value"] == _orders_on(DAYS - 1)
    with copied_to_servers(db, postgres, spark, tmp_path / "spark-tables") as (pg, on_spark_adapter):
        on_postgres = judged(pg)
        on_spark = judged(on_spark_adapter)
    assert on_spark == on_postgres == on_duckdb
