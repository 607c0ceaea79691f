"""ODCS v3 data contracts in and out: a contract written the way the ODCS documentation writes its examples imports
into a spec that validates, what cannot be mapped is reported at the contract's lines, exported contracts pass the
open-data-contract-standard model and its JSON Schema, and export -> import keeps datasets, schema and the quality
SLOs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from open_data_contract_standard.model import OpenDataContractStandard

from dagster_project.interop.odcs import export_contract, import_contract, json_schema, schema_errors
from dagster_project.interop.yaml_out import dump
from dagster_project.spec.models import SpecFile
from dagster_project.spec.validate import validate
from dagster_project.spec.yaml_source import load_yaml
from tests.cli_support import run_slo
from tests.conftest import REPO

CONTRACT = REPO / "tests" / "odcs" / "orders.odcs.yaml"
SPEC_FILES = sorted([*(REPO / "slo_definitions").glob("*.yaml"), *(REPO / "tests" / "specs").rglob("*.yaml")])
VALID = [f for f in SPEC_FILES if not validate([f])[1]]


def _spec(path: Path) -> SpecFile:
    loaded, issues = validate([path])
    assert issues == []
    return loaded[0].spec


def _line(text: str, path: Path = CONTRACT) -> int:
    """The 1-based line of the one line of `path` containing `text`."""
    found = [n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    assert len(found) == 1, (text, found)
    return found[0]


def _slos(spec: SpecFile) -> dict[str, dict[str, Any]]:
    return {s.id: s.model_dump(mode="json", exclude_unset=True) for s in spec.slos}


def test_the_documentation_style_contract_imports_into_a_spec_that_validates(tmp_path: Path) -> None:
    out = tmp_path / "orders.yaml"
    result = run_slo("import", "odcs", str(CONTRACT), "-o", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    spec = _spec(out)
    assert spec.data_product.id == "my_orders"
    assert spec.data_product.owner == "daustin"  # the team member with the role Owner
    slos = {s.id: s for s in spec.slos}
    assert {s.dataset for s in spec.slos} == {"sales.orders"}  # the server's schema names the table's
    by_kind = {(s.indicator.type, s.threshold.min, s.severity) for s in spec.slos}
    assert ("matches_pattern", 1.0, "error") in by_kind  # invalidValues with a pattern, mustBe 0
    assert ("in_set", 0.98, "warn") in by_kind  # invalidValues with validValues, at most 2 percent, warning
    assert ("uniqueness", 0.99, "error") in by_kind  # duplicateValues under 1 percent
    status = slos["orders_order_status_nullvalues"]
    assert (status.indicator.model_dump(), status.threshold.min) == (
        {"type": "non_null_ratio", "columns": ["order_status"], "missing_values": []},
        0.99,
    )
    schema = slos["orders_schema"].indicator.model_dump()
    assert schema["columns"]["order_id"] == "VARCHAR(36)"  # physicalType first
    assert schema["columns"]["order_status"] == "VARCHAR"  # else the logicalType's DuckDB type
    assert "shipping_address" not in schema["columns"]  # an object has no type to check
    key = slos["orders_primary_key_unique"].indicator.model_dump()
    assert key["columns"] == ["tenant_id", "order_id"]  # by primaryKeyPosition
    assert slos["orders_required"].indicator.model_dump()["columns"] == ["order_id", "tenant_id", "order_ts"]
    fresh = slos["orders_fresh"]
    assert (fresh.indicator.model_dump(), fresh.threshold.max) == ({"type": "max_age", "column": "order_ts"}, "4d")
    rows = slos["orders_row_count"].indicator.model_dump()["sql"]
    assert rows == "SELECT CASE WHEN (SELECT count(*) FROM sales.orders) > 100 THEN 1.0 ELSE 0.0 END"
    sql = slos["orders_sql"].indicator.model_dump()["sql"]
    assert "FROM sales.orders WHERE order_total < 0) = 0 THEN 1.0" in sql  # {object} replaced, mustBe compared


def test_what_cannot_be_mapped_is_reported_at_the_contracts_lines() -> None:
    imported = import_contract(load_yaml(CONTRACT))
    found = {(w.line, w.message.split(":")[1].strip()) for w in imported.warnings}
    assert all(w.message.startswith("warning: ") for w in imported.warnings)
    expected = {
        (_line("- metric: missingValues"), "not imported"),  # fewer than 100 rows: a count, not a share
        (_line("less than 10 duplicate values") - 3, "not imported"),  # 10 rows: a count, not a share
        (_line("- type: text"), "not imported"),
        (_line("engine: soda") - 1, "not imported"),
        (_line("property: retention"), "not imported"),
        (_line("property: frequency"), "not imported"),
        (_line("property: timeOfAvailability"), "not imported"),
        (_line("- name: shipping_address"), "nested properties are not imported"),
    }
    assert expected <= found, sorted(found)
    text = "\n".join(str(w) for w in imported.warnings)
    assert f"{CONTRACT}:{_line('property: retention')}:5: slaProperties.1: warning: not imported" in text
    assert "10 rows is a count that depends on the table's size" in text


def test_import_prints_warnings_and_the_spec_with_exit_0(tmp_path: Path) -> None:
    result = run_slo("import", "odcs", str(CONTRACT), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# Imported by `slo import odcs`")
    assert f"{CONTRACT}:{_line('- type: text')}:13: schema.0.properties.6.quality.1: warning:" in result.stderr


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.relative_to(REPO).as_posix())
def test_exported_contracts_validate_with_the_package_and_its_json_schema(path: Path) -> None:
    contract = export_contract(_spec(path))
    text = dump(contract)
    model = OpenDataContractStandard.from_string(text)
    assert model.apiVersion == "v3.2.0"
    assert model.model_dump(mode="json", by_alias=True, exclude_none=True) == contract  # nothing the model drops
    assert schema_errors(contract) == []


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.relative_to(REPO).as_posix())
def test_export_then_import_keeps_datasets_schema_and_quality_slos(path: Path, tmp_path: Path) -> None:
    spec = _spec(path)
    written = tmp_path / "contract.odcs.yaml"
    written.write_text(dump(export_contract(spec)))
    imported = import_contract(load_yaml(written))
    assert imported.warnings == []
    back_file = tmp_path / "back.yaml"
    back_file.write_text(dump(imported.data))
    back = _spec(back_file)
    assert _slos(back) == _slos(spec)
    assert back.model_dump(exclude={"slos"}) == spec.model_dump(exclude={"slos"})


def test_the_shipped_spec_uses_odcs_metrics_where_they_exist() -> None:
    contract = export_contract(_spec(REPO / "slo_definitions" / "product_affinity.yaml"))
    objects = {o["physicalName"]: o for o in contract["schema"]}
    rules = {
        r["id"]: r
        for o in objects.values()
        for holder in [o, *o.get("properties", [])]
        for r in holder.get("quality", [])
    }
    unique = rules["orders_unique"]
    assert (unique["metric"], unique["mustBeLessOrEqualTo"], unique["unit"]) == ("duplicateValues", 0.5, "percent")
    assert rules["order_channels_known"]["arguments"] == {"validValues": ["web", "app", "store"]}
    assert rules["customer_keys_well_formed"]["arguments"] == {"pattern": "^[0-9a-f]{16}$"}
    assert rules["lift_is_positive"]["type"] == "sql"
    assert rules["pair_affinity_unique"]["arguments"] == {"properties": ["product_a", "product_b"]}
    assert rules["order_item_prices_valid"]["engine"] == "slo-monitor"  # no ODCS metric for a range
    types = {p["name"]: p.get("physicalType") for p in objects["raw.order_items"]["properties"]}
    assert types["unit_price"] == "DOUBLE"
    fresh = next(s for s in contract["slaProperties"] if s["id"] == "orders_fresh")
    assert (fresh["property"], fresh["value"], fresh["unit"], fresh["element"]) == (
        "latency",
        26,
        "h",
        "raw_orders.order_ts",
    )


def test_slo_export_odcs_writes_a_contract_per_product(tmp_path: Path) -> None:
    result = run_slo("export", "odcs", "--slos", str(REPO / "tests" / "specs" / "products"), "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["flight_punctuality.odcs.yaml"]
    assert OpenDataContractStandard.from_file(str(tmp_path / written[0])).dataProduct == "flight_punctuality"


def test_a_contract_that_is_not_odcs_fails_with_exit_2_on_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.odcs.yaml"
    bad.write_text(
        "apiVersion: v3.1.0\nkind: DataContract\nid: x\nversion: 1.0.0\nschema:\n  - name: t\n    colour: red\n"
    )
    result = run_slo("import", "odcs", str(bad), "-o", str(tmp_path / "out.yaml"), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: not an ODCS v3 contract: {bad}:6:")
    assert "'colour' was unexpected" in lines[0]
    assert not (tmp_path / "out.yaml").exists()


def test_a_contract_with_nothing_to_import_fails_with_exit_2(tmp_path: Path) -> None:
    text = "apiVersion: v3.1.0\nkind: DataContract\nid: x\nversion: 1.0.0\nschema:\n  - name: t\n"
    bad = tmp_path / "empty.odcs.yaml"
    bad.write_text(text + "    quality:\n      - type: text\n        description: Looks right.\n")
    result = run_slo("import", "odcs", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert "nothing in" in result.stderr and f"{bad}:8:" in result.stderr and "Traceback" not in result.stderr


def test_an_sql_rule_the_spec_refuses_is_left_out_and_reported_at_its_rule(tmp_path: Path) -> None:
    contract = tmp_path / "c.odcs.yaml"
    contract.write_text(
        "apiVersion: v3.1.0\nkind: DataContract\nid: x\nversion: 1.0.0\nschema:\n  - name: t\n    quality:\n"
        "      - type: sql\n        query: SELECT count(*) FROM elsewhere.secrets\n        mustBe: 0\n"
        "      - metric: rowCount\n        mustBeGreaterThan: 0\n"
    )
    out = tmp_path / "spec.yaml"
    result = run_slo("import", "odcs", str(contract), "-o", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"{contract}:8:9: schema.0.quality.0: warning: not imported:" in result.stderr
    assert [s.id for s in _spec(out).slos] == ["t_row_count"]


def test_the_json_schema_check_allows_a_property_without_logical_type() -> None:
    # The shipped schema's `if logicalType == map` holds without a logicalType; ours requires the one it tests.
    contract = {
        "apiVersion": "v3.2.0",
        "kind": "DataContract",
        "id": "x",
        "version": "1",
        "schema": [{"name": "t", "properties": [{"name": "c"}]}],
    }
    assert schema_errors(contract) == []
    mapped = json_schema()["$defs"]["SchemaBaseProperty"]["allOf"]
    assert all("required" in c["if"] for c in mapped if "if" in c and "properties" in c["if"])
