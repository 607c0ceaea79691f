"""What is worked out about a spec's SQL (verdicts, rendered queries), remembered in the state folder
(spec/sql_cache.py): the same problems, at the same file:line, with the same exit code, and the same results,
whether remembered or computed; never a stale entry for a changed text, rule file or library; a cache file that is
corrupt, unreadable or cannot be written is ignored, never an error."""

from __future__ import annotations

import importlib.util
import json
import os
import types
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from dagster_project.settings import Settings
from dagster_project.spec import free_sql, sql_cache
from dagster_project.spec.validate import validate
from tests.cli_support import BUNDLED_SPECS, REPO, run_slo

GOOD = (REPO / "tests" / "specs" / "good" / "minimal.yaml").read_text()

# One problem of each remembered kind: free SQL, a measure expression, a row filter, a regex.
BAD_SLO = """
  - id: keys_look_right
    description: Keys look right.
    dimension: validity
    dataset: raw.orders
    indicator: {type: matches_pattern, column: order_id, regex: "(unclosed"}
    where: "count(*) > 1"
    threshold: {min: 1.0}
    severity: error
    objective: 0.99
    windows: [7d]
"""
BAD = (
    GOOD.replace("sql: SELECT 1", "sql: DELETE FROM raw.orders").replace(
        "expression: avg(value)", "expression: avg(value) -- cut"
    )
    + BAD_SLO
)


@pytest.fixture(autouse=True)
def _nothing_remembered() -> Iterator[None]:
    sql_cache.forget()
    yield
    sql_cache.forget()


def write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "spec.yaml"
    path.write_text(text)
    return path


def validated(spec: Path, state: Path) -> tuple[int, str, str]:
    run = run_slo("validate", str(spec), "--state-dir", str(state), cwd=spec.parent)
    return run.returncode, run.stdout, run.stderr


def issues_of(spec: Path) -> list[str]:
    return [str(i) for i in validate([spec])[1]]


def test_problems_are_the_same_at_the_same_place_computed_or_remembered(tmp_path: Path) -> None:
    spec, state = write(tmp_path / "specs", BAD), tmp_path / "state"
    state.mkdir()
    cold = validated(spec, state)
    assert sql_cache.cache_file(state).is_file()
    warm = validated(spec, state)
    assert cold == warm
    code, out, _ = cold
    assert code == 2
    # every kind is reported with its file:line (the check is real: the problems were found)
    for where in ("consumer_queries.0.sql", "semantic_model.measures.0.expression", "slos.1.where", "slos.1.indicator"):
        assert any(line.startswith(f"{spec}:") and where in line for line in out.splitlines()), (where, out)
    stored = json.loads(sql_cache.cache_file(state).read_text())
    assert any(v is not None and "DELETE" in v for v in stored["entries"].values())


def test_a_remembered_verdict_is_used_without_parsing_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, state = write(tmp_path / "specs", BAD), tmp_path / "state"
    state.mkdir()
    sql_cache.use(state)
    computed = issues_of(spec)
    sql_cache.save()
    sql_cache.forget()

    def no_parse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("parsed again")

    monkeypatch.setattr(free_sql, "_parse", no_parse)
    monkeypatch.setattr(free_sql, "_parser", no_parse)
    sql_cache.use(state)
    assert issues_of(spec) == computed
    sql_cache.forget()  # and without the file, it does parse: the patch above is what the warm run avoided
    with pytest.raises(AssertionError, match="parsed again"):
        issues_of(spec)


def test_a_changed_spec_text_gets_its_own_verdict(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    spec = write(tmp_path / "specs", BAD)
    assert validated(spec, state)[0] == 2
    write(tmp_path / "specs", GOOD)
    assert validated(spec, state)[0] == 0
    write(tmp_path / "specs", GOOD.replace("sql: SELECT 1", "sql: SELECT * FROM raw.orders; DROP TABLE raw.orders"))
    code, out, _ = validated(spec, state)
    assert code == 2 and "consumer_queries.0.sql" in out


def test_a_verdict_of_another_fingerprint_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A changed rule file or library makes another fingerprint: the file is a cold start, not an answer."""
    spec, state = write(tmp_path / "specs", GOOD), tmp_path / "state"
    state.mkdir()
    sql_cache.use(state)
    issues_of(spec)
    sql_cache.save()
    stored = json.loads(sql_cache.cache_file(state).read_text())
    # the same keys, every verdict turned into a refusal: were it read, the good spec would fail
    stored["entries"] = {k: "must be a SELECT, found WRONG" for k in stored["entries"]}
    sql_cache.cache_file(state).write_text(json.dumps(stored))
    sql_cache.forget()
    sql_cache.use(state)
    assert any("WRONG" in i for i in issues_of(spec))  # the file is read when its fingerprint matches
    sql_cache.forget()
    monkeypatch.setattr(sql_cache, "_fingerprint", "another rule file or library")
    sql_cache.use(state)
    assert issues_of(spec) == []


def _fingerprint_with(monkeypatch: pytest.MonkeyPatch, site: Path, rules: tuple[int, int]) -> str:
    """The fingerprint when sqlglot, DuckDB, pydantic, PyYAML and their dist-info live in `site` and free_sql.py has
    the size and modification time (ns) `rules`."""
    packages = ("sqlglot", "duckdb", "pydantic", "pydantic_core", "annotated_types", "typing_inspection", "yaml")
    for file in ("sqlglot/_version.py", *(f"{name}/__init__.py" for name in packages)):
        if not (site / file).exists():
            (site / file).parent.mkdir(exist_ok=True)
            (site / file).write_text("")
    origins: dict[str, Path | None] = {name: site / name / "__init__.py" for name in packages}
    origins["_duckdb"] = None

    def find_spec(name: str) -> Any:
        origin = origins[name]
        return None if origin is None else importlib.util.spec_from_file_location(name, origin)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    real_stat = os.stat
    size, mtime_ns = rules
    faked = types.SimpleNamespace(st_size=size, st_mtime_ns=mtime_ns)

    def stat(path: Any, *args: Any, **kwargs: Any) -> Any:
        return faked if os.fspath(path).endswith(f"{os.sep}free_sql.py") else real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    try:
        return sql_cache._compute_fingerprint()
    finally:
        monkeypatch.undo()


def test_the_fingerprint_changes_with_the_rules_and_the_library_versions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("sqlglot-30.0.0", "duckdb-2.0.0", "pydantic-2.14.3", "PyYAML-6.0.3"):
        (tmp_path / f"{name}.dist-info").mkdir()
    base = _fingerprint_with(monkeypatch, tmp_path, (5, 1_000))
    assert _fingerprint_with(monkeypatch, tmp_path, (5, 1_000)) == base
    assert _fingerprint_with(monkeypatch, tmp_path, (14, 1_000)) != base  # edited: another size
    assert _fingerprint_with(monkeypatch, tmp_path, (5, 2_000)) != base  # edited, same size: another time
    (tmp_path / "sqlglot-30.0.0.dist-info").rename(tmp_path / "sqlglot-30.1.0.dist-info")
    assert _fingerprint_with(monkeypatch, tmp_path, (5, 1_000)) != base
    (tmp_path / "sqlglot-30.1.0.dist-info").rename(tmp_path / "sqlglot-30.0.0.dist-info")
    (tmp_path / "duckdb-2.0.0.dist-info").rename(tmp_path / "duckdb-2.0.1.dist-info")
    assert _fingerprint_with(monkeypatch, tmp_path, (5, 1_000)) != base
    # the validated spec files remembered with the same fingerprint (spec_cache.py) depend on pydantic and PyYAML
    base = _fingerprint_with(monkeypatch, tmp_path, (5, 1_000))
    (tmp_path / "pydantic-2.14.3.dist-info").rename(tmp_path / "pydantic-2.15.0.dist-info")
    assert _fingerprint_with(monkeypatch, tmp_path, (5, 1_000)) != base
    base = _fingerprint_with(monkeypatch, tmp_path, (5, 1_000))
    (tmp_path / "PyYAML-6.0.3.dist-info").rename(tmp_path / "PyYAML-6.0.4.dist-info")
    assert _fingerprint_with(monkeypatch, tmp_path, (5, 1_000)) != base


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\xff\xfe binary",
        b"[]",
        b'{"fingerprint": 1}',
        b'{"fingerprint": "x", "entries": {"k": 5}}',
    ],
    ids=["truncated", "binary", "a list", "no entries", "wrong fingerprint"],
)
def test_a_corrupt_cache_file_is_ignored_and_rebuilt(tmp_path: Path, content: bytes) -> None:
    spec, fresh, state = write(tmp_path / "specs", BAD), tmp_path / "fresh", tmp_path / "state"
    fresh.mkdir()
    sql_cache.cache_file(state).parent.mkdir(parents=True)
    sql_cache.cache_file(state).write_bytes(content)
    assert validated(spec, state) == validated(spec, fresh)
    assert "entries" in json.loads(sql_cache.cache_file(state).read_text())


def test_a_corrupt_verdict_of_the_right_fingerprint_is_ignored(tmp_path: Path) -> None:
    spec, state = write(tmp_path / "specs", BAD), tmp_path / "state"
    state.mkdir()
    sql_cache.use(state)
    expected = issues_of(spec)
    sql_cache.save()
    stored = json.loads(sql_cache.cache_file(state).read_text())
    stored["entries"] = {k: 5 for k in stored["entries"]}
    sql_cache.cache_file(state).write_text(json.dumps(stored))
    sql_cache.forget()
    sql_cache.use(state)
    assert issues_of(spec) == expected


def test_an_unreadable_or_unwritable_cache_is_not_an_error(tmp_path: Path) -> None:
    spec, fresh, state = write(tmp_path / "specs", BAD), tmp_path / "fresh", tmp_path / "state"
    fresh.mkdir()
    state.mkdir()
    (state / "cache").write_text("a file where the cache folder goes")  # nothing can be read or written there
    assert validated(spec, state) == validated(spec, fresh)
    sql_cache.cache_file(fresh).unlink()
    sql_cache.cache_file(fresh).mkdir()  # a folder where the file goes
    assert validated(spec, fresh)[0] == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder anyway")
def test_a_read_only_state_folder_is_not_an_error(tmp_path: Path) -> None:
    spec, fresh, state = write(tmp_path / "specs", BAD), tmp_path / "fresh", tmp_path / "state"
    fresh.mkdir()
    state.mkdir()
    state.chmod(0o555)
    try:
        assert validated(spec, state) == validated(spec, fresh)
        assert not (state / "cache").exists()
    finally:
        state.chmod(0o755)


def test_no_state_folder_is_made_to_remember_verdicts(tmp_path: Path) -> None:
    spec = write(tmp_path / "specs", GOOD)
    assert validated(spec, tmp_path / "absent")[0] == 0
    assert not (tmp_path / "absent").exists()


def test_check_remembers_the_verdicts_of_its_spec(tmp_path: Path) -> None:
    """`slo check` refuses a bad spec with the same lines remembered or not (it validates the same way)."""
    spec, state = write(tmp_path / "specs", BAD), tmp_path / "state"
    state.mkdir()
    runs = [
        run_slo("check", "--slos", str(spec), "--state-dir", str(state), "--no-record", cwd=tmp_path) for _ in range(2)
    ]
    assert [(r.returncode, r.stderr) for r in runs] == [(2, runs[0].stderr)] * 2
    assert "consumer_queries.0.sql" in runs[0].stderr
    assert sql_cache.cache_file(state).is_file()


def _check_json(spec_folder: Path, state: Path, db: Path) -> tuple[int, list[Any], str]:
    run = run_slo(
        "check",
        "--slos",
        str(spec_folder),
        "--db",
        str(db),
        "--state-dir",
        str(state),
        "--no-record",
        "--json",
        "--as-of",
        "2026-11-27T06:00:00Z",
        cwd=state.parent,
    )
    results = json.loads(run.stdout)["results"] if run.stdout.strip() else []
    for r in results:  # a measured latency differs run to run
        if r["indicator"] == "query_latency":
            for key in ("observed", "observed_text", "passed", "status", "detail"):
                r.pop(key, None)
    return run.returncode, results, run.stderr


def test_check_gives_the_same_results_with_remembered_queries(built_product: Settings, tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    cold = _check_json(BUNDLED_SPECS, state, built_product.database)
    stored = json.loads(sql_cache.cache_file(state).read_text())["entries"]
    assert any(k.startswith("render:") for k in stored)  # the queries were remembered
    warm = _check_json(BUNDLED_SPECS, state, built_product.database)
    assert cold == warm
    assert cold[1], cold[2]


def test_a_remembered_query_is_used_and_a_malformed_one_rendered_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster_project.indicators import sql as neutral
    from dagster_project.slo import rendered
    from dagster_project.slo.from_spec import all_slos

    specs, issues = validate([BUNDLED_SPECS])
    assert not issues
    slo = next(s for s in all_slos([s.spec for s in specs]) if s.definition.measured == "scan")
    as_of = datetime(2026, 11, 27, 6)
    sql_cache.use(tmp_path)
    rendered.clear()
    text = rendered.scan_alone(slo, (), "duckdb", as_of)
    entries = {k: v for k, v in sql_cache._entries.items() if k.startswith("render:")}
    assert entries
    rendered.clear()

    def no_render(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("rendered again")

    monkeypatch.setattr(neutral, "render", no_render)
    assert rendered.scan_alone(slo, (), "duckdb", as_of) == text  # from the remembered text
    rendered.clear()
    for key in entries:
        sql_cache._entries[key] = {"text": [5]}  # not a shape it writes
    with pytest.raises(AssertionError, match="rendered again"):
        rendered.scan_alone(slo, (), "duckdb", as_of)
    monkeypatch.undo()
    rendered.clear()
    assert rendered.scan_alone(slo, (), "duckdb", as_of) == text
    rendered.clear()
