"""A spec starts small: `data_product: {id, owner}` and one SLO. Everything downstream copes with what the design card
does not say yet, and says it: validation, a check against a database of the test's own (not the generator's),
`slo tree`, `slo explain`, rules, dashboards, the report, /metrics and the Dagster definitions."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.defs.check_jobs import CHECK_JOB
from dagster_project.defs.factory import build_definitions
from dagster_project.exporter import names as n
from dagster_project.exporter.server import Exporter, ExporterConfig
from dagster_project.results.store import ResultsStore
from dagster_project.settings import BuildParams, Settings
from dagster_project.slo.card_gaps import missing_from_card
from dagster_project.slo.from_spec import slos_from_spec
from dagster_project.spec.validate import validate
from tests.cli_support import run_slo
from tests.conftest import AS_OF, BUILD_JOB, REPO
from tests.prometheus_support import binary

SPEC = REPO / "tests" / "specs" / "good" / "flights_minimal.yaml"
CHECKED_AT = "2026-11-27T06:00:00Z"
NOT_TRACED = "no use cases: SLOs are not traced to consumers"


def make_flights(db: Path) -> Path:
    """A flights table of our own shape: one departure an hour for 40 days, the newest an hour before CHECKED_AT."""
    with duckdb.connect(str(db)) as con:
        con.execute(
            """CREATE TABLE flights AS
            SELECT i AS flight_id, ['AA', 'DL', 'UA'][i % 3 + 1] AS carrier,
                   TIMESTAMP '2026-11-27 05:00:00' - i * INTERVAL 1 HOUR AS scheduled_at,
                   (i * 7) % 90 - 10 AS dep_delay_min
            FROM range(0, 24 * 40) t(i)"""
        )
    return db


@pytest.fixture
def checked(tmp_path: Path) -> tuple[Path, Path]:
    """(database, results store) after one `slo check` of the minimal spec at CHECKED_AT."""
    db, results = make_flights(tmp_path / "flights.duckdb"), tmp_path / "results.sqlite"
    run = run_slo(
        "check", "--slos", str(SPEC), "--db", str(db), "--results", str(results), "--as-of", CHECKED_AT, "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    (result,) = json.loads(run.stdout)["results"]
    assert (result["slo"], result["status"], result["observed"]) == ("flights_fresh", "ok", 3600.0)
    return db, results


def test_a_spec_with_only_an_id_an_owner_and_one_slo_is_valid_with_its_defaults() -> None:
    (loaded,), issues = validate([SPEC])
    assert issues == []
    card = loaded.spec.data_product
    assert (card.name, card.vision, card.goals, card.use_cases) == ("flights", None, [], [])
    assert (loaded.spec.north_star, loaded.spec.semantic_model) == (None, None)
    (slo,) = slos_from_spec(loaded.spec)
    assert slo.protects == ("data_product", "flights")  # traced to the product itself
    assert slo.windows_s == (28 * 86400,)  # the default budget period
    assert loaded.spec.slos[0].description is None


def test_the_shipped_card_is_complete_and_the_minimal_one_says_what_it_lacks() -> None:
    (shipped,), _ = validate([REPO / "slo_definitions"])
    assert missing_from_card(shipped.spec) == []
    (minimal,), _ = validate([SPEC])
    assert missing_from_card(minimal.spec) == [
        "no North Star declared",
        "no goals: nothing says what the product must achieve, so no SLO traces to a target",
        "no vision stated",
        NOT_TRACED,
        "SLOs protecting no goal or use case (traced to the product only): flights_fresh",
    ]


def test_tree_and_explain_of_a_minimal_spec_say_what_is_missing(checked: tuple[Path, Path], tmp_path: Path) -> None:
    _db, results = checked
    tree = run_slo("tree", "--slos", str(SPEC), "--results", str(results), cwd=tmp_path)
    assert tree.returncode == 0, tree.stderr
    assert tree.stdout.startswith(
        "flights (flights)\n"
        "data product flights (no North Star declared)  [1 ok]\n"
        "`- main.flights (read by no use case)  [1 ok]\n"
        "missing from the design card:\n"
        "  - no North Star declared\n"
    )
    assert NOT_TRACED in tree.stdout
    as_json = json.loads(run_slo("tree", "--slos", str(SPEC), "--results", str(results), "--json", cwd=tmp_path).stdout)
    assert as_json[0]["kind"] == "data_product" and NOT_TRACED in as_json[0]["missing"]
    explain = run_slo(
        "explain", "flights_fresh", "--slos", str(SPEC), "--results", str(results), "--json",
        "--as-of", "2026-11-27T07:00:00Z", cwd=tmp_path,
    )  # fmt: skip
    assert explain.returncode == 0, explain.stderr
    payload = json.loads(explain.stdout)
    assert payload["protects"] == {"kind": "data_product", "id": "flights"}
    assert ["data_product:flights", "dataset:main.flights"] in [
        [f"{node['kind']}:{node['id']}" for node in path] for path in payload["paths"]
    ]
    assert payload["latest"]["status"] == "ok" and payload["windows"][0]["window"] == "28d"


def test_rules_of_a_minimal_spec_pass_promtool(tmp_path: Path) -> None:
    run = run_slo("rules", "--slos", str(SPEC), "-o", str(tmp_path), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    rules = (tmp_path / "slo_rules.yml").read_text()
    assert "- name: dataslo-flights-flights_fresh\n" in rules  # its recording rules and burn-rate alerts
    assert "putting the data product flights at risk" in rules
    check = subprocess.run([binary("promtool"), "check", "rules", str(tmp_path / "slo_rules.yml")], capture_output=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_dashboards_of_a_minimal_spec_show_no_north_star_or_goals_panels(tmp_path: Path) -> None:
    run = run_slo("dashboards", "--slos", str(SPEC), "-o", str(tmp_path), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    owner = json.loads((tmp_path / "grafana" / "flights-owner.json").read_text())
    titles = [p["title"] for p in owner["panels"]]
    assert not [t for t in titles if t.startswith(("North Star", "Goals"))]
    assert "freshness: SLOs meeting objective (28d)" in titles  # one window: not "28d / 28d"
    assert all(p["gridPos"]["x"] + p["gridPos"]["w"] <= 24 for p in owner["panels"])
    oncall = json.loads((tmp_path / "grafana" / "flights-oncall.json").read_text())
    assert oncall["title"] == "flights - on-call"  # the name defaults to the id


def test_the_report_of_a_minimal_spec_says_what_the_card_is_missing(checked: tuple[Path, Path], tmp_path: Path) -> None:
    db, results = checked
    out = tmp_path / "report"
    run = run_slo(
        "report", "--slos", str(SPEC), "--db", str(db), "--results", str(results), "-o", str(out),
        "--as-of", "2026-11-27T07:00:00Z", cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    html = (out / "flights.html").read_text()
    missing = html[html.index("<div id='missing'>") :]
    missing = missing[: missing.index("</div>")]
    assert "no North Star declared" in missing and NOT_TRACED in missing
    assert "id='no-north-star'" in html and "id='north-star-value'" not in html
    assert "<td class='status-ok'>ok</td>" in html


def test_metrics_of_a_minimal_spec_carry_its_slo_and_no_north_star_or_goals(checked: tuple[Path, Path]) -> None:
    db, results = checked
    (loaded,), _ = validate([SPEC])
    config = ExporterConfig([loaded.spec], results, db, as_of=datetime(2026, 11, 27, 7, tzinfo=UTC))
    body = Exporter(config).refresh().decode()
    assert f'{n.OBJECTIVE_MET.name}{{product="flights",slo="flights_fresh",window="28d"}} 1.0' in body
    info = next(line for line in body.splitlines() if line.startswith(f"{n.SLO_INFO.name}_info{{"))
    assert 'protects="flights"' in info and 'protects_kind="data_product"' in info
    for metric in (n.NORTH_STAR_TARGET, n.NORTH_STAR_VALUE, n.GOAL_TARGET, n.GOAL_ACTUAL):
        assert f"\n{metric.name}{{" not in body, metric.name


def test_dagster_checks_a_product_without_use_cases_hourly(checked: tuple[Path, Path], tmp_path: Path) -> None:
    db, _ = checked
    settings = Settings(
        state_dir=tmp_path / "state",
        db_path=db,
        spec_paths=(SPEC,),
        results_db=tmp_path / "dagster.sqlite",
        build=BuildParams(as_of=AS_OF),  # CHECKED_AT
    )
    defs = build_definitions(settings)
    schedules = [s for s in defs.schedules or [] if isinstance(s, dg.ScheduleDefinition)]
    assert [(s.cron_schedule, s.job_name) for s in schedules] == [("0 * * * *", CHECK_JOB)]
    assert "flights (no use cases)" in (schedules[0].description or "")
    assert not [s for s in schedules if s.job_name == BUILD_JOB]  # no consumer asks for a build
    with dg.DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def(CHECK_JOB).execute_in_process(instance=instance, raise_on_error=False)
    assert result.success
    with ResultsStore(tmp_path / "dagster.sqlite") as store:
        (kept,) = store.evaluations(run_id=result.run_id)
    assert (kept.slo_id, kept.product, kept.passed) == ("flights_fresh", "flights", True)


def test_a_card_grown_halfway_is_traced_as_far_as_it_goes(tmp_path: Path) -> None:
    from dagster_project.slo.chain import paths_to, render, tree

    text = (
        SPEC.read_text().replace(
            "  owner: ops-analytics\n",
            "  owner: ops-analytics\n"
            "  use_cases:\n"
            "    - id: delay_dashboard\n"
            "      consumers: [operations]\n"
            "      datasets: [main.flights]\n"
            "      usage: {frequency: daily, users: [BI], update_cadence: '0 5 * * *'}\n",
        )
        + "    protects: {use_case: delay_dashboard}\n"
    )
    (tmp_path / "spec.yaml").write_text(text)
    (loaded,), issues = validate([tmp_path / "spec.yaml"])
    assert issues == []
    root = tree(loaded.spec, {}, {"flights_fresh": "ok"})
    assert render(root).splitlines() == [
        "data product flights (no North Star declared)",
        "`- use case delay_dashboard (daily; operations)  [1 ok]",
        "   `- main.flights  [1 ok]",
    ]
    (slo,) = slos_from_spec(loaded.spec)
    assert [[node.id for node in path] for path in paths_to(root, slo)] == [
        ["flights", "delay_dashboard"],
        ["flights", "delay_dashboard", "main.flights"],
    ]
    gaps = missing_from_card(loaded.spec)
    assert NOT_TRACED not in gaps and "no North Star declared" in gaps
