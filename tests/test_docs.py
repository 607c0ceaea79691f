"""The documentation cannot rot: every SLO example in docs/ is validated and evaluated against a real build, every
indicator type has one, and the commands shown are run."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from dagster_project.engines.native import evaluate, open_for_checks
from dagster_project.indicators.base import History
from dagster_project.settings import Settings
from dagster_project.slo.from_spec import all_slos
from dagster_project.slo.plan import compile_plan
from dagster_project.spec.models import INDICATOR_UNITS
from dagster_project.spec.validate import validate
from tests.conftest import AS_OF, REPO
from tests.prometheus_support import binary

DOCS = REPO / "docs"


def yaml_blocks(path: Path) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", path.read_text(), re.DOTALL)


def slo_examples(path: Path) -> list[str]:
    """The blocks that are entries of a `slos:` list (the others are whole spec files and `server:` blocks)."""
    return [b for b in yaml_blocks(path) if b.startswith("  - id:")]


def server_examples(path: Path) -> list[str]:
    return [b for b in yaml_blocks(path) if b.startswith("server:")]


def test_every_server_example_validates(tmp_path: Path) -> None:
    minimal = (REPO / "tests" / "specs" / "good" / "flights_minimal.yaml").read_text()
    examples = server_examples(DOCS / "writing-slos.md")
    assert {re.search(r"type: (\w+)", b).group(1) for b in examples} == {"duckdb", "postgres", "spark"}  # type: ignore[union-attr]
    for i, block in enumerate(examples):
        spec = tmp_path / f"server_{i}.yaml"
        spec.write_text(minimal.replace("slos:\n", block + "slos:\n", 1))
        _specs, issues = validate([spec])
        assert [str(issue) for issue in issues] == [], block


def whole_specs(path: Path) -> list[str]:
    return [b for b in yaml_blocks(path) if b.startswith("version:")]


def test_every_indicator_type_has_a_documented_example() -> None:
    documented = set(re.findall(r"## .* \(`([a-z_]+)`\)", (DOCS / "writing-slos.md").read_text()))
    assert documented == set(INDICATOR_UNITS)


def test_every_slo_example_validates_and_evaluates_on_a_real_build(tmp_path: Path, built_product: Settings) -> None:
    card = (REPO / "tests" / "specs" / "good" / "minimal.yaml").read_text().split("slos:\n")[0]
    examples = slo_examples(DOCS / "writing-slos.md")
    assert len(examples) == len(INDICATOR_UNITS)
    spec = tmp_path / "docs_examples.yaml"
    spec.write_text(card + "slos:\n" + "".join(examples))
    specs, issues = validate([spec])
    assert [str(i) for i in issues] == []
    slos = all_slos([s.spec for s in specs])
    with open_for_checks(built_product.database) as con:
        first_runs = {s.id: History() for s in slos if s.definition.history}  # schema_change: its baseline
        evaluations = evaluate(con, compile_plan(slos), AS_OF.replace(tzinfo=None), first_runs)
    assert [(e.slo.id, e.error) for e in evaluations if e.error is not None] == []
    assert {e.slo.kind for e in evaluations} == set(INDICATOR_UNITS)


def test_the_docs_start_with_the_minimal_spec_and_its_grown_form_validates_and_passes_on_own_data(
    tmp_path: Path,
) -> None:
    from dagster_project.slo.card_gaps import missing_from_card
    from dagster_project.slo.decide import passes
    from dagster_project.verify.database import database_issues
    from tests.test_start_small import make_flights

    page = DOCS / "writing-slos.md"
    minimal, grown = whole_specs(page)
    assert yaml_blocks(page)[0] == minimal  # the first spec a reader sees
    assert minimal == (REPO / "tests" / "specs" / "good" / "flights_minimal.yaml").read_text()
    (tmp_path / "grown.yaml").write_text(grown)
    specs, issues = validate([tmp_path / "grown.yaml"])
    assert [str(i) for i in issues] == []
    assert missing_from_card(specs[0].spec) == []  # grown: every part of the card is there
    db = make_flights(tmp_path / "flights.duckdb")
    assert [str(i) for i in database_issues(specs, db)] == []
    with open_for_checks(db) as con:
        evaluations = evaluate(con, compile_plan(all_slos([specs[0].spec])), AS_OF.replace(tzinfo=None))
    verdicts = {e.slo.id: (passes(e.observed, e.slo.threshold), e.error) for e in evaluations}
    assert verdicts == {"flights_fresh": (True, None), "delays_plausible": (True, None)}


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


# Commands shown in the docs that are long-running or need Docker: the test that exercises each instead.
COVERED_ELSEWHERE = {
    "make dev": "tests/test_dagster_ui.py starts dagster dev and launches runs through GraphQL",
    "slo serve --host 127.0.0.1 --port 9469 --refresh 5": "tests/test_prometheus.py scrapes slo serve",
}


def test_every_command_in_every_page_is_run_or_covered(tmp_path: Path) -> None:
    for page in sorted(DOCS.glob("*.md")):
        for block in re.findall(r"```sh\n(.*?)```", page.read_text(), re.DOTALL):
            for command in block.splitlines():
                if command in COVERED_ELSEWHERE:
                    continue
                argv = shlex.split(command)
                assert argv[0] == "slo", (page.name, command)
                if "--db" in argv:
                    continue  # run against a real build in test_the_commands_shown_in_the_docs_run
                # Generators write into the repository: run them into a copy and compare with what is committed.
                out = tmp_path / page.stem
                args = [a if a != "dashboards/prometheus" else str(out / "prometheus") for a in argv[1:]]
                if argv[1] == "dashboards":
                    args += ["-o", str(out / "dashboards")]
                result = subprocess.run(
                    [sys.executable, "-m", "dagster_project.cli.main", *args],
                    cwd=REPO,
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
                assert result.returncode == 0, (page.name, command, result.stderr)


def test_the_compose_file_mounts_files_that_exist_and_uses_the_documented_ports(tmp_path: Path) -> None:
    import yaml

    deploy = DOCS / "deploy"
    compose = yaml.safe_load((deploy / "docker-compose.yml").read_text())
    page = (DOCS / "deploying.md").read_text()
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            host = volume.split(":")[0]
            assert (deploy / host).resolve().exists(), (name, volume)
        for mapping in service.get("ports", []):
            port = mapping.split(":")[0]
            assert f"({port})" in page or f"port {port}" in page, (name, port)
    prometheus = yaml.safe_load((deploy / "prometheus.yml").read_text())
    targets = {t for job in prometheus["scrape_configs"] for c in job["static_configs"] for t in c["targets"]}
    assert targets == {"slo:9469", "pushgateway:9091"}
    # promtool checks the configuration with the generated rules laid out as the compose file mounts them.
    promtool = binary("promtool")
    (tmp_path / "rules").mkdir()
    (tmp_path / "prometheus.yml").write_text((deploy / "prometheus.yml").read_text())
    (tmp_path / "rules" / "slo_rules.yml").write_text(
        (REPO / "dashboards" / "prometheus" / "slo_rules.yml").read_text()
    )
    check = subprocess.run([promtool, "check", "config", str(tmp_path / "prometheus.yml")], capture_output=True)
    assert check.returncode == 0, check.stdout + check.stderr
    routes = yaml.safe_load((deploy / "alertmanager.yml").read_text())["route"]["routes"]
    assert {r["receiver"] for r in routes} == {"pager", "tickets"}
