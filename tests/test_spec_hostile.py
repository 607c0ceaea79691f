"""Hostile specs: YAML that would exhaust time, memory or the stack, and SQL that would write, read what the spec does
not name, or widen the query a measure is placed in. Each is refused at its place with exit 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dagster_project.engines.native_sql import table_ref
from dagster_project.spec.free_sql import FreeSqlRejected, require_measure_query, require_single_select
from dagster_project.spec.validate import validate
from dagster_project.spec.yaml_doc import MAX_SPEC_BYTES, YamlError
from dagster_project.spec.yaml_source import MAX_ALIASES, MAX_DEPTH, MAX_NODES, load_yaml
from tests.conftest import REPO

GOOD = (REPO / "tests" / "specs" / "good" / "minimal.yaml").read_text()


def slo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dagster_project.cli.main", *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )


def alias_bomb(levels: int, fan_out: int) -> str:
    """The "billion laughs": each level a list of `fan_out` aliases of the one before: fan_out**levels values."""
    lines = ["a0: &a0 [lol]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan_out)}]")
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_alias_bomb_is_refused_at_the_alias_that_exceeds_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb(levels=9, fan_out=9))  # 9**9 = 387 million values from a few hundred bytes
    with pytest.raises(YamlError) as raised:
        load_yaml(path)
    assert f"more than {MAX_NODES} values with aliases expanded" in raised.value.message
    assert raised.value.position.line > 1  # the line of an alias, not the file's start


def test_slo_validate_refuses_an_alias_bomb_with_file_line_and_exit_2(tmp_path: Path) -> None:
    # 10**6 values: small enough that the loader without limits builds it (and fails later on the structure).
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb(levels=6, fan_out=10))
    result = slo("validate", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = [x for x in result.stdout.splitlines() if "warning" not in x]
    assert line.startswith(f"{path}:") and "aliases expanded" in line, line
    assert "Traceback" not in result.stderr


def test_too_many_aliases_are_refused_even_when_each_is_small(tmp_path: Path) -> None:
    path = tmp_path / "aliases.yaml"
    path.write_text("a: &a 1\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n")
    with pytest.raises(YamlError, match=f"more than {MAX_ALIASES} aliases"):
        load_yaml(path)


@pytest.mark.parametrize("text", ["a: &a [*a]\n", "a: &a {b: [1, {c: *a}]}\n"])
def test_an_alias_inside_the_value_it_names_is_refused_not_a_recursion_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "cycle.yaml"
    path.write_text(text)
    result = slo("validate", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"{path}:1:") and "alias *a is inside the value it names" in line, line
    assert "RecursionError" not in result.stderr


@pytest.mark.parametrize("style", ["flow", "block"])
def test_deep_nesting_is_refused_at_its_line_not_a_recursion_error(tmp_path: Path, style: str) -> None:
    path = tmp_path / "deep.yaml"
    depth = 5000 if style == "flow" else 500  # within the size limit
    if style == "flow":
        path.write_text("a: " + "[" * depth + "]" * depth + "\n")
    else:
        path.write_text("".join(f"{'  ' * i}k{i}:\n" for i in range(depth)) + "  " * depth + "x\n")
    result = slo("validate", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stdout.splitlines()
    assert f"nested more than {MAX_DEPTH} levels deep" in line
    file, line_no, _column, _rest = line.split(":", 3)
    assert file == str(path) and int(line_no) == (1 if style == "flow" else MAX_DEPTH)
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr


def test_a_spec_larger_than_the_limit_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    # A valid spec padded with comments: without a size limit it is read, parsed and accepted.
    path.write_text(GOOD + ("# " + "x" * 98 + "\n") * (MAX_SPEC_BYTES // 100 + 1))
    result = slo("validate", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"{path}:1:1: (document): the file is larger than {MAX_SPEC_BYTES} bytes; a spec is text"
    ]


def test_a_spec_that_is_not_utf8_is_refused_at_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(GOOD.replace("name: Shop", "name: Sh\xf6p").encode("latin-1"))
    _specs, issues = validate([path])
    (issue,) = issues
    assert (issue.line, issue.message) == (GOOD.splitlines().index("  name: Shop") + 1, "not UTF-8 text: byte 0xf6")


def test_the_shipped_spec_and_the_good_specs_load_within_the_limits() -> None:
    for path in [REPO / "slo_definitions", REPO / "tests" / "specs" / "good"]:
        assert validate([path])[1] == []


# --- free SQL, on its parse tree -------------------------------------------------------------------------------

SPEC_TABLES = {"s.t", "s.u"}


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("WITH d AS (DELETE FROM s.t RETURNING *) SELECT count(*) FROM d", "DELETE is not allowed"),
        ("WITH d AS (INSERT INTO s.t VALUES (1) RETURNING *) SELECT 1 FROM d", "INSERT is not allowed"),
        ("WITH d AS (UPDATE s.t SET a = 1 RETURNING *) SELECT 1 FROM d", "UPDATE is not allowed"),
        ("SELECT * FROM read_csv('/etc/passwd')", "table function"),
        ("SELECT * FROM read_parquet('x.parquet')", "table function"),
        ("SELECT * FROM glob('/*')", "table function"),
        ("SELECT * FROM '/etc/passwd'", "schema.table"),
        ("SELECT getenv('HOME')", "getenv() is not allowed"),
        ("SELECT email FROM raw.customers", "raw.customers, which is not one of the spec's datasets"),
        ("SELECT a FROM s.t WHERE a IN (SELECT a FROM raw.customers)", "raw.customers"),
        ("SELECT * FROM other_db.s.t", "names a database"),
        ("PRAGMA database_list", "must be a SELECT"),
        ("ATTACH ':memory:' AS fake", "must be a SELECT"),
        ("COPY s.t TO 'out.csv'", "must be a SELECT"),
        ("INSTALL httpfs", "must be a SELECT"),
        ("LOAD json", "must be a SELECT"),
    ],
)
def test_free_sql_that_writes_or_reads_beyond_the_spec_is_refused(sql: str, message: str) -> None:
    with pytest.raises(FreeSqlRejected, match=message.replace("(", r"\(").replace(")", r"\)")):
        require_single_select(sql, SPEC_TABLES)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT coalesce(avg(CASE WHEN a > 0 THEN 1.0 ELSE 0.0 END), 1.0) FROM s.t",
        "SELECT count(*) FILTER (WHERE a > 1) / nullif(count(*), 0) FROM s.t",
        "SELECT a, row_number() OVER (PARTITION BY b ORDER BY a) AS r FROM s.t QUALIFY r = 1",
        "WITH x AS (SELECT a FROM s.u) SELECT count(*) FROM s.t JOIN x USING (a)",
        "SELECT a FROM s.t UNION ALL SELECT a FROM s.u",
        "SELECT 1",
    ],
)
def test_free_sql_that_only_reads_the_spec_datasets_passes(sql: str) -> None:
    require_single_select(sql, SPEC_TABLES)


def _measure_sql(expression: str) -> str:
    window = " WHERE \"d\" > TIMESTAMP '2000-01-01 00:00:00' AND \"d\" <= TIMESTAMP '2000-01-29 00:00:00'"
    return f"SELECT ({expression}) FROM {table_ref('s.t')}{window}"


@pytest.mark.parametrize(
    "expression",
    [
        "count(*) + \"'\" ) FROM s.u -- '",  # a quoted name hides a comment from a text scan
        'count(*) + "\'" ) FROM s.u WHERE TRUE OR ("\'"',
        "sum(a)) FROM s.u UNION SELECT (1",
        "sum(a) -- the window is cut off",
        "sum(a) /* the window is cut off */",
        "sum(a); DROP TABLE s.t",
        "SELECT sum(a) FROM s.u",
        "(SELECT sum(a) FROM s.u)",  # a query, not an expression over its table
        "sum(a) + (SELECT count(*) FROM raw.customers)",
        "E'\\'' ) FROM s.u --",  # an escape one parser may read differently from the other
        "sum(a) FILTER (WHERE a IN (SELECT a FROM read_csv('x.csv')))",
        "sum(a",
        "'unterminated",
    ],
)
def test_a_measure_cannot_leave_its_table_and_window(expression: str) -> None:
    with pytest.raises(FreeSqlRejected):
        require_measure_query(_measure_sql(expression), expression, SPEC_TABLES)


@pytest.mark.parametrize(
    "expression",
    [
        "sum(value) FILTER (WHERE metric = 'a;b -- c')",  # inside a string literal: fine
        "'a' || ') FROM s.u --'",
        "count(*) / nullif(sum(x), 0)",
        "count(*) FILTER (WHERE k IN (SELECT k FROM s.u)) / nullif(count(*), 0)",
        "$$ ) FROM s.u $$ || 'x'",
    ],
)
def test_a_measure_expression_over_its_table_passes(expression: str) -> None:
    require_measure_query(_measure_sql(expression), expression, SPEC_TABLES)


def test_a_key_with_a_line_break_is_reported_on_one_line(tmp_path: Path) -> None:
    # Found by the fuzz test: an unknown key "\r" printed as is split the issue over two lines.
    path = tmp_path / "spec.yaml"
    path.write_text(GOOD + '"bad\\rkey\\n": 1\n')
    result = slo("validate", str(path))
    assert result.returncode == 2
    (line,) = [x for x in result.stdout.splitlines() if ": warning: " not in x]
    assert line.endswith(r": bad\rkey\n: unknown field 'bad\rkey\n'"), line
