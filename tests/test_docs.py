"""The documentation cannot rot: every SLO example in docs/ is validated and evaluated against a real build, every
indicator type has one, and the commands shown are run."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from dagster_project.engines.native import evaluate, open_for_checks
from dagster_project.settings import Settings
from dagster_project.slo.domain import all_slos
from dagster_project.slo.plan import compile_plan
from dagster_project.spec.models import INDICATOR_UNITS
from dagster_project.spec.validate import validate
from tests.conftest import AS_OF, REPO

DOCS = REPO / "docs"


def yaml_blocks(path: Path) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", path.read_text(), re.DOTALL)


def test_every_indicator_type_has_a_documented_example() -> None:
    documented = set(re.findall(r"## .* \(`([a-z_]+)`\)", (DOCS / "writing-slos.md").read_text()))
    assert documented == set(INDICATOR_UNITS)


def test_every_slo_example_validates_and_evaluates_on_a_real_build(tmp_path: Path, built_product: Settings) -> None:
    card = (REPO / "tests" / "specs" / "good" / "minimal.yaml").read_text().split("slos:\n")[0]
    examples = yaml_blocks(DOCS / "writing-slos.md")
    assert len(examples) == len(INDICATOR_UNITS)
    spec = tmp_path / "docs_examples.yaml"
    spec.write_text(card + "slos:\n" + "".join(examples))
    specs, issues = validate([spec])
    assert [str(i) for i in issues] == []
    slos = all_slos([s.spec for s in specs])
    with open_for_checks(built_product.database) as con:
        evaluations = evaluate(con, compile_plan(slos), AS_OF.replace(tzinfo=None))
    assert [(e.slo.id, e.error) for e in evaluations if e.error is not None] == []
    assert {e.slo.kind for e in evaluations} == set(INDICATOR_UNITS)


def test_the_commands_shown_in_the_docs_run(built_product: Settings) -> None:
    text = (DOCS / "writing-slos.md").read_text()
    commands = [line for block in re.findall(r"```sh\n(.*?)```", text, re.DOTALL) for line in block.splitlines()]
    assert commands
    for command in commands:
        argv = shlex.split(command.replace(".slo_state/warehouse.duckdb", str(built_product.database)))
        assert argv[0] == "slo"
        result = subprocess.run(
            [sys.executable, "-m", "dagster_project.cli.main", *argv[1:]],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, (command, result.stdout, result.stderr)


def test_the_metrics_reference_is_generated_from_the_names_module() -> None:
    from dagster_project.generators.metrics_doc import render

    assert (DOCS / "metrics.md").read_text() == render(), (
        "docs/metrics.md is stale: python -m dagster_project.generators.metrics_doc > docs/metrics.md"
    )
