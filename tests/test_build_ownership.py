"""Never write what you do not own (issue 12, point 2): a build writes only to databases it created (their marker,
build_log.owner) and refuses any other file before anything is written or created, byte for byte."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.defs.factory import build_definitions
from dagster_project.defs.runner import run_build
from dagster_project.errors import EXIT_USAGE
from dagster_project.settings import Settings
from dagster_project.warehouse.ownership import TOOL, ForeignDatabase
from tests.cli_support import run_slo
from tests.conftest import BUILD_JOB, REPO, make_settings, make_sources


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def foreign_duckdb(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE flights AS SELECT range AS flight, 'JFK' AS origin FROM range(1000)")
    con.close()
    return path


def foreign_text(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("year,month,day\n2013,1,1\n")
    return path


FOREIGN = {"duckdb": foreign_duckdb, "not_duckdb": foreign_text}


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sources(tmp_path_factory.mktemp("src"), orders=300)


@pytest.mark.parametrize("kind", sorted(FOREIGN))
def test_slo_run_refuses_a_database_it_did_not_create_and_leaves_it_byte_for_byte(
    tmp_path: Path, sources: Path, kind: str
) -> None:
    db = FOREIGN[kind](tmp_path / "theirs" / "flights.duckdb")
    before = sha256(db)
    run = run_slo(
        "run", "--db", str(db), "--data-dir", str(sources), "--state-dir", str(tmp_path / "state"), cwd=tmp_path
    )
    assert run.returncode == EXIT_USAGE, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {db}: "), run.stderr
    assert "slo-monitor builds only over databases it created" in lines[0]
    assert sha256(db) == before
    assert sorted(p.name for p in db.parent.iterdir()) == ["flights.duckdb"]  # no .build, .landing, .lock, .wal


def test_slo_run_refuses_a_foreign_landing_file_beside_its_database(tmp_path: Path, sources: Path) -> None:
    db = tmp_path / "theirs" / "flights.duckdb"
    landing = foreign_duckdb(db.with_name(db.name + ".landing"))
    before = sha256(landing)
    run = run_slo(
        "run", "--db", str(db), "--data-dir", str(sources), "--state-dir", str(tmp_path / "state"), cwd=tmp_path
    )
    assert run.returncode == EXIT_USAGE and f"error: {landing}: " in run.stderr, run.stderr
    assert sha256(landing) == before and sorted(p.name for p in db.parent.iterdir()) == [landing.name]


@pytest.mark.parametrize("kind", sorted(FOREIGN))
def test_a_dagster_build_refuses_a_database_it_did_not_create(tmp_path: Path, sources: Path, kind: str) -> None:
    """As `dagster dev` runs it (SLO_DB at the user's file): the run fails with the one line, nothing is written."""
    db = FOREIGN[kind](tmp_path / "theirs" / "flights.duckdb")
    before = sha256(db)
    settings = dataclasses.replace(make_settings(tmp_path, sources), db_path=db)
    job = build_definitions(settings).resolve_job_def(BUILD_JOB)
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        messages = []  # the run's errors and their causes (a step's error wraps the one raised in it)
        for event in result.all_events:
            error = getattr(event.event_specific_data, "error", None)
            while error is not None:
                messages.append(str(error.message))
                error = error.cause
    assert any(f"{db}: " in m and "builds only over databases it created" in m for m in messages), messages
    with pytest.raises(ForeignDatabase, match="builds only over databases it created"):
        run_build(settings)
    assert sha256(db) == before
    assert sorted(p.name for p in db.parent.iterdir()) == ["flights.duckdb"]


def _owner_rows(path: Path, catalog_path: str = "build_log.owner") -> list[tuple[str, str]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return [(str(a), str(b)) for a, b in con.execute(f"SELECT tool, product FROM {catalog_path}").fetchall()]
    finally:
        con.close()


def _drop_marker(path: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE build_log.owner")
    if path.name.endswith(".landing"):  # the landing file had only the marker in build_log
        con.execute("DROP SCHEMA build_log")
    con.close()


def test_a_database_the_build_created_is_marked_and_rebuilt(tmp_path: Path, sources: Path) -> None:
    settings = make_settings(tmp_path, sources)
    assert run_build(settings).published
    assert _owner_rows(settings.database) == [(TOOL, "product_affinity")]
    assert _owner_rows(settings.landing_database) == [(TOOL, "product_affinity")]
    first = sha256(settings.database)
    assert run_build(settings).published
    assert sha256(settings.database) != first  # rebuilt: a new build was published over it


def test_a_database_of_ours_holding_someone_elses_tables_is_refused_and_kept(tmp_path: Path, sources: Path) -> None:
    """A user loads their own tables into the published database (it has our marker): the next build would replace
    the file and lose them, so it is refused, naming one of them, and the file is left as it is."""
    settings = make_settings(tmp_path, sources)
    assert run_build(settings).published
    con = duckdb.connect(str(settings.database))
    con.execute("CREATE SCHEMA flights")
    con.execute("CREATE TABLE flights.departures AS SELECT 1 AS flight")
    con.close()
    before = sha256(settings.database)
    with pytest.raises(ForeignDatabase, match=r"also holds tables the build does not make \(flights.departures\)"):
        run_build(settings)
    assert sha256(settings.database) == before


def test_a_database_from_before_the_marker_is_adopted_when_it_has_the_builds_own_shape(
    tmp_path: Path, sources: Path
) -> None:
    """What the current main built (no marker): the build's build_log.steps, only its schemas; adopted, then marked.
    The same file with one schema of someone else's is refused."""
    settings = make_settings(tmp_path, sources)
    assert run_build(settings).published
    for path in (settings.database, settings.landing_database):
        _drop_marker(path)
    assert run_build(settings).published
    assert _owner_rows(settings.database) == [(TOOL, "product_affinity")]

    _drop_marker(settings.database)
    con = duckdb.connect(str(settings.database))
    con.execute("CREATE SCHEMA finance")
    con.execute("CREATE TABLE finance.ledger AS SELECT 1 AS entry")
    con.close()
    before = sha256(settings.database)
    with pytest.raises(ForeignDatabase, match="did not create"):
        run_build(settings)
    assert sha256(settings.database) == before


def test_a_database_another_product_built_is_refused(tmp_path: Path, sources: Path) -> None:
    settings: Settings = make_settings(tmp_path, sources)
    assert run_build(settings).published
    con = duckdb.connect(str(settings.database))
    con.execute("UPDATE build_log.owner SET product = 'flights'")
    con.close()
    before = sha256(settings.database)
    with pytest.raises(ForeignDatabase, match="for data product 'flights', not 'product_affinity'"):
        run_build(settings)
    assert sha256(settings.database) == before


def test_the_bundled_spec_declares_the_example_build() -> None:
    text = (REPO / "slo_definitions" / "product_affinity.yaml").read_text()
    assert "\nbuild: dagster_project.product.build:BUILD\n" in text
