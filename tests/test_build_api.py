"""A product's build is declared by its spec and reached only through the public build API; a product without one is
check-only: Dagster gets checks and check schedules for it, never a job or asset that writes, and `slo run` refuses
it (issue 12, points 1 and 2: the "data loss" scenario)."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.build_api import Build, load_build
from dagster_project.defs.check_jobs import CHECK_JOB
from dagster_project.defs.factory import build_definitions
from dagster_project.errors import EXIT_USAGE, UsageError
from dagster_project.settings import settings_from_env
from tests.cli_support import run_slo
from tests.conftest import BUILD_JOB, REPO

MINIMAL = REPO / "tests" / "specs" / "good" / "minimal.yaml"


def user_spec(folder: Path, build: str | None = None, product: str = "flights") -> Path:
    """A user's own product on their own table main.flights, with a daily update and an hourly check cadence."""
    text = (
        MINIMAL.read_text()
        .replace("id: shop", f"id: {product}")
        .replace("product_affinity.cross_sell_recommendations", "main.flights")
        .replace("product_affinity.north_star_daily", "main.flights")
        .replace("raw.orders", "main.flights")
        .replace("column: order_ts", "column: dep_time")
        .replace("column: metric_date", "column: dep_time")
        .replace('update_cadence: "0 5 * * *"', 'update_cadence: "0 5 * * *"\n        check_cadence: "0 * * * *"')
    )
    if build is not None:
        text = text.replace("version: 1\n", f"version: 1\nbuild: {build}\n")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{product}.yaml"
    path.write_text(text)
    return path


def user_database(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE flights (flight INTEGER, dep_time TIMESTAMP)")
    con.execute("INSERT INTO flights VALUES (1, TIMESTAMP '2013-01-01 05:17'), (2, TIMESTAMP '2013-01-01 05:33')")
    con.close()
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_check_only_product_gets_check_jobs_and_schedules_but_nothing_that_writes(tmp_path: Path) -> None:
    """The data-loss scenario: SLO_DB and SLO_SPECS at a user's own database and check-only spec, as `dagster dev`
    reads them. Before, the definitions held build_product_affinity (scheduled at the user's cadence) over their
    database."""
    db = user_database(tmp_path / "data" / "flights.duckdb")
    spec = user_spec(tmp_path / "specs")
    env = {"SLO_DB": str(db), "SLO_SPECS": str(spec), "SLO_STATE_DIR": str(tmp_path / "state")}
    defs = build_definitions(settings_from_env(env=env, cwd=tmp_path))

    # Its tables appear as external assets only (observed, never materialized): the checks attach to them.
    assert all(isinstance(a, dg.AssetSpec) for a in defs.assets or []), defs.assets
    datasets = {a.key for a in defs.assets or []}  # type: ignore[union-attr]
    assert datasets == {dg.AssetKey(["main", "flights"])}
    jobs = {j.name for j in defs.jobs or []}
    assert CHECK_JOB in jobs and not any(name.startswith("build") for name in jobs), jobs
    schedules = list(defs.schedules or [])
    assert schedules and {s.job_name for s in schedules} == {CHECK_JOB}  # type: ignore[union-attr]
    assert "warehouse" not in (defs.resources or {}) and "sources" not in (defs.resources or {})
    assert sorted(p.name for p in db.parent.iterdir()) == ["flights.duckdb"]


def test_the_scheduled_checks_of_a_check_only_product_judge_its_database_and_land_in_the_store(tmp_path: Path) -> None:
    from dagster_project.results.store import ResultsStore

    db = user_database(tmp_path / "data" / "flights.duckdb")
    before = sha256(db)
    spec = user_spec(tmp_path / "specs")
    env = {"SLO_DB": str(db), "SLO_SPECS": str(spec), "SLO_STATE_DIR": str(tmp_path / "state")}
    settings = settings_from_env(env=env, cwd=tmp_path)
    defs = build_definitions(settings)
    result = defs.resolve_job_def(CHECK_JOB).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    evaluations = list(result.get_asset_check_evaluations())
    assert evaluations and {e.asset_key for e in evaluations} == {dg.AssetKey(["main", "flights"])}
    with ResultsStore(settings.results_path) as store:
        assert store.count() == len(evaluations)
    assert sha256(db) == before  # judged read-only


def test_a_check_only_use_case_without_a_check_cadence_is_checked_when_its_data_is_updated(tmp_path: Path) -> None:
    """Nothing here builds a check-only product, so its builds cannot check it: its update cadence schedules checks."""
    from dagster_project.slo.cadence import check_cadences
    from dagster_project.spec.validate import validate

    spec = user_spec(tmp_path / "specs")
    spec.write_text(spec.read_text().replace('\n        check_cadence: "0 * * * *"', ""))
    (loaded,), issues = validate([spec])
    assert issues == []
    assert [c.cron for c in check_cadences([loaded.spec])] == ["0 5 * * *"]
    built = loaded.spec.model_copy(update={"build": "dagster_project.product.build:BUILD"})
    assert check_cadences([built]) == []  # a built product is checked by its builds


def test_the_example_declares_its_build_and_gets_its_build_job_and_schedule(tmp_path: Path) -> None:
    env = {"SLO_SPECS": str(REPO / "slo_definitions"), "SLO_STATE_DIR": str(tmp_path / "state")}
    defs = build_definitions(settings_from_env(env=env, cwd=tmp_path))
    assert BUILD_JOB in {j.name for j in defs.jobs or []}
    assert BUILD_JOB in {s.job_name for s in defs.schedules or []}  # type: ignore[union-attr]
    assert load_build("dagster_project.product.build:BUILD").product == "product_affinity"


def test_slo_run_on_a_check_only_spec_is_a_usage_error_pointing_to_slo_check(tmp_path: Path) -> None:
    db = user_database(tmp_path / "data" / "flights.duckdb")
    before = sha256(db)
    spec = user_spec(tmp_path / "specs")
    run = run_slo("run", "--slos", str(spec), "--db", str(db), "--state-dir", str(tmp_path / "state"), cwd=tmp_path)
    assert run.returncode == EXIT_USAGE, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "no data product in the specs declares a build" in lines[0], run.stderr
    assert "flights" in lines[0] and "slo check" in lines[0]
    assert sha256(db) == before and sorted(p.name for p in db.parent.iterdir()) == ["flights.duckdb"]
    assert not (tmp_path / "state").exists()  # no sample data, no instance: nothing was started


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("no_such_package_xyz.build:BUILD", "cannot import no_such_package_xyz"),
        ("dagster_project.product.build:NOPE", "has no attribute NOPE"),
        ("dagster_project.product.tables:BUILT_TABLES", "is a tuple, not a dagster_project.build_api.Build"),
        ("dagster_project.product.build:BUILD", "builds product 'product_affinity', not 'flights'"),
    ],
)
def test_a_build_reference_that_does_not_resolve_is_a_spec_error_at_its_line(
    tmp_path: Path, ref: str, message: str
) -> None:
    spec = user_spec(tmp_path, build=ref)
    run = run_slo("validate", str(spec), cwd=tmp_path)
    assert run.returncode == EXIT_USAGE, run.stdout + run.stderr
    out = run.stdout + run.stderr
    assert f"{spec}:2:1: build: " in out and message in out, out


def test_a_build_reference_of_the_wrong_shape_is_refused_by_the_structure_check(tmp_path: Path) -> None:
    spec = user_spec(tmp_path, build="'not a reference'")
    run = run_slo("validate", str(spec), cwd=tmp_path)
    assert run.returncode == EXIT_USAGE and f"{spec}:2:" in run.stdout + run.stderr


def test_load_build_refuses_what_is_not_a_build() -> None:
    with pytest.raises(UsageError, match=r"give it as package\.module:ATTRIBUTE"):
        load_build("dagster_project.product.build")
    assert isinstance(load_build("dagster_project.product.build:BUILD"), Build)


def test_a_build_whose_table_depends_on_nothing_it_makes_is_refused() -> None:
    from dagster_project.build_api import TableBuild

    broken = Build("x", "x", (), (TableBuild("s.t", "t", ("raw.missing",), lambda con, p: None),))
    assert broken.problems() == ["table s.t depends on raw.missing, which no source or earlier table makes"]


def test_the_forbidden_contract_covers_every_module_of_the_service_but_the_example() -> None:
    """A module added to the service later must be listed too, or it could import the example unseen."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    forbidden = next(c for c in contracts if c["type"] == "forbidden")
    assert forbidden["forbidden_modules"] == ["dagster_project.product"]
    package = REPO / "dagster_project"
    modules = {
        f"dagster_project.{p.stem if p.is_file() else p.name}"
        for p in package.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and (p / "__init__.py").exists())
    }
    assert set(forbidden["source_modules"]) == modules - {"dagster_project.product"}


def test_the_specs_are_validated_once_per_process_until_a_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`slo run` asks for the specs several times (the build, the definitions, the SLOs checked apart): validated
    once; an edited file (a code server reloading) is validated anew, and a broken one is refused."""
    from dagster_project.defs import factory

    spec = tmp_path / "minimal.yaml"
    spec.write_text(MINIMAL.read_text())
    from dagster_project.spec.validate import validate

    calls: list[object] = []

    def counted(paths: object) -> object:
        calls.append(paths)
        return validate(paths)  # type: ignore[arg-type]

    monkeypatch.setattr("dagster_project.defs.factory.validate", counted)
    settings = settings_from_env({"SLO_SPECS": str(spec), "SLO_STATE_DIR": str(tmp_path / "state")})
    first = factory.load_specs(settings)
    assert factory.load_specs(settings) == first and factory.load_slos(settings) and len(calls) == 1
    spec.write_text(MINIMAL.read_text().replace("objective: 0.99", "objective: 0.95", 1))
    assert factory.load_specs(settings) != first and len(calls) == 2
    spec.write_text("version: 1\n")
    with pytest.raises(UsageError, match="invalid SLO spec"):
        factory.load_specs(settings)
