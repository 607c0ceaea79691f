"""Fuzzing the two doors hostile input comes through: spec files (`slo validate`, in-process through the CLI's main)
and source CSV files (the loader). Random and mutated input must end in a clean answer - a valid spec (exit 0), or
problems each at `file:line:col` (exit 2); a loaded table, or one SourceDataError naming the file (exit 3) - never an
unexpected exception or a traceback. Examples are few (hypothesis settings below) so the file runs in seconds; the
limits of yaml_source.py keep every example small in time and memory, whatever it holds."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagster_project.cli.main import main
from dagster_project.errors import EXIT_OK, EXIT_USAGE, SourceDataError
from dagster_project.sources import ORDER_ITEMS, ORDERS, SourceTable
from dagster_project.warehouse.connection import connect
from dagster_project.warehouse.loading import load_source
from tests.conftest import REPO

SEEDS = [
    REPO / "slo_definitions" / "product_affinity.yaml",
    *sorted((REPO / "tests" / "specs" / "good").glob("*.yaml")),
]
SEED_TEXTS = [p.read_text() for p in SEEDS]

# SLO_FUZZ_EXAMPLES=2000 for a longer, random hunt (by hand); the suite runs a fixed, small set.
_EXAMPLES = int(os.environ.get("SLO_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=_EXAMPLES or 60,
    deadline=None,  # no wall clock: the bound on time is the loader's limits, not the machine's speed
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=not _EXAMPLES,  # in the suite, the same examples every run: a failure is reproducible, not flaky
    database=None,
)


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="slo-fuzz-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- specs ----------------------------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["7d", "0s", "1ms", "* * * * *", "raw.orders", "x; DROP TABLE t", "SELECT 1", "sum(value)", ""]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            out += _paths(child, (*prefix, i))
    return out


def _mutate_structure(data: st.DataObject, doc: Any) -> Any:
    """Replace a value, delete a key or item, duplicate an item, or rename a key, somewhere in the document."""
    for _ in range(data.draw(st.integers(1, 4))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            return data.draw(values)
        path = data.draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        op = data.draw(st.sampled_from(["replace", "delete", "duplicate", "rename"]))
        if op == "replace":
            parent[key] = data.draw(values)
        elif op == "delete":
            del parent[key]
        elif op == "duplicate" and isinstance(parent, list):
            parent.insert(key, parent[key])
        elif op == "rename" and isinstance(parent, dict):
            parent[data.draw(st.text(max_size=12))] = parent.pop(key)
    return doc


def _mutate_text(data: st.DataObject, text: str) -> str:
    """Insert unicode, cut, duplicate a line (a duplicate key), add anchors and aliases, nest deeply, or bomb."""
    for _ in range(data.draw(st.integers(1, 3))):
        lines = text.splitlines(keepends=True) or [""]
        at = data.draw(st.integers(0, len(text)))
        line = data.draw(st.integers(0, len(lines) - 1))
        keyed = [i for i, x in enumerate(lines) if re.match(r"^\s*(- )?[a-z_]+: +[^#\s]", x)] or [line]
        key_line = data.draw(st.sampled_from(keyed))  # a line with a key and a value (not a comment)
        op = data.draw(
            st.sampled_from(
                ["cycle", "alias", "bomb", "nest", "bytes", "insert", "cut", "truncate", "duplicate_line", "tab"]
            )
        )
        if op == "insert":
            text = text[:at] + data.draw(st.text(min_size=1, max_size=20)) + text[at:]
        elif op == "cut":
            text = text[:at] + text[at + data.draw(st.integers(1, 200)) :]
        elif op == "truncate":
            text = text[:at]
        elif op == "duplicate_line":
            text = "".join([*lines[: line + 1], lines[line], *lines[line + 1 :]])
        elif op == "alias":
            anchored = re.sub(r":( +)(\S)", r": &a\1\2", lines[key_line], count=1)
            text = "".join([*lines[:key_line], anchored, *lines[key_line + 1 :]]) + "extra: *a\n"
        elif op == "cycle":
            anchored = re.sub(r":( +)(\S)", r": &c\1[*c, \2", lines[key_line], count=1).rstrip("\n") + "]\n"
            text = "".join([*lines[:key_line], anchored, *lines[key_line + 1 :]])
        elif op == "nest":
            depth = data.draw(st.integers(10, 3000))
            text = text[:at] + "[" * depth + "x" + "]" * depth + text[at:]
        elif op == "bomb":
            levels = data.draw(st.integers(2, 9))
            bomb = "b0: &b0 [x]\n" + "".join(
                f"b{i}: &b{i} [{', '.join([f'*b{i - 1}'] * 9)}]\n" for i in range(1, levels)
            )
            text = text + bomb
        elif op == "tab":
            text = text[:at] + "\t" + text[at:]
        elif op == "bytes":
            return text[:at] + "\udcff" + text[at:]  # written with surrogateescape: a byte that is not UTF-8
    return text


def _run_validate(path: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", str(path)])
    return code, out.getvalue(), err.getvalue()


def _assert_clean(path: Path, code: int, out: str, err: str) -> None:
    assert "unexpected" not in err and "Traceback" not in err + out, err
    assert code in (EXIT_OK, EXIT_USAGE), (code, out, err)
    located = re.compile(rf"^{re.escape(str(path))}:[1-9][0-9]*:[1-9][0-9]*: .*: \S")
    problems = [line for line in out.splitlines() if ": warning: " not in line and not line.endswith("SLOs")]
    if code == EXIT_USAGE:
        assert problems, (out, err)
        assert all(located.match(line) for line in problems), out
        assert err.strip().endswith("problem(s) found"), err
    else:
        assert problems == [], out


def _write(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8", errors="surrogateescape"))


@FUZZ
@given(st.data())
def test_mutated_specs_are_valid_or_refused_at_a_place_with_exit_2(data: st.DataObject) -> None:
    seed = SEED_TEXTS[data.draw(st.integers(0, len(SEED_TEXTS) - 1))]
    if data.draw(st.booleans()):
        text = yaml.safe_dump(_mutate_structure(data, yaml.safe_load(seed)), allow_unicode=True, sort_keys=False)
    else:
        text = _mutate_text(data, seed)
    with scratch() as folder:
        path = folder / "spec.yaml"
        _write(path, text)
        _assert_clean(path, *_run_validate(path))


@FUZZ
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300).map(lambda b: b.decode("latin-1"))))
def test_random_text_as_a_spec_is_refused_at_a_place_with_exit_2(text: str) -> None:
    with scratch() as folder:
        path = folder / "spec.yaml"
        path.write_bytes(text.encode("latin-1") if all(ord(c) < 256 for c in text) else text.encode())
        code, out, err = _run_validate(path)
        _assert_clean(path, code, out, err)
        assert code == EXIT_USAGE  # random text is never a whole spec


# --- source CSV files -----------------------------------------------------------------------------------------

GOOD_CSV: dict[str, tuple[SourceTable, bytes]] = {
    "orders": (
        ORDERS,
        b"order_id,customer_id,order_ts,channel\n"
        + b"".join(f"{i},{i % 7},2026-11-2{i % 8} 0{i % 10}:00:00,web\n".encode() for i in range(1, 30)),
    ),
    "order_items": (
        ORDER_ITEMS,
        b"order_id,line_number,product_id,quantity,unit_price\n"
        + b"".join(f"{i},1,{1000 + i},{i % 5 + 1},{i}.5\n".encode() for i in range(1, 30)),
    ),
}


def _mutate_bytes(data: st.DataObject, raw: bytes) -> bytes:
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw)))
        op = data.draw(st.sampled_from(["insert", "unicode", "cut", "truncate", "duplicate_line", "swap_quote"]))
        if op == "insert":
            raw = raw[:at] + data.draw(st.binary(min_size=1, max_size=8)) + raw[at:]
        elif op == "unicode":
            raw = raw[:at] + data.draw(st.text(min_size=1, max_size=8)).encode() + raw[at:]
        elif op == "cut":
            raw = raw[:at] + raw[at + data.draw(st.integers(1, 40)) :]
        elif op == "truncate":
            raw = raw[:at]
        elif op == "duplicate_line":
            lines = raw.splitlines(keepends=True) or [b""]
            i = data.draw(st.integers(0, len(lines) - 1))
            raw = b"".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])
        elif op == "swap_quote":
            raw = raw[:at] + b'"' + raw[at:]
    return raw


@FUZZ
@given(st.data())
def test_mutated_csv_files_load_or_fail_with_one_error_naming_the_file(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(GOOD_CSV)))
    table, good = GOOD_CSV[name]
    raw = _mutate_bytes(data, good)
    with scratch() as folder:
        path = folder / f"{name}.csv"
        path.write_bytes(raw)
        with connect(folder / "w.duckdb", landing=folder / "l.duckdb") as con:
            try:
                result = load_source(con, folder, table)
            except SourceDataError as exc:  # exit 3, one line naming the file
                message = str(exc)
                assert message.startswith(f"{path}: ") and "\n" not in message, message
                assert "Original Line" not in message and "Traceback" not in message
                return
            assert result.rows > 0
            assert raw.endswith(b"\n")  # a file without a final newline is never loaded (it may be cut off)


@pytest.mark.parametrize("name", sorted(GOOD_CSV))
def test_the_csv_seeds_load(name: str) -> None:
    table, good = GOOD_CSV[name]
    with scratch() as folder:
        (folder / f"{name}.csv").write_bytes(good)
        with connect(folder / "w.duckdb", landing=folder / "l.duckdb") as con:
            assert load_source(con, folder, table).rows == 29


def test_the_spec_seeds_are_valid() -> None:
    for path in SEEDS:
        code, out, err = _run_validate(path)
        assert code == EXIT_OK, out + err
