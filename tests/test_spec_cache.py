"""Validated spec files remembered in the state folder (spec/spec_cache.py): the same specs, the same problems at the
same file:line, whether remembered or read afresh; an edited file is read again; what depends on the machine (a
server's relative path) is worked out at every call; a memory that others may write, that is damaged or of another
fingerprint is not read, never an error."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dagster_project.cli.main import main
from dagster_project.slo.from_spec import all_slos
from dagster_project.spec import spec_cache, sql_cache, yaml_source
from dagster_project.spec.server import DuckDbServer
from dagster_project.spec.validate import LoadedSpec, SpecIssue, validate
from tests.cli_support import REPO, run_slo

GOOD = (REPO / "tests" / "specs" / "good" / "minimal.yaml").read_text()


@pytest.fixture(autouse=True)
def _nothing_remembered() -> Iterator[None]:
    spec_cache.forget()
    sql_cache.forget()
    yield
    spec_cache.forget()
    sql_cache.forget()


def write(folder: Path, text: str, name: str = "spec.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def memories(state: Path) -> list[Path]:
    folder = spec_cache.cache_folder(state)
    return sorted(folder.glob("*.pickle")) if folder.is_dir() else []


def remembering(state: Path, *paths: Path) -> tuple[list[LoadedSpec], list[SpecIssue]]:
    """validate() in a fresh process's state: what the state folder remembers, and nothing else."""
    spec_cache.forget()
    spec_cache.use(state)
    try:
        return validate(list(paths))
    finally:
        spec_cache.save()
        spec_cache.forget()


def remembered_once(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A good spec validated once with a state folder: the spec, the state folder and the one remembered file."""
    spec, state = write(tmp_path / "specs", GOOD), tmp_path / "state"
    state.mkdir()
    remembering(state, spec)
    (memory,) = memories(state)
    return spec, state, memory


def no_parse(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("parsed again")


def test_a_remembered_spec_is_the_spec_read_afresh_without_parsing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, state = write(tmp_path / "specs", GOOD), tmp_path / "state"
    state.mkdir()
    cold = remembering(state, spec)
    assert len(memories(state)) == 1
    assert cold[0] and not cold[1]
    monkeypatch.setattr(yaml_source, "load_yaml", no_parse)
    warm = remembering(state, spec)
    assert warm == cold  # the documents (data and every position) and the validated models
    # and the domain forms the evaluation reads from them (fields read without the models' serializers)
    assert all_slos([s.spec for s in warm[0]]) == all_slos([s.spec for s in cold[0]])
    # and without the state folder it does parse: the patch above is what the warm run avoided
    with pytest.raises(AssertionError, match="parsed again"):
        validate([spec])


def test_an_edited_spec_is_read_again_and_its_problem_found_at_its_line(tmp_path: Path) -> None:
    spec, state = write(tmp_path / "specs", GOOD), tmp_path / "state"
    state.mkdir()
    assert run_slo("validate", str(spec), "--state-dir", str(state)).returncode == 0
    assert run_slo("validate", str(spec), "--state-dir", str(state)).returncode == 0  # remembered
    line = next(i for i, text in enumerate(GOOD.splitlines(), 1) if text.strip().startswith("objective:"))
    write(tmp_path / "specs", GOOD.replace("objective: ", "objective: 1", 1))  # 0.99 -> 10.99: out of range
    run = run_slo("validate", str(spec), "--state-dir", str(state))
    assert run.returncode == 2
    assert f"{spec}:{line}:" in run.stdout, run.stdout


def test_a_spec_with_problems_is_not_remembered_and_its_problems_are_the_same_each_time(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    broken = write(tmp_path / "specs", GOOD.replace("owner: data-team", "owner: [data-team]"), "broken.yaml")
    first = remembering(state, broken)
    assert not first[0] and first[1]
    assert not memories(state)  # nothing passed: nothing remembered
    assert remembering(state, broken) == first


def test_problems_across_files_are_found_with_the_files_remembered(tmp_path: Path) -> None:
    """Only each file's own structure is remembered; the checks across files run at every call."""
    state = tmp_path / "state"
    state.mkdir()
    one = write(tmp_path / "specs", GOOD, "one.yaml")
    alone = remembering(state, one)
    assert not alone[1]
    two = write(tmp_path / "specs", GOOD, "two.yaml")  # the same product id again
    cold = validate([one, two])
    warm = remembering(state, one, two)
    assert warm == cold
    assert any("data product id 'shop' is already used" in i.message for i in warm[1]), warm[1]


def test_a_servers_relative_path_is_worked_out_at_every_call(tmp_path: Path) -> None:
    """A remembered spec keeps its path as written; where it points (through a link that may change) is resolved
    each time, as a cold read does."""
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
    link = tmp_path / "data"
    link.symlink_to(tmp_path / "first")
    spec = write(
        tmp_path / "specs",
        GOOD.replace("semantic_model:", "server: {type: duckdb, path: ../data/shop.duckdb}\nsemantic_model:", 1),
    )
    state = tmp_path / "state"
    state.mkdir()
    (loaded,), issues = remembering(state, spec)
    assert not issues
    assert isinstance(loaded.spec.server, DuckDbServer)
    assert loaded.spec.server.path == str(tmp_path / "first" / "shop.duckdb")
    link.unlink()
    link.symlink_to(tmp_path / "second")
    (warm,), _ = remembering(state, spec)
    assert isinstance(warm.spec.server, DuckDbServer)
    assert warm.spec.server.path == str(tmp_path / "second" / "shop.duckdb")


def counting_parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    parsed: list[Path] = []
    real = yaml_source.load_yaml

    def counted(path: Path, text: str | None = None) -> Any:
        parsed.append(path)
        return real(path, text)

    monkeypatch.setattr(yaml_source, "load_yaml", counted)
    return parsed


def test_a_memory_others_may_write_is_not_read_and_is_replaced_by_the_users_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, state, memory = remembered_once(tmp_path)
    assert memory.stat().st_mode & 0o777 == 0o600  # the user's only
    assert spec_cache.cache_folder(state).stat().st_mode & 0o777 == 0o700
    memory.chmod(0o664)
    parsed = counting_parses(monkeypatch)
    assert not remembering(state, spec)[1]
    assert parsed == [spec]  # not read: parsed again
    assert memory.stat().st_mode & 0o777 == 0o600  # and written again, as the user's only
    assert not remembering(state, spec)[1]
    assert parsed == [spec]  # read from then on


def test_a_memory_in_a_folder_others_may_write_is_neither_read_nor_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, state, memory = remembered_once(tmp_path)
    before = memory.stat().st_mtime_ns
    spec_cache.cache_folder(state).chmod(0o770)
    parsed = counting_parses(monkeypatch)
    remembering(state, spec)
    remembering(state, spec)
    assert parsed == [spec, spec]
    assert memory.stat().st_mtime_ns == before


def linked(link: str, memory: Path, folder: Path, elsewhere: Path) -> None:
    """`memory` (a file in `folder`) reached through a link to `elsewhere`: "the file" (a symbolic link to it), "a
    hard link" (a second name for it), or otherwise `folder` itself moved and linked to."""
    if link == "the file":
        elsewhere.mkdir()
        memory.rename(elsewhere / memory.name)
        memory.symlink_to(elsewhere / memory.name)
    elif link == "a hard link":
        os.link(memory, elsewhere)
    else:
        folder.rename(elsewhere)
        folder.symlink_to(elsewhere)


@pytest.mark.parametrize("link", ["the file", "a hard link", "the cache folder"])
def test_a_memory_reached_through_a_link_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, link: str
) -> None:
    """A link in the state folder could lead to a file of the user's whose bytes someone else chose: a pickle runs
    code when read, so none is followed."""
    spec, state, memory = remembered_once(tmp_path)
    linked(link, memory, spec_cache.cache_folder(state).parent, tmp_path / "elsewhere")
    monkeypatch.setattr(yaml_source, "load_yaml", no_parse)
    with pytest.raises(AssertionError, match="parsed again"):
        remembering(state, spec)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: data.split(b"\n", 1)[0] + b"\nnot a pickle at all", id="garbage-after-header"),
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: b"\x00" * 64, id="zeros"),
    ],
)
def test_a_damaged_memory_is_a_cold_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: Any) -> None:
    spec, state, memory = remembered_once(tmp_path)
    cold = validate([spec])  # read afresh, nothing remembered
    memory.write_bytes(damage(memory.read_bytes()))
    assert remembering(state, spec) == cold
    monkeypatch.setattr(yaml_source, "load_yaml", no_parse)
    assert remembering(state, spec) == cold  # and the file was made whole again: read, not parsed


def test_a_memory_of_another_fingerprint_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A changed rule (any module of the package) or library makes another fingerprint: a cold start."""
    spec, state, _ = remembered_once(tmp_path)
    monkeypatch.setattr(sql_cache, "_fingerprint", "another")
    monkeypatch.setattr(yaml_source, "load_yaml", no_parse)
    with pytest.raises(AssertionError, match="parsed again"):
        remembering(state, spec)


def test_without_a_state_folder_nothing_is_remembered(tmp_path: Path) -> None:
    spec = write(tmp_path / "specs", GOOD)
    validate([spec])
    spec_cache.save()
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["spec.yaml", "specs"]


def test_importing_the_spec_models_builds_no_validator() -> None:
    """The models' validators are built when they first validate (defer_build): a command whose specs are remembered
    builds none, and so never loads pydantic's plugins (an entry-point scan of every installed package)."""
    script = """
import sys
from dagster_project.slo.from_spec import all_slos
from dagster_project.indicators.registry import REGISTRY
from dagster_project.spec.models import SpecFile
models = [SpecFile, *(d.model for d in REGISTRY.values())]
assert not any(m.__pydantic_complete__ for m in models), [m for m in models if m.__pydantic_complete__]
assert "pydantic.plugin._loader" not in sys.modules
from pathlib import Path
from dagster_project.spec.validate import validate
specs, issues = validate([Path("slo_definitions")])
assert specs and not issues, issues
assert SpecFile.__pydantic_complete__
"""
    run = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr[-2000:]


def test_a_remembered_spec_is_read_only_when_the_user_owns_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, state, memory = remembered_once(tmp_path)
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(memory).st_uid + 1)
    monkeypatch.setattr(yaml_source, "load_yaml", no_parse)
    with pytest.raises(AssertionError, match="parsed again"):
        remembering(state, spec)


def test_each_command_remembers_in_its_own_state_folder_only(tmp_path: Path) -> None:
    """main() called twice in one process (a test, a sensor): the second command's folder holds its own specs only,
    and after a command nothing the process validates is remembered."""
    folders = {}
    for name in ("a", "b"):
        spec = write(tmp_path / name / "specs", GOOD.replace("id: shop", f"id: shop_{name}", 1))
        (tmp_path / name / "state").mkdir()
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["validate", str(spec), "--state-dir", str(tmp_path / name / "state")]) == 0
        folders[name] = memories(tmp_path / name / "state")
    assert len(folders["a"]) == len(folders["b"]) == 1
    assert folders["a"][0].name != folders["b"][0].name
    first = tmp_path / "a" / "specs" / "spec.yaml"
    assert spec_cache.recall(first, first.read_text()) is None  # the command's memory ended with it
    validate([write(tmp_path / "c" / "specs", GOOD.replace("id: shop", "id: shop_c", 1))])  # the caller goes on
    spec_cache.save()
    assert memories(tmp_path / "b" / "state") == folders["b"]  # and what it validates is remembered nowhere


def test_the_same_path_named_from_another_folder_is_remembered_and_its_server_resolved_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = GOOD.replace("semantic_model:", "server: {type: duckdb, path: data/shop.duckdb}\nsemantic_model:", 1)
    for name in ("one", "two"):
        write(tmp_path / name / "specs", text)
    state = tmp_path / "state"
    state.mkdir()
    monkeypatch.chdir(tmp_path / "one")
    remembering(state, Path("specs/spec.yaml"))
    monkeypatch.chdir(tmp_path / "two")
    monkeypatch.setattr(yaml_source, "load_yaml", no_parse)
    (loaded,), issues = remembering(state, Path("specs/spec.yaml"))  # the same name, the same text: remembered
    assert not issues
    assert isinstance(loaded.spec.server, DuckDbServer)
    assert loaded.spec.server.path == str(tmp_path / "two" / "specs" / "data" / "shop.duckdb")


def test_where_the_system_cannot_say_who_owns_a_file_nothing_is_remembered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, state = write(tmp_path / "specs", GOOD), tmp_path / "state"
    state.mkdir()
    monkeypatch.setattr("dagster_project.spec.state_memory.SUPPORTED", False)
    remembering(state, spec)
    assert not memories(state)


def test_the_oldest_memories_beyond_the_limit_are_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spec_cache._MEMORY, "max_files", 2)
    state = tmp_path / "state"
    state.mkdir()
    written = []
    for objective in ("0.9", "0.95", "0.97"):
        spec = write(tmp_path / "specs", GOOD.replace("objective: 0.99", f"objective: {objective}", 1))
        remembering(state, spec)
        written.append({p.name for p in memories(state)})
    assert len(written[-1]) == 2
    assert written[-1] - written[-2]  # the newest is kept
    assert not written[0] & written[-1]  # the oldest went
