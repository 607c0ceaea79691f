"""The spec: the shipped example is valid and complete, each bad spec is reported at its line, the schema is fresh."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dagster_project.cli.schema import SCHEMA_FILE, render
from dagster_project.settings import Settings
from dagster_project.spec.free_sql import FreeSqlRejected, require_expression
from dagster_project.spec.models import INDICATOR_UNITS, NonNullRatio, QueryLatency
from dagster_project.spec.validate import validate
from dagster_project.verify.database import database_issues
from tests.conftest import REPO

SPECS = REPO / "tests" / "specs"
BAD = sorted((SPECS / "bad").glob("*.yaml"))
ALL_DIMENSIONS = {
    "freshness",
    "completeness",
    "accuracy",
    "validity",
    "uniqueness",
    "schema",
    "performance",
    "governance",
}


def test_the_shipped_spec_is_valid_and_covers_every_dimension_on_sources_and_products() -> None:
    specs, issues = validate([REPO / "slo_definitions"])
    assert issues == []
    (spec,) = [s.spec for s in specs]
    slos = spec.slos
    assert {s.dimension for s in slos} == ALL_DIMENSIONS
    assert any(s.dataset.startswith("raw.") for s in slos)
    assert any(s.dataset.startswith("product_affinity.") for s in slos)
    assert spec.north_star is not None and spec.north_star.measure == "cross_sell_revenue_share"
    # Right to left: each SLO protects a goal or a use case, and each use case serves a goal (the shipped card is
    # complete, though a spec may start with less).
    goals = {g.id for g in spec.data_product.goals}
    use_cases = {u.id: u for u in spec.data_product.use_cases}
    for slo in slos:
        assert slo.protects is not None, slo.id
        served = [slo.protects.goal] if slo.protects.goal else use_cases[str(slo.protects.use_case)].goals
        assert set(served) <= goals and served, slo.id


def test_the_shipped_thresholds_are_at_least_as_strict_as_the_reference_targets() -> None:
    (loaded,), _ = validate([REPO / "slo_definitions"])
    minimum_by_dimension = {"completeness": 0.99, "uniqueness": 0.995, "validity": 0.95, "schema": 1.0}
    for slo in loaded.spec.slos:
        if slo.dimension in minimum_by_dimension and slo.indicator.type != "row_volume":
            assert isinstance(slo.threshold.min, float) and slo.threshold.min >= minimum_by_dimension[slo.dimension]
        if slo.indicator.type == "max_age":
            # Purchase data within 2 days (the reference); the shipped bounds leave slack over the daily build.
            assert slo.threshold.max in ("24h", "1d", "26h") or str(slo.threshold.max).endswith("m")
        if slo.indicator.type == "query_latency":
            assert isinstance(slo.indicator, QueryLatency)
            assert slo.threshold.max == "500ms" and slo.indicator.percentile >= 95
        if slo.indicator.type == "no_pii":
            assert slo.threshold.max == 0


# The source columns the product's numbers are computed from (product/staging.py, build_order_lines): the keys that
# join and deduplicate lines, revenue = quantity x unit_price, baskets by product and category, customers, dates.
NUMBERS_DEPEND_ON = {
    "raw.orders": {"order_id", "customer_id", "order_ts"},
    "raw.order_items": {"order_id", "line_number", "product_id", "quantity", "unit_price"},
    "raw.products": {"product_id", "category"},
}


def test_the_shipped_spec_blocks_on_missing_values_of_every_column_the_numbers_depend_on() -> None:
    (loaded,), _ = validate([REPO / "slo_definitions"])
    covered = {
        (s.dataset, c)
        for s in loaded.spec.slos
        if s.severity == "error" and isinstance(s.indicator, NonNullRatio)
        for c in s.indicator.columns
    }
    assert {(d, c) for d, columns in NUMBERS_DEPEND_ON.items() for c in columns} <= covered


def test_the_shipped_spec_names_only_datasets_and_columns_that_exist(built_product: Settings) -> None:
    specs, issues = validate([REPO / "slo_definitions"])
    assert issues == []
    assert database_issues(specs, built_product.database) == []


def test_good_specs_are_valid() -> None:
    assert validate([SPECS / "good"])[1] == []


def test_there_are_at_least_twenty_distinct_bad_specs() -> None:
    assert len(BAD) >= 20
    assert len({p.read_text().splitlines()[0] for p in BAD}) == len(BAD)


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_a_bad_spec_is_reported_once_with_its_message_at_its_line(path: Path) -> None:
    expected = path.read_text().splitlines()[0].removeprefix("# expect: ")
    _, issues = validate([path])
    assert len(issues) == 1, [str(i) for i in issues]
    assert str(issues[0]).startswith(f"{path}:{expected}")


def test_a_database_check_names_the_missing_column_at_its_line(tmp_path: Path, built_product: Settings) -> None:
    text = (SPECS / "good" / "minimal.yaml").read_text().replace("column: order_ts}", "column: ordered_at}")
    (tmp_path / "spec.yaml").write_text(text)
    specs, issues = validate([tmp_path / "spec.yaml"])
    assert issues == []
    (issue,) = database_issues(specs, built_product.database)
    assert str(issue).startswith(
        f"{tmp_path / 'spec.yaml'}:52:32: slos.0.indicator.column: column 'ordered_at' does not exist"
    )


def test_every_indicator_type_has_a_unit() -> None:
    from dagster_project.spec.models import Slo

    tags = Slo.model_fields["indicator"].annotation
    assert tags is not None
    assert set(INDICATOR_UNITS) == {m.model_fields["type"].annotation.__args__[0] for m in tags.__args__}


def test_the_committed_json_schema_is_current() -> None:
    # Compared as JSON: pydantic's older releases print 0 where newer ones print 0.0 (the oldest-versions lane).
    committed = json.loads((REPO / SCHEMA_FILE).read_text())
    assert committed == json.loads(render()), f"regenerate with: slo schema -o {SCHEMA_FILE}"
    first_line = (REPO / "slo_definitions" / "product_affinity.yaml").read_text().splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=./slo-spec.schema.json"


def slo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dagster_project.cli.main", *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )


def test_validate_prints_every_problem_and_exits_2() -> None:
    paths = [str(SPECS / "bad" / n) for n in ("unknown_goal.yaml", "yaml_syntax_error.yaml", "missing_severity.yaml")]
    result = slo("validate", *paths)
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert all(line.startswith(str(SPECS / "bad")) for line in lines)
    assert "Traceback" not in result.stderr


def test_validate_rejects_duplicate_and_sub_minute_windows_at_their_place_with_exit_2() -> None:
    for name, where in (
        ("window_same_duration_twice.yaml", "57:19: slos.0.windows.1: window '24h' is the same duration as '1d'"),
        ("window_of_milliseconds.yaml", "57:15: slos.0.windows.0: window '500ms' is shorter than a minute"),
    ):
        result = slo("validate", str(SPECS / "bad" / name))
        assert result.returncode == 2, result.stdout + result.stderr
        (line,) = [line for line in result.stdout.splitlines() if ": warning: " not in line]
        assert line.startswith(f"{SPECS / 'bad' / name}:{where}")
        assert "Traceback" not in result.stderr


def test_validate_accepts_the_shipped_spec_and_exits_0() -> None:
    result = slo("validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 spec file(s) valid: 31 SLOs" in result.stdout


@pytest.mark.parametrize(
    ("expression", "ok"),
    [
        ("sum(value) FILTER (WHERE metric = 'a;b -- c')", True),  # inside a string literal: fine
        ("count(*) / nullif(sum(x), 0)", True),
        ("sum(value) -- the window is cut off", False),
        ("sum(value); DROP TABLE t", False),
        ("sum(value) /* hidden */", False),
        ("sum(value)) FROM other (", False),
        ("sum(value", False),
        ("'unterminated", False),
    ],
)
def test_a_measure_expression_must_stay_one_expression(expression: str, ok: bool) -> None:
    if ok:
        require_expression(expression)
    else:
        with pytest.raises(FreeSqlRejected, match=r"must be one expression|does not parse"):
            require_expression(expression)
