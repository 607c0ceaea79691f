"""Only a complete build of one run is published, one build runs at a time, and a live writer is never clobbered."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.datagen.faults import Fault
from dagster_project.defs.check_jobs import CHECK_JOB
from dagster_project.defs.factory import build_definitions
from dagster_project.defs.resources import WarehouseResource
from dagster_project.defs.runner import run_build
from dagster_project.errors import SloError
from dagster_project.settings import Settings
from dagster_project.warehouse.lock import BuildBusy
from dagster_project.warehouse.publish import PublishError
from tests.conftest import AS_OF, BUILD_JOB, PUBLISH_KEY_PATH, REPO, make_settings, make_sources

PUBLISH_KEY = dg.AssetKey(PUBLISH_KEY_PATH)

_HOLD_LOCK = (
    "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
    "fcntl.flock(fd, fcntl.LOCK_EX); print('ready', flush=True); time.sleep(120)"
)
_TRY_LOCK = (
    "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
    "sys.exit(0 if fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB) is None else 1)"
)


@pytest.fixture
def built(tmp_path: Path) -> tuple[Settings, str]:
    settings = make_settings(tmp_path, make_sources(tmp_path / "src", orders=600))
    run_build(settings)
    return settings, hashlib.sha256(settings.database.read_bytes()).hexdigest()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_publishing_alone_after_a_failed_build_is_refused(built: tuple[Settings, str]) -> None:
    settings, digest = built
    assert settings.data_dir is not None
    (settings.data_dir / "order_items.csv").write_text("order_id,line_number,product_id,quantity,unit_price\n1,1")
    with pytest.raises(SloError, match=r"order_items\.csv"):
        run_build(settings)
    job = build_definitions(settings).resolve_job_def(BUILD_JOB)
    result = job.execute_in_process(asset_selection=[PUBLISH_KEY], raise_on_error=False)
    assert not result.success
    error = result.get_step_failure_events()[0].step_failure_data.error
    assert error is not None and "were not built in this run" in str(error.to_string())
    assert _digest(settings.database) == digest


@contextmanager
def _other_process(script: str, path: Path) -> Iterator[None]:
    """Run `script` in another process until the block ends; it prints 'ready' once it holds what it takes."""
    proc = subprocess.Popen([sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield
    finally:
        proc.kill()
        proc.wait()


def test_a_second_build_on_the_same_file_is_refused_while_one_runs(built: tuple[Settings, str]) -> None:
    settings, digest = built
    lock = Path(str(settings.build_database) + ".lock")
    with _other_process(_HOLD_LOCK, lock), pytest.raises(BuildBusy, match="another build is running"):
        run_build(settings)
    assert _digest(settings.database) == digest
    run_build(settings)  # the kernel released the dead holder's lock


def test_publish_refuses_to_replace_a_database_open_for_writing(built: tuple[Settings, str]) -> None:
    settings, digest = built
    writer = (
        "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
        "con.execute('CREATE TABLE main.scratch AS SELECT 1 AS x'); print('ready', flush=True); time.sleep(120)"
    )
    with _other_process(writer, settings.database), pytest.raises(PublishError, match="open for writing by another"):
        run_build(settings)
    assert _digest(settings.database) == digest


def test_a_reader_does_not_block_publishing_and_keeps_its_snapshot(built: tuple[Settings, str]) -> None:
    settings, digest = built
    reader = duckdb.connect(str(settings.database), read_only=True)
    count = "SELECT count(*) FROM product_affinity.product_pair_affinity"
    try:
        before = reader.execute(count).fetchall()[0][0]
        run_build(settings.with_build(options={"min_pair_orders": 10}))
        assert _digest(settings.database) != digest
        # Another process: in this one DuckDB would hand back the reader's cached instance of the path.
        read = f"import duckdb; print(duckdb.connect({str(settings.database)!r}, read_only=True).execute({count!r})"
        read += ".fetchall()[0][0])"
        after = int(subprocess.run([sys.executable, "-c", read], capture_output=True, text=True, check=True).stdout)
        assert after < before
        assert reader.execute(count).fetchall()[0][0] == before  # still the file it opened
    finally:
        reader.close()


def test_publishing_a_build_missing_one_source_of_this_run_is_refused(built: tuple[Settings, str]) -> None:
    settings, digest = built
    defs = build_definitions(settings)
    job = defs.resolve_job_def(BUILD_JOB)
    every_asset_but_customers = [
        key for key in defs.resolve_all_asset_keys() if key != dg.AssetKey(["raw", "customers"])
    ]
    result = job.execute_in_process(asset_selection=every_asset_but_customers, raise_on_error=False)
    assert not result.success
    failure = result.get_step_failure_events()[0]
    assert failure.step_key == "product_affinity__published_database"
    assert "raw.customers were not built in this run" in str(failure.step_failure_data.error)
    assert _digest(settings.database) == digest


def _other_process_can_lock(path: Path) -> bool:
    return subprocess.run([sys.executable, "-c", _TRY_LOCK, str(path)], capture_output=True).returncode == 0


def test_the_warehouse_resource_takes_the_build_lock_at_its_first_connection_and_holds_it_for_the_run(
    tmp_path: Path,
) -> None:
    """Not when it is set up: a run that only checks sets it up too (the checks run in their assets' steps) and
    must neither take the lock nor touch the build's files."""
    settings = make_settings(tmp_path, tmp_path / "src")
    resource = WarehouseResource(
        build_database=str(settings.build_database),
        landing_database=str(settings.landing_database),
        published_database=str(settings.database),
        product="product_affinity",
        schemas=["staging", "product_affinity"],
        sources=["customers", "products", "orders", "order_items"],
    )
    lock = Path(str(settings.build_database) + ".lock")
    lock.parent.mkdir(parents=True)
    with dg.build_resources({"warehouse": resource}) as resources:
        assert _other_process_can_lock(lock) and not settings.build_database.exists()
        with resources.warehouse.connect():
            pass
        assert not _other_process_can_lock(lock)
        with resources.warehouse.connect():  # the same run: it holds the lock already
            pass
        assert not _other_process_can_lock(lock)
    assert _other_process_can_lock(lock)


def test_a_check_job_runs_while_a_build_holds_the_lock_and_touches_no_build_file(
    built: tuple[Settings, str],
) -> None:
    settings, digest = built
    for path in (settings.build_database, settings.build_landing_database):
        path.unlink(missing_ok=True)
    lock = Path(str(settings.build_database) + ".lock")
    job = build_definitions(settings).resolve_job_def(CHECK_JOB)
    with _other_process(_HOLD_LOCK, lock), dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert result.success and len(result.get_asset_check_evaluations()) == 31
    assert not result.get_asset_materialization_events()
    assert not settings.build_database.exists() and not settings.build_landing_database.exists()
    assert _digest(settings.database) == digest


def test_a_build_file_from_before_the_landing_file_is_discarded(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, make_sources(tmp_path / "src", orders=300))
    settings.build_database.parent.mkdir(parents=True)
    old = duckdb.connect(str(settings.build_database))
    old.execute("CREATE SCHEMA raw; CREATE TABLE raw.customers AS SELECT 'someone@example.com' AS email")
    old.close()
    run_build(settings)
    assert b"someone@example.com" not in settings.database.read_bytes()
    assert b"someone@example.com" not in settings.build_database.read_bytes()


def test_a_blocked_build_leaves_the_published_landing_file_and_slo_check_judges_the_published_data(
    built: tuple[Settings, str],
) -> None:
    settings, digest = built
    landing = _digest(settings.landing_database)
    stale = replace(
        settings,
        data_dir=make_sources(settings.state_dir.parent / "stale", orders=600, faults=frozenset({Fault.STALE})),
    )
    blocked = run_build(stale)
    assert not blocked.published
    assert {r["slo"] for r in blocked.results if r["passed"] is False} >= {"orders_fresh"}
    assert _digest(settings.database) == digest and _digest(settings.landing_database) == landing
    args = ["check", "--db", str(settings.database), "--json", "--no-record", "--as-of", AS_OF.isoformat()]
    check = subprocess.run(
        [sys.executable, "-m", "dagster_project.cli.main", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    results = {r["slo"]: r["passed"] for r in json.loads(check.stdout)["results"]}
    assert results["orders_fresh"] is True and set(results.values()) == {True}
