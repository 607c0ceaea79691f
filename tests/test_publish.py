"""Only a complete build of one run is published, one build runs at a time, and a live writer is never clobbered."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dagster_project.defs.assets import PUBLISH_KEY
from dagster_project.defs.factory import BUILD_JOB, build_definitions
from dagster_project.defs.runner import run_build
from dagster_project.errors import SloError
from dagster_project.settings import Settings
from dagster_project.warehouse.lock import BuildBusy, BuildLock
from dagster_project.warehouse.publish import PublishError
from tests.conftest import make_settings, make_sources


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


def test_a_second_build_on_the_same_file_is_refused_while_one_runs(built: tuple[Settings, str]) -> None:
    settings, digest = built
    lock = BuildLock(Path(str(settings.build_database) + ".lock"))
    lock.acquire()
    try:
        with pytest.raises(BuildBusy, match="another build is running"):
            run_build(settings)
    finally:
        lock.release()
    assert _digest(settings.database) == digest
    run_build(settings)  # and the lock is free again afterwards


def test_publish_refuses_to_replace_a_database_open_for_writing(built: tuple[Settings, str]) -> None:
    settings, digest = built
    holder = (
        "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
        "con.execute('CREATE TABLE main.scratch AS SELECT 1 AS x'); print('ready', flush=True); time.sleep(120)"
    )
    writer = subprocess.Popen([sys.executable, "-c", holder, str(settings.database)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        with pytest.raises(PublishError, match="open for writing by another process"):
            run_build(settings)
    finally:
        writer.kill()
        writer.wait()
    assert _digest(settings.database) == digest


def test_a_reader_does_not_block_publishing(built: tuple[Settings, str]) -> None:
    settings, digest = built
    reader = duckdb.connect(str(settings.database), read_only=True)
    try:
        run_build(settings.with_build(min_pair_orders=4))
        assert _digest(settings.database) != digest
        # The reader still sees the file it opened.
        assert reader.execute("SELECT count(*) FROM product_affinity.product_pair_affinity").fetchall()[0][0] > 0
    finally:
        reader.close()
