"""OpenSLO v1 out and in: a spec exported and imported again is the same spec, the documents meet the OpenSLO v1
specification's required fields and enumerations, and bad documents are refused at their line."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from dagster_project.interop.openslo import ALERT_AFTER, export_documents, import_documents, spec_data
from dagster_project.interop.openslo_check import check_stream
from dagster_project.interop.yaml_out import dump, dump_all
from dagster_project.spec.models import SpecFile
from dagster_project.spec.validate import validate
from dagster_project.spec.yaml_source import load_yaml_stream
from tests.cli_support import run_slo
from tests.conftest import REPO

SPEC_FILES = sorted([*(REPO / "slo_definitions").glob("*.yaml"), *(REPO / "tests" / "specs").rglob("*.yaml")])


def _valid_specs() -> list[Path]:
    """Every shipped and test spec that validates on its own (the bad/ ones are refused, as they should be)."""
    return [f for f in SPEC_FILES if not validate([f])[1]]


VALID = _valid_specs()


def _spec(path: Path) -> SpecFile:
    loaded, issues = validate([path])
    assert issues == []
    return loaded[0].spec


def _write_docs(tmp_path: Path, docs: list[dict[str, Any]], name: str = "x.openslo.yaml") -> Path:
    path = tmp_path / name
    path.write_text(dump_all(docs))
    return path


def test_the_round_trip_covers_the_shipped_spec_and_every_good_test_spec() -> None:
    names = {f.relative_to(REPO).as_posix() for f in VALID}
    assert {
        "slo_definitions/product_affinity.yaml",
        "tests/specs/good/minimal.yaml",
        "tests/specs/good/flights_minimal.yaml",
        "tests/specs/products/flight_punctuality.yaml",
    } <= names
    assert not any(n.startswith("tests/specs/bad/") for n in names)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.relative_to(REPO).as_posix())
def test_spec_to_openslo_to_spec_is_identity(path: Path, tmp_path: Path) -> None:
    spec = _spec(path)
    docs = load_yaml_stream(_write_docs(tmp_path, export_documents([spec])))
    back = import_documents(docs)
    assert back == spec
    assert spec_data(back) == spec_data(spec)  # the same fields given, not only the same values
    written = tmp_path / "back.yaml"
    written.write_text(dump(spec_data(back)))
    assert _spec(written) == spec


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.relative_to(REPO).as_posix())
def test_exported_documents_meet_the_openslo_v1_requirements(path: Path, tmp_path: Path) -> None:
    docs = load_yaml_stream(_write_docs(tmp_path, export_documents([_spec(path)])))
    assert [str(i) for i in check_stream(docs)] == []
    kinds = [d.data["kind"] for d in docs]
    assert kinds.count("SLO") == kinds.count("SLI") == len(_spec(path).slos)
    assert kinds.count("Service") == 1


def _by_name(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def test_thresholds_objectives_budgeting_and_windows_map_to_openslo_fields() -> None:
    docs = export_documents([_spec(REPO / "slo_definitions" / "product_affinity.yaml")])
    fresh = _by_name(docs, "SLO", "orders-fresh")["spec"]
    assert fresh["budgetingMethod"] == "Timeslices"  # the state of a table: a time SLI
    assert fresh["timeWindow"] == [{"duration": "28d", "isRolling": True}]
    assert fresh["objectives"][0] | {} == {
        "displayName": "orders_fresh",
        "target": 0.99,
        "op": "lte",
        "value": 26 * 3600,
        "timeSliceTarget": 1.0,
        "timeSliceWindow": "1m",
    }
    assert "thresholdMetric" in _by_name(docs, "SLI", "orders-fresh")["spec"]
    present = _by_name(docs, "SLI", "orders-customer-present")["spec"]
    assert present["ratioMetric"]["rawType"] == "success"
    assert present["ratioMetric"]["raw"]["metricSource"]["spec"] == {
        "dataset": "raw.orders",
        "indicator": {"type": "non_null_ratio", "columns": ["order_id", "customer_id", "order_ts"]},
    }
    assert _by_name(docs, "SLO", "orders-customer-present")["spec"]["objectives"][0]["timeSliceTarget"] == 0.99
    available = _by_name(docs, "SLO", "recommendations-query-available")["spec"]
    assert available["budgetingMethod"] == "Occurrences"  # runs of a query are events
    assert available["objectives"][0]["op"] == "gte"
    service = _by_name(docs, "Service", "product-affinity")
    assert service["metadata"]["annotations"]["slo-monitor.dev/owner"] == "marketing-analytics"


def test_alert_policies_carry_the_generated_rules_factors_windows_and_for() -> None:
    from dagster_project.generators.rules import BURN_FOR

    assert ALERT_AFTER == BURN_FOR
    docs = export_documents([_spec(REPO / "slo_definitions" / "product_affinity.yaml")])
    page = _by_name(docs, "AlertPolicy", "burn-28d-page-1h-5m")["spec"]["conditions"][0]["spec"]
    assert page["severity"] == "page"
    assert page["condition"] == {
        "kind": "burnrate",
        "op": "gt",
        "threshold": 13.44,  # 2% of a 28-day budget in one hour
        "lookbackWindow": "1h",
        "alertAfter": "2m",
    }
    # a warn SLO tickets and never pages; `alert: none` raises nothing
    warn = _by_name(docs, "SLO", "customer-metrics-fresh")["spec"]["alertPolicies"]
    assert {p["alertPolicyRef"] for p in warn} == {"burn-28d-ticket-1d-2h", "burn-28d-ticket-3d-6h"}
    assert "alertPolicies" not in _by_name(docs, "SLO", "order-channels-known")["spec"]


def _exported() -> list[dict[str, Any]]:
    return export_documents([_spec(REPO / "tests" / "specs" / "good" / "minimal.yaml")])


BREAKAGES = [
    ("apiVersion", lambda d: d[0].update(apiVersion="openslo/v1alpha"), "apiVersion must be openslo/v1"),
    ("kind", lambda d: d[0].update(kind="Objective"), "kind must be one of"),
    ("name", lambda d: d[-1]["metadata"].update(name="orders_fresh"), "is not an RFC 1123 name"),
    ("budgeting", lambda d: d[-1]["spec"].update(budgetingMethod="Sometimes"), "budgetingMethod must be one of"),
    ("target", lambda d: d[-1]["spec"]["objectives"][0].update(target=1.0), "target must be a number in [0, 1)"),
    ("slice", lambda d: d[-1]["spec"]["objectives"][0].pop("timeSliceWindow"), "timeSliceWindow"),
    ("op", lambda d: d[-1]["spec"]["objectives"][0].update(op="eq"), "op must be one of"),
    ("windows", lambda d: d[-1]["spec"]["timeWindow"].append({"duration": "7d"}), "exactly one window"),
    ("shorthand", lambda d: d[-1]["spec"]["timeWindow"][0].update(duration="30s"), "duration-shorthand"),
    ("sli", lambda d: d[-2]["spec"].update(ratioMetric={"counter": False}), "exactly one of thresholdMetric"),
    ("source", lambda d: d[-2]["spec"]["thresholdMetric"]["metricSource"].pop("spec"), "'spec'"),
    ("ref", lambda d: d[-1]["spec"].update(indicatorRef="elsewhere"), "no SLI named 'elsewhere'"),
    ("service", lambda d: d[-1]["spec"].update(service="nowhere"), "no Service named 'nowhere'"),
    ("policy", lambda d: d[0]["spec"].pop("notificationTargets"), "notificationTargets"),
    ("condition", lambda d: d[0]["spec"]["conditions"][0]["spec"]["condition"].update(kind="slo"), "burnrate"),
    ("annotation", lambda d: d[-1]["metadata"]["annotations"].update({"a b": "x"}), "key 'a b'"),
]


@pytest.mark.parametrize(("case", "breaks", "expected"), BREAKAGES, ids=[b[0] for b in BREAKAGES])
def test_the_check_refuses_each_violation_of_the_specification(
    case: str, breaks: Any, expected: str, tmp_path: Path
) -> None:
    docs = copy.deepcopy(_exported())
    kinds = [d["kind"] for d in docs]
    assert (kinds[0], kinds[-2:]) == ("AlertPolicy", ["SLI", "SLO"])
    assert check_stream(load_yaml_stream(_write_docs(tmp_path, docs))) == []
    breaks(docs)
    issues = [str(i) for i in check_stream(load_yaml_stream(_write_docs(tmp_path, docs, "broken.yaml")))]
    assert any(expected in i for i in issues), (case, issues)


def test_slo_import_openslo_writes_the_exported_spec_back(tmp_path: Path) -> None:
    exported = run_slo("export", "openslo", "-o", str(tmp_path / "openslo"), cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    source = tmp_path / "openslo" / "product_affinity.openslo.yaml"
    assert source.exists()
    out = tmp_path / "imported" / "product_affinity.yaml"
    imported = run_slo("import", "openslo", str(source), "-o", str(out), cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert _spec(out) == _spec(REPO / "slo_definitions" / "product_affinity.yaml")
    assert out.read_text().startswith("# Imported by `slo import openslo`")


def test_slo_export_openslo_prints_a_stream_of_every_product() -> None:
    result = run_slo("export", "openslo", "--slos", str(REPO / "tests" / "specs" / "products"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("---\napiVersion: openslo/v1\n")
    assert "name: flight-punctuality" in result.stdout


def test_import_of_a_document_outside_the_specification_fails_at_its_line_with_exit_2(tmp_path: Path) -> None:
    docs = _exported()
    docs[-1]["spec"]["budgetingMethod"] = "Sometimes"
    source = _write_docs(tmp_path, docs)
    line = source.read_text().splitlines().index("  budgetingMethod: Sometimes") + 1
    out = tmp_path / "spec.yaml"
    result = run_slo("import", "openslo", str(source), "-o", str(out), cwd=tmp_path)
    assert result.returncode == 2
    assert f"{source}:{line}:3: spec.budgetingMethod: budgetingMethod must be one of" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_import_refuses_a_foreign_metric_source_at_its_place(tmp_path: Path) -> None:
    docs = _exported()
    docs[-2]["spec"]["thresholdMetric"]["metricSource"]["type"] = "Prometheus"
    source = _write_docs(tmp_path, docs)
    line = source.read_text().splitlines().index("      type: Prometheus")  # the line above it: metricSource
    result = run_slo("import", "openslo", str(source), "-o", str(tmp_path / "spec.yaml"), cwd=tmp_path)
    assert result.returncode == 2
    assert f"{source}:{line}:" in result.stderr
    assert "metric source type 'Prometheus' cannot be imported" in result.stderr


def test_import_that_would_not_validate_leaves_the_existing_spec_alone(tmp_path: Path) -> None:
    docs = _exported()
    docs[-1]["metadata"]["annotations"]["slo-monitor.dev/protects"] = "use_case: nowhere"
    source = _write_docs(tmp_path, docs)
    out = tmp_path / "spec.yaml"
    out.write_text("kept\n")
    result = run_slo("import", "openslo", str(source), "-o", str(out), cwd=tmp_path)
    assert result.returncode == 2
    assert f"{out}:" in result.stderr and "unknown use case 'nowhere'" in result.stderr
    assert out.read_text() == "kept\n"
    assert list(tmp_path.glob(".*importing*")) == []


def test_a_yaml_stream_keeps_each_documents_own_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("---\na: 1\n---\nb:\n  c: 2\n")
    first, second = load_yaml_stream(path)
    assert (first.data, second.data) == ({"a": 1}, {"b": {"c": 2}})
    assert second.position(("b", "c")).line == 5
