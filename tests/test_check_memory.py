"""A clean `slo check` is remembered in the state folder (verify/check_memory.py): the next call with the same spec
files against a database that answers the same evaluates without validating the specs or checking them against the
database again, and with the same results; any edit, or any database that answers differently (a column dropped, a
macro redefined under the same catalog), is checked again and its problem reported at its place."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dagster_project.cli.main import main
from dagster_project.engines.duckdb_adapter import open_adapter
from dagster_project.verify import check_memory
from dagster_project.verify.answers import Recorder
from tests.conftest import AS_OF
from tests.test_database_check import EXTRA_SLOS, MINIMAL, at, make_database, write_spec
from tests.test_spec_cache import linked


def check(spec: Path, db: Path, state: Path) -> tuple[int, dict[str, Any] | None, str]:
    """`slo check --json` in this process: its exit code, its JSON (None when it printed none) and its errors."""
    out, err = io.StringIO(), io.StringIO()
    args = ["check", "--slos", str(spec), "--db", str(db), "--state-dir", str(state), "--as-of", AS_OF.isoformat()]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*args, "--json", "--no-record"])
    text = out.getvalue()
    return code, json.loads(text) if text.strip() else None, err.getvalue()


def outcome(payload: dict[str, Any] | None) -> list[tuple[str, str, Any]]:
    assert payload is not None
    return [(r["slo"], r["status"], r["observed"]) for r in payload["results"]]


@pytest.fixture
def clean(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A spec, its database and a state folder in which a check of one against the other was found clean."""
    db = make_database(tmp_path / "db" / "warehouse.duckdb")
    spec, state = write_spec(tmp_path / "specs", MINIMAL + EXTRA_SLOS), tmp_path / "state"
    state.mkdir()
    code, _payload, err = check(spec, db, state)
    assert code in (0, 1), err
    assert len(list(check_memory.cache_folder(state).glob("*.pickle"))) == 1
    return spec, db, state


def refuse(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("validated or checked against the database again")


# Binds (so the check finds it clean), fails on the data: its error is recorded, prefixed with where it is written.
FAILS_ON_THE_DATA = """\
  - id: fails_on_the_data
    description: Binds, and fails when it runs.
    dimension: accuracy
    dataset: raw.orders
    indicator: {type: custom_sql, sql: "SELECT CAST(min(channel || 'x') AS INTEGER) FROM raw.orders"}
    threshold: {min: 0}
    severity: error
    objective: 0.99
    windows: [7d]
    protects: {use_case: targeting}
"""


def test_a_clean_check_is_remembered_and_the_next_call_gives_its_results_without_validating(
    clean: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Against the results of a check that remembered nothing (its own state folder, empty): the fixture's first
    call already left a memory in `state`, so every later call there is warm."""
    spec, db, state = clean
    elsewhere = tmp_path / "cold_state"
    elsewhere.mkdir()
    cold_code, cold, _err = check(spec, db, elsewhere)
    monkeypatch.setattr("dagster_project.spec.validate.validate", refuse)
    monkeypatch.setattr("dagster_project.verify.database.adapter_issues", refuse)
    code, warm, err = check(spec, db, state)
    assert code == cold_code, err
    assert outcome(warm) == outcome(cold)


def test_a_check_found_clean_before_gives_what_the_full_check_gives_errors_located_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every field of every result (the error of an SLO that fails on the data, prefixed with its file:line, too)
    and the exit code are the same warm as cold."""
    db = make_database(tmp_path / "db" / "warehouse.duckdb")
    spec, state = write_spec(tmp_path / "specs", MINIMAL + EXTRA_SLOS + FAILS_ON_THE_DATA), tmp_path / "state"
    state.mkdir()
    cold_code, cold, err = check(spec, db, state)
    assert cold_code == 1 and cold is not None, err
    assert len(list(check_memory.cache_folder(state).glob("*.pickle"))) == 1
    (failed,) = [r for r in cold["results"] if r["error"]]
    assert failed["slo"] == "fails_on_the_data"
    assert failed["error"].startswith(f"{at(spec, '- id: fails_on_the_data').rsplit(':', 1)[0]}: "), failed
    monkeypatch.setattr("dagster_project.spec.validate.validate", refuse)
    monkeypatch.setattr("dagster_project.verify.database.adapter_issues", refuse)
    code, warm, err = check(spec, db, state)
    assert code == cold_code, err
    assert warm is not None and warm["results"] == cold["results"]


def test_without_the_state_folders_memory_every_call_validates(
    clean: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, db, state = clean
    shutil.rmtree(check_memory.cache_folder(state))
    monkeypatch.setattr("dagster_project.spec.validate.validate", refuse)
    code, _payload, err = check(spec, db, state)
    assert code == 3 and "validated or checked against the database again" in err


def test_a_column_dropped_after_a_clean_check_is_reported_at_its_place(clean: tuple[Path, Path, Path]) -> None:
    spec, db, state = clean
    with duckdb.connect(str(db.with_name(db.name + ".landing"))) as con:
        con.execute("ALTER TABLE orders DROP COLUMN channel")
    code, payload, err = check(spec, db, state)
    assert code == 2 and payload is None
    assert f"{at(spec, 'column: channel')}: slos.1.indicator.column: column 'channel' does not exist" in err, err


def test_an_edited_spec_is_validated_again_and_its_problem_reported(clean: tuple[Path, Path, Path]) -> None:
    spec, db, state = clean
    spec.write_text(spec.read_text().replace("values: [web, app]", "values: []"))
    code, _payload, err = check(spec, db, state)
    assert code == 2 and f"{spec}:" in err and "values" in err, err


def test_a_query_that_binds_differently_under_the_same_catalog_is_a_different_answer(tmp_path: Path) -> None:
    """A macro is not in the catalog the check reads: the same tables, a query typed otherwise."""
    db = tmp_path / "macro.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE t (x INTEGER)")
        con.execute("CREATE MACRO shown(v) AS v + 1")
    with open_adapter(db) as adapter:
        recorder = Recorder(adapter)
        recorder.catalog()
        assert [c.type for c in recorder.describe("SELECT shown(x) AS y FROM t", 10)] == ["INTEGER"]
        answers = recorder.answers
        assert answers is not None and answers.still_given_by(adapter)
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE OR REPLACE MACRO shown(v) AS CAST(v AS VARCHAR)")
    with open_adapter(db) as adapter:
        assert adapter.catalog() == answers.catalog
        assert not answers.still_given_by(adapter)


def test_specs_on_another_database_are_checked_at_every_call_and_not_remembered(tmp_path: Path) -> None:
    db = make_database(tmp_path / "db" / "warehouse.duckdb")
    text = (MINIMAL + EXTRA_SLOS).replace("version: 1\n", f"version: 1\nserver: {{type: duckdb, path: {db}}}\n", 1)
    spec, state = write_spec(tmp_path / "specs", text), tmp_path / "state"
    state.mkdir()
    code, _payload, err = check(spec, db, state)
    assert code in (0, 1), err
    assert not list(check_memory.cache_folder(state).glob("*.pickle"))


def test_a_memory_others_may_write_is_not_read(clean: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    spec, db, state = clean
    (memory,) = check_memory.cache_folder(state).glob("*.pickle")
    memory.chmod(0o620)
    monkeypatch.setattr("dagster_project.spec.validate.validate", refuse)
    code, _payload, err = check(spec, db, state)
    assert code == 3 and "validated or checked against the database again" in err


@pytest.mark.parametrize("link", ["the file", "a hard link", "the checks folder"])
def test_a_remembered_check_reached_through_a_link_is_not_read(
    clean: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, link: str
) -> None:
    """The safeguards of the specs' memories (spec/state_memory.py) hold for the checks' too: a pickle runs code
    when read, so none is followed through a link."""
    spec, db, state = clean
    (memory,) = check_memory.cache_folder(state).glob("*.pickle")
    linked(link, memory, check_memory.cache_folder(state), tmp_path / "elsewhere")
    monkeypatch.setattr("dagster_project.spec.validate.validate", refuse)
    code, _payload, err = check(spec, db, state)
    assert code == 3 and "validated or checked against the database again" in err


def test_where_the_system_cannot_say_who_owns_a_file_no_check_is_remembered_or_read(
    clean: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, db, state = clean
    monkeypatch.setattr("dagster_project.spec.state_memory.SUPPORTED", False)
    monkeypatch.setattr("dagster_project.spec.validate.validate", refuse)
    code, _payload, err = check(spec, db, state)
    assert code == 3 and "validated or checked against the database again" in err
    monkeypatch.undo()
    monkeypatch.setattr("dagster_project.spec.state_memory.SUPPORTED", False)
    fresh = tmp_path / "fresh_state"
    fresh.mkdir()
    code, _payload, err = check(spec, db, fresh)
    assert code in (0, 1), err
    assert not check_memory.cache_folder(fresh).exists()


def test_a_spec_edited_while_it_is_checked_is_remembered_as_read_and_the_edit_found_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The texts hashed for the memory's key are the texts validated: an edit landing between the two is never
    remembered under the text it replaced."""
    import dagster_project.cli.check as check_command

    db = make_database(tmp_path / "db" / "warehouse.duckdb")
    spec, state = write_spec(tmp_path / "specs", MINIMAL + EXTRA_SLOS), tmp_path / "state"
    state.mkdir()
    good = spec.read_text()
    full_check = check_command._checked

    def edited_meanwhile(*args: Any, **kwargs: Any) -> Any:
        spec.write_text(good.replace("values: [web, app]", "values: []"))
        return full_check(*args, **kwargs)

    monkeypatch.setattr(check_command, "_checked", edited_meanwhile)
    code, _payload, err = check(spec, db, state)
    assert code in (0, 1), err  # the text read first, which is valid
    monkeypatch.setattr(check_command, "_checked", full_check)
    code, _payload, err = check(spec, db, state)
    assert code == 2 and f"{spec}:" in err and "values" in err, err
    spec.write_text(good)  # the remembered text again: its memory is the valid one
    monkeypatch.setattr("dagster_project.spec.validate.validate", refuse)
    code, _payload, err = check(spec, db, state)
    assert code in (0, 1), err
