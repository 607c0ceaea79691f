"""`slo init`: a starter spec from a database it did not write - profiled read-only, thresholds from what was
observed - that validates and passes `slo check` there; on a shape the generator does not produce (flights and
events built here) and on the sample data build."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from dagster_project.errors import EXIT_OK, EXIT_USAGE
from dagster_project.scaffold.starter import duration_up, ratio_down, widened_range
from dagster_project.settings import Settings
from tests.cli_support import run_slo
from tests.conftest import AS_OF

FLIGHTS_AS_OF = datetime(2014, 1, 1, tzinfo=UTC)
AS_OF_TEXT = "2014-01-01T00:00:00Z"
CARRIERS = ["UA", "AA", "DL", "B6", "EV"]


def make_flights(path: Path, *, delay_nulls: bool = False, newest_age: timedelta = timedelta(hours=2)) -> Path:
    """A flights table (dep_time timestamps, carrier codes, nullable delays) and an events table in a schema of
    its own: 3,000 flights 14 minutes apart, the newest `newest_age` before FLIGHTS_AS_OF; with `delay_nulls`,
    every 20th dep_delay (5%) is missing."""
    newest = (FLIGHTS_AS_OF - newest_age).replace(tzinfo=None)
    carriers = "[" + ", ".join(f"'{c}'" for c in CARRIERS) + "]"
    con = duckdb.connect(str(path))
    try:
        con.execute(
            f"""CREATE TABLE flights AS SELECT
                {carriers}[1 + i % 5] AS carrier,
                (i % 250)::INTEGER AS flight,
                TIMESTAMP '{newest:%Y-%m-%d %H:%M:%S}' - INTERVAL (i * 14) MINUTE AS dep_time,
                ['JFK', 'LGA', 'EWR'][1 + i % 3] AS origin,
                CASE WHEN {str(delay_nulls).lower()} AND i % 20 = 0 THEN NULL
                     ELSE ((i * 37) % 200 - 60)::DOUBLE END AS dep_delay,
                (200 + (i * 53) % 2300)::INTEGER AS distance
            FROM range(3000) t(i)"""
        )
        con.execute("CREATE SCHEMA app")
        con.execute(
            f"""CREATE TABLE app.events AS SELECT
                i AS event_id,
                i % 97 AS user_id,
                ['view', 'click', 'buy'][1 + i % 3] AS kind,
                TIMESTAMPTZ '{newest:%Y-%m-%d %H:%M:%S}+00' - INTERVAL (i * 7) MINUTE AS happened_at,
                ((i % 50) * 1.25)::DECIMAL(10, 2) AS amount
            FROM range(4000) t(i)"""
        )
    finally:
        con.close()
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def init(cwd: Path, db: Path, out: Path, *extra: str) -> Any:
    return run_slo("init", "--db", str(db), "-o", str(out), *extra, cwd=cwd, timeout=300)


def check_json(cwd: Path, db: Path, spec: Path, as_of: str | None) -> tuple[int, list[dict[str, Any]]]:
    when = ["--as-of", as_of] if as_of else []
    result = run_slo("check", "--db", str(db), "--slos", str(spec), "--json", "--no-record", *when, cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)["results"]


def slos_of(spec: Path) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in yaml.safe_load(spec.read_text())["slos"]}


def assert_validates_without_warnings(cwd: Path, db: Path, spec: Path) -> None:
    result = run_slo("validate", str(spec), "--db", str(db), cwd=cwd)
    assert result.returncode == EXIT_OK, result.stdout + result.stderr
    assert "warning" not in result.stdout, result.stdout


def assert_every_slo_explained(spec: Path) -> None:
    lines = spec.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("  - id: "):
            assert lines[i - 1].startswith("  # "), f"{line.strip()} has no comment saying where its threshold is from"


def test_the_starter_spec_of_a_foreign_database_validates_and_passes_there(tmp_path: Path) -> None:
    db = make_flights(tmp_path / "flights.duckdb")
    before = sha256(db)
    out = tmp_path / "specs" / "flights.yaml"
    result = init(tmp_path, db, out, "--as-of", AS_OF_TEXT, "--owner", "data-team")
    assert result.returncode == EXIT_OK, result.stderr
    assert_validates_without_warnings(tmp_path, db, out)
    code, results = check_json(tmp_path, db, out, AS_OF_TEXT)
    assert code == EXIT_OK
    assert [(r["slo"], r["observed"], r["error"]) for r in results if r["status"] != "ok"] == []
    slos = slos_of(out)
    kinds = {s["indicator"]["type"] for s in slos.values()}
    expected = {"schema", "max_age", "not_in_future", "row_volume", "non_null_ratio", "uniqueness", "in_range"}
    assert kinds >= expected | {"in_set", "no_pii"}
    assert slos["events_event_id_unique"]["indicator"]["columns"] == ["event_id"]
    assert slos["flights_schema"]["indicator"]["columns"]["dep_time"] == "TIMESTAMP"
    assert yaml.safe_load(out.read_text())["data_product"] == {"id": "flights", "owner": "data-team"}
    assert_every_slo_explained(out)
    assert sha256(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flights.duckdb", "specs"]  # no .wal, no .tmp beside it


def test_the_starter_spec_names_only_the_product_and_its_owner_and_hints_the_rest_in_comments(tmp_path: Path) -> None:
    db = make_flights(tmp_path / "flights.duckdb")
    out = tmp_path / "flights.yaml"
    assert init(tmp_path, db, out, "--as-of", AS_OF_TEXT).returncode == EXIT_OK
    text = out.read_text()
    spec = yaml.safe_load(text)
    assert sorted(spec) == ["data_product", "slos", "version"]
    assert spec["data_product"] == {"id": "flights", "owner": "TODO"}  # no --owner: a placeholder, said in a comment
    assert not [s["id"] for s in spec["slos"] if "protects" in s]  # nothing to protect but the product itself
    assert "todo_" not in text.lower()
    # What to add next, right to left, as comments only (the data above holds none of it).
    lines = text.splitlines()
    hint = lines[lines.index('  owner: "TODO"  # TODO: the owning team (the `team` label of its alerts)') + 1 :]
    hint = hint[: hint.index("slos:")]
    assert hint and all(line.startswith("  # ") for line in hint)
    assert "docs/writing-slos.md" in hint[0]
    words = "\n".join(hint)
    assert words.index("use_cases") < words.index("update_cadence") < words.index("goals") < words.index("north_star")
    # docs/writing-slos.md shows this part as it is written.
    docs = (Path(__file__).parents[1] / "docs" / "writing-slos.md").read_text()
    shown = re.search(r"```\n(data_product:\n.*?)```", docs, re.DOTALL)
    assert shown is not None and shown.group(1) in text


def test_a_database_without_timestamps_gets_a_starter_spec_that_validates_and_passes(tmp_path: Path) -> None:
    db = tmp_path / "plain.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(
            "CREATE TABLE items AS SELECT range AS id, ['small', 'large'][1 + range % 2] AS size, "
            "(range % 7) * 1.5 AS price FROM range(50)"
        )
    before = sha256(db)
    out = tmp_path / "plain.yaml"
    result = init(tmp_path, db, out, "--owner", "shop")
    assert result.returncode == EXIT_OK, result.stderr
    assert_validates_without_warnings(tmp_path, db, out)
    code, results = check_json(tmp_path, db, out, None)
    assert code == EXIT_OK
    assert [(r["slo"], r["observed"], r["error"]) for r in results if r["status"] != "ok"] == []
    kinds = {s["indicator"]["type"] for s in slos_of(out).values()}
    assert kinds == {"schema", "non_null_ratio", "uniqueness", "in_range", "in_set", "no_pii"}
    assert "main.items: no timestamp or date column with values: no freshness or volume SLO" in out.read_text()
    assert sha256(db) == before


def test_thresholds_follow_the_data(tmp_path: Path) -> None:
    clean, holey = tmp_path / "clean", tmp_path / "holey"
    for folder, nulls, age in ((clean, False, timedelta(hours=2)), (holey, True, timedelta(hours=5))):
        folder.mkdir()
        db = make_flights(folder / "flights.duckdb", delay_nulls=nulls, newest_age=age)
        assert init(folder, db, folder / "spec.yaml", "--as-of", AS_OF_TEXT).returncode == EXIT_OK
    a, b = slos_of(clean / "spec.yaml"), slos_of(holey / "spec.yaml")
    # No nulls: dep_delay is among the columns required at 1.0. 5% nulls: its own SLO, at twice the null share.
    assert "dep_delay" in a["flights_complete"]["indicator"]["columns"]
    assert "flights_dep_delay_present" not in a
    assert "dep_delay" not in b["flights_complete"]["indicator"]["columns"]
    assert b["flights_dep_delay_present"]["threshold"] == {"min": 0.9}
    assert "150 of 3,000 null (5.00%)" in (holey / "spec.yaml").read_text()
    # Freshness: twice the observed age (2h -> 4h, 5h -> 10h), said in the comment.
    assert a["flights_fresh"]["threshold"] == {"max": "4h"}
    assert b["flights_fresh"]["threshold"] == {"max": "10h"}
    assert "observed max age 5h at 2014-01-01 00:00:00Z" in (holey / "spec.yaml").read_text()
    # One observation of a fresh table says little about its cadence: never below an hour.
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    db = make_flights(fresh / "flights.duckdb", newest_age=timedelta(minutes=10))
    assert init(fresh, db, fresh / "spec.yaml", "--as-of", AS_OF_TEXT).returncode == EXIT_OK
    assert slos_of(fresh / "spec.yaml")["flights_fresh"]["threshold"] == {"max": "1h"}
    assert "observed max age 10m at 2014-01-01 00:00:00Z" in (fresh / "spec.yaml").read_text()
    assert "threshold 2x, raised to 1h" in (fresh / "spec.yaml").read_text()
    # Categories and ranges are what the data holds.
    assert sorted(a["flights_carrier_known"]["indicator"]["values"]) == sorted(CARRIERS)
    delay = a["flights_dep_delay_in_range"]["indicator"]
    assert delay["min"] <= -60 and delay["max"] >= 139 and (delay["min"], delay["max"]) != (-60, 139)
    distance = a["flights_distance_in_range"]["indicator"]
    assert distance["min"] == 0 and distance["max"] >= 2499  # never negative: the bound stays at 0
    # And the spec written for data with holes passes on it.
    code, _results = check_json(holey, holey / "flights.duckdb", holey / "spec.yaml", AS_OF_TEXT)
    assert code == EXIT_OK


def test_historical_data_gets_no_freshness_slo_unless_judged_as_of_its_time(tmp_path: Path) -> None:
    db = make_flights(tmp_path / "flights.duckdb")
    out = tmp_path / "now.yaml"
    assert init(tmp_path, db, out).returncode == EXIT_OK  # as of now: the newest flight is years old
    assert not [s for s in slos_of(out).values() if s["indicator"]["type"] == "max_age"]
    assert "historical data? no freshness SLO" in out.read_text()
    code, _results = check_json(tmp_path, db, out, None)
    assert code == EXIT_OK


def test_an_existing_output_file_is_never_overwritten(tmp_path: Path) -> None:
    db = make_flights(tmp_path / "flights.duckdb")
    out = tmp_path / "mine.yaml"
    out.write_text("my own spec\n")
    result = init(tmp_path, db, out)
    assert result.returncode == EXIT_USAGE
    assert result.stderr == f"error: -o: {out} exists; slo init never overwrites a file: choose another name\n"
    assert out.read_text() == "my own spec\n"


def test_usage_errors_name_what_is_wrong_and_write_nothing(tmp_path: Path) -> None:
    db = make_flights(tmp_path / "flights.duckdb")
    out = tmp_path / "out.yaml"
    for args, message in [
        (("--db", str(tmp_path / "missing.duckdb")), "missing.duckdb is not a file"),
        (("--db", str(db), "--tables", "main.nope"), "--tables: main.nope not in"),
        (("--db", str(db), "--product", "My Flights"), "--product: 'My Flights' is not an id"),
    ]:
        result = run_slo("init", *args, "-o", str(out), cwd=tmp_path)
        assert result.returncode == EXIT_USAGE, (args, result.stderr)
        assert message in result.stderr
        assert "Traceback" not in result.stderr
        assert not out.exists()
    assert not (tmp_path / "missing.duckdb").exists()


def test_the_starter_spec_of_the_sample_build_validates_and_passes_there(
    tmp_path: Path, built_product: Settings
) -> None:
    db, landing = built_product.database, built_product.landing_database
    before = (sha256(db), sha256(landing))
    out = tmp_path / "sample.yaml"
    as_of = AS_OF.isoformat()
    result = init(tmp_path, db, out, "--as-of", as_of, "--product", "sample")
    assert result.returncode == EXIT_OK, result.stderr
    assert_validates_without_warnings(tmp_path, db, out)
    code, results = check_json(tmp_path, db, out, as_of)
    assert code == EXIT_OK
    assert [(r["slo"], r["observed"], r["error"]) for r in results if r["status"] != "ok"] == []
    slos = slos_of(out)
    datasets = {s["dataset"] for s in slos.values()}
    assert {"raw.orders", "staging.order_lines", "product_affinity.product_pair_affinity"} <= datasets
    assert not any(d.startswith("build_log.") for d in datasets)  # the service's own log is not the product
    keys = {s["dataset"]: s["indicator"]["columns"] for s in slos.values() if s["indicator"]["type"] == "uniqueness"}
    assert keys["raw.order_items"] == ["order_id", "line_number"]  # no single column: the first pair that is one
    assert keys["raw.orders"] == ["order_id"]
    assert keys["product_affinity.product_pair_affinity"] == ["product_a", "product_b"]
    # raw.customers holds e-mail addresses: said, and no no_pii SLO that would fail on it.
    pii = {s["dataset"] for s in slos.values() if s["indicator"]["type"] == "no_pii"}
    assert "raw.customers" not in pii and "staging.customers" in pii
    assert "raw.customers: " in out.read_text() and "look like e-mail addresses or phone numbers" in out.read_text()
    assert_every_slo_explained(out)
    assert (sha256(db), sha256(landing)) == before


@pytest.mark.parametrize(
    ("low", "high", "integer", "expected"),
    [
        (201, 2500, True, (0, 4000)),  # never negative: stays at 0
        (-60, 139, False, (-160, 240)),
        (0.5, 0.9, False, (0.3, 1.1)),
        (7, 7, True, (3, 11)),  # no span: half the value
        (-5, -1, True, (-7, 0)),  # never positive: stays at 0
    ],
)
def test_ranges_widen_by_half_their_span_rounded_outward(
    low: float, high: float, integer: bool, expected: tuple[float, float]
) -> None:
    assert widened_range(low, high, integer) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(60, "5m"), (301, "10m"), (3600, "1h"), (3601, "2h"), (7201, "3h"), (172_800, "48h"), (172_801, "3d")],
)
def test_durations_round_up(seconds: float, expected: str) -> None:
    assert duration_up(seconds) == expected


def test_ratios_round_down_so_the_observed_value_meets_them() -> None:
    assert ratio_down(1 - 2 * 0.05) == 0.9
    assert ratio_down(0.97539) == 0.975
    assert ratio_down(-0.2) == 0.0


def test_profiling_queries_run_under_the_time_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from contextlib import contextmanager

    from dagster_project.engines import duckdb_adapter
    from dagster_project.engines.time_limit import QueryTimedOut
    from dagster_project.scaffold import profile

    limits: list[float] = []

    @contextmanager
    def expired(con: object, seconds: float) -> Any:
        limits.append(seconds)
        raise QueryTimedOut(seconds)
        yield

    db = make_flights(tmp_path / "flights.duckdb")
    monkeypatch.setattr(duckdb_adapter, "time_limit", expired)
    with pytest.raises(profile.ProfileError) as caught:
        profile.profile_database(db, FLIGHTS_AS_OF, ["main.flights"], timeout_s=42)
    assert str(caught.value) == (
        "profiling main.flights timed out after 42s; name fewer tables (--tables) or allow more (--timeout)"
    )
    assert limits == [42]


def test_names_yaml_would_misread_or_a_spec_cannot_hold_are_handled(tmp_path: Path) -> None:
    db = tmp_path / "no.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(
            """CREATE TABLE "on" AS SELECT i AS "no", TIMESTAMP '2013-12-31 20:00:00' - INTERVAL (i) HOUR AS "Yes",
               ['a', 'b'][1 + i % 2] AS "null", i * 2 AS "bad name", NULL::INTEGER AS empty
               FROM range(100) t(i)"""
        )
    out = tmp_path / "spec.yaml"
    result = init(tmp_path, db, out, "--as-of", AS_OF_TEXT)
    assert result.returncode == EXIT_OK, result.stderr
    spec = yaml.safe_load(out.read_text())
    assert spec["data_product"]["id"] == "no"
    slos = {s["id"]: s for s in spec["slos"]}
    assert slos["on_schema"]["indicator"]["columns"] == {
        "no": "BIGINT",
        "Yes": "TIMESTAMP",
        "null": "VARCHAR",
        "empty": "INTEGER",
    }
    assert slos["on_no_unique"]["indicator"]["columns"] == ["no"]
    assert slos["on_fresh"]["indicator"]["column"] == "Yes"
    assert "not profiled, their names cannot be written in a spec: bad name" in out.read_text()
    assert "empty: 100 of 100 null (100.00%): no completeness SLO" in out.read_text()
    code, _results = check_json(tmp_path, db, out, AS_OF_TEXT)
    assert code == EXIT_OK
