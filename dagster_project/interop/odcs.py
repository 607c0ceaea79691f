"""Open Data Contract Standard (ODCS) v3 in and out: `slo import odcs` and `slo export odcs`.

Contracts are read and written through `open-data-contract-standard`, the standard's own pydantic model, and
checked against the JSON Schema it ships; this module only maps between that model and our wire spec.

In: the contract's schema becomes schema SLOs (physicalType, else logicalType, per property), `required` /
`unique` / `primaryKey` become completeness and uniqueness SLOs, library metrics (nullValues, missingValues,
invalidValues, duplicateValues, rowCount) and SQL rules become the indicator that measures the same thing, and a
latency (freshness) SLA a max_age SLO. What has no equivalent is reported at its line, not guessed.

Out: each dataset is a schema object (physicalName schema.table), a schema SLO its properties' types, the share
indicators library metrics in percent, custom SQL an SQL rule, max_age a latency SLA; SLOs ODCS has no metric for
are `custom` rules of engine slo-monitor holding the SLO itself. What the standard has no field for (objective,
windows, what an SLO protects, the product card) rides in customProperties named `sloMonitor...`, so a contract
exported and imported again gives the same SLOs (tests/test_odcs.py). docs/interop.md lists what is lossy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from pydantic import ValidationError

from dagster_project.spec.models import Slo, SpecFile
from dagster_project.spec.validate import SpecIssue, dotted
from dagster_project.spec.yaml_doc import Path_, YamlDocument

API_VERSION = "v3.2.0"
ENGINE = "slo-monitor"
VENDOR = "slo-monitor"
SLO_PROPERTY = "sloMonitor"  # on a rule, an SLA property or a schema object: the SLO fields ODCS has none for
SPEC_PROPERTY = "sloMonitorSpec"  # on the contract: the product card and the rest of the spec
DEFAULT_OBJECTIVE = 0.99  # an ODCS rule passes or fails; how often it must pass is ours to choose

# ODCS quality dimensions (data-quality.md) <-> ours. Ours to theirs where one fits; their consistency and coverage
# are read as accuracy and completeness.
DIMENSION_IN = {
    "accuracy": "accuracy",
    "completeness": "completeness",
    "conformity": "validity",
    "consistency": "accuracy",
    "coverage": "completeness",
    "timeliness": "freshness",
    "uniqueness": "uniqueness",
}
DIMENSION_OUT = {
    "accuracy": "accuracy",
    "completeness": "completeness",
    "validity": "conformity",
    "schema": "conformity",
    "freshness": "timeliness",
    "uniqueness": "uniqueness",
}
SEVERITY_IN = {
    **dict.fromkeys(("error", "critical", "fatal", "blocker", "high"), "error"),
    **dict.fromkeys(("warning", "warn", "info", "low", "minor", "medium"), "warn"),
}
LOGICAL_IN = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "time": "TIME",
}
_LOGICAL_OUT = (
    (r"(TINYINT|SMALLINT|INTEGER|INT|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)\d*", "integer"),
    (r"(DOUBLE|FLOAT|REAL|DECIMAL|NUMERIC).*", "number"),
    (r"(VARCHAR|TEXT|STRING|CHAR|BPCHAR|UUID).*", "string"),
    (r"(BOOLEAN|BOOL)", "boolean"),
    (r"DATE", "date"),
    (r"TIMESTAMP.*", "timestamp"),
    (r"TIME", "time"),
    (r".*\[\]", "array"),
)
_UNIT_SECONDS = {
    **dict.fromkeys(("ms", "millisecond", "milliseconds"), 0.001),
    **dict.fromkeys(("s", "sec", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
    **dict.fromkeys(("w", "week", "weeks"), 7 * 86400),
    **dict.fromkeys(("y", "yr", "year", "years"), 365 * 86400),
}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PLACEHOLDER = r"[\"'`]?\$?\{%s\}[\"'`]?"
_OPERATORS = {
    "mustBe": "=",
    "mustNotBe": "<>",
    "mustBeGreaterThan": ">",
    "mustBeGreaterOrEqualTo": ">=",
    "mustBeLessThan": "<",
    "mustBeLessOrEqualTo": "<=",
    "mustBeBetween": "BETWEEN",
    "mustNotBeBetween": "NOT BETWEEN",
}


class NotAContract(Exception):
    """The file is not a valid ODCS v3 contract; each problem at its place."""

    def __init__(self, issues: Sequence[SpecIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in issues))


@cache
def json_schema() -> dict[str, Any]:
    """The ODCS JSON Schema shipped with the package (the one its version models), with one fix: its conditions
    on `logicalType` (`if: {properties: {logicalType: {const: map}}}`) hold when a property has no logicalType at
    all, so every untyped property would need a `map`. Each condition is made to require the logicalType it tests,
    as the standard's text means it (a property's types are optional)."""
    text = resources.files("open_data_contract_standard").joinpath("schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    _require_tested_logical_type(schema)
    return schema


def _require_tested_logical_type(node: Any) -> None:
    if isinstance(node, dict):
        condition = node.get("if")
        if isinstance(condition, dict):
            for branch in [condition, *condition.get("anyOf", [])]:
                if "logicalType" in branch.get("properties", {}) and "required" not in branch:
                    branch["required"] = ["logicalType"]
        for value in node.values():
            _require_tested_logical_type(value)
    elif isinstance(node, list):
        for value in node:
            _require_tested_logical_type(value)


def schema_errors(data: Any) -> list[tuple[Path_, str]]:
    """Where `data` breaks the ODCS JSON Schema (draft 2019-09), as (path, message), in document order."""
    from jsonschema import Draft201909Validator

    validator = Draft201909Validator(json_schema())
    found = []
    for error in validator.iter_errors(data):
        message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
        found.append((tuple(error.absolute_path), message))
    return sorted(found, key=lambda e: [str(p) for p in e[0]])


def _round(value: float) -> float:
    return round(value, 12)


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if not slug or not slug[0].isalpha():
        slug = f"x_{slug}"
    return slug[:64]


# Export ---------------------------------------------------------------------------------------------------------


def _slo_meta(slo: Slo, mapped: Iterable[str]) -> dict[str, Any]:
    """The SLO's fields the contract carries nowhere else (only those given: the import restores them as written)."""
    data = slo.model_dump(mode="json", exclude_unset=True)
    return {k: v for k, v in data.items() if k not in {"dataset", "indicator", "threshold", *mapped}}


def _custom(meta: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"property": SLO_PROPERTY, "value": meta, "vendor": VENDOR}] if meta else []


def _rule_base(slo: Slo) -> tuple[dict[str, Any], set[str]]:
    rule: dict[str, Any] = {"id": slo.id}
    mapped = {"id", "severity"}
    if slo.description:
        rule["description"] = slo.description
        mapped.add("description")
    dimension = DIMENSION_OUT.get(slo.dimension)
    if dimension is not None:
        rule["dimension"] = dimension
        if DIMENSION_IN[dimension] == slo.dimension:
            mapped.add("dimension")
    rule["severity"] = "error" if slo.severity == "error" else "warning"
    return rule, mapped


def _bad_share(slo: Slo) -> dict[str, Any]:
    """A minimum share of good rows as the ODCS operator on the count of bad ones: none, or at most p percent."""
    low = slo.threshold.min
    assert isinstance(low, int | float)
    if low >= 1:
        return {"mustBe": 0}
    return {"mustBeLessOrEqualTo": _round((1 - low) * 100), "unit": "percent"}


def _mappable_share(slo: Slo) -> bool:
    low = slo.threshold.min
    return isinstance(low, int | float) and 0 <= low <= 1


def _quality_rules(slo: Slo) -> list[tuple[str | None, dict[str, Any]]]:
    """The SLO as ODCS quality rules, each with the property it sits on (None: the schema object)."""
    ind: Any = slo.indicator  # its fields are read by its type name (the registry's models share no base fields)
    rule, mapped = _rule_base(slo)
    if ind.type in ("non_null_ratio", "uniqueness", "in_set", "matches_pattern") and _mappable_share(slo):
        if ind.type == "in_set" and ind.nulls == "ignore":
            rule |= {"metric": "invalidValues", "arguments": {"validValues": list(ind.values)}}
        elif ind.type == "matches_pattern" and ind.nulls == "ignore":
            rule |= {"metric": "invalidValues", "arguments": {"pattern": ind.regex}}
        elif ind.type == "non_null_ratio" and ind.missing_values:
            rule |= {"metric": "missingValues", "arguments": {"missingValues": [None, *ind.missing_values]}}
        elif ind.type == "non_null_ratio":
            rule |= {"metric": "nullValues"}
        elif ind.type == "uniqueness" and len(ind.columns) == 1:
            rule |= {"metric": "duplicateValues"}
        elif ind.type == "uniqueness":
            rule |= {"metric": "duplicateValues", "arguments": {"properties": list(ind.columns)}}
        if "metric" in rule:
            rule |= _bad_share(slo)
            meta = _slo_meta(slo, mapped)
            if ind.type == "non_null_ratio":  # one rule per column, read back as one SLO by their shared id
                columns = {"columns": list(ind.columns)} if len(ind.columns) > 1 else {}
                rule["customProperties"] = _custom(meta | columns)
                return [(c, dict(rule)) for c in ind.columns]
            rule["customProperties"] = _custom(meta)
            if ind.type == "uniqueness" and len(ind.columns) > 1:
                return [(None, rule)]
            return [(ind.columns[0] if ind.type == "uniqueness" else ind.column, rule)]
    if ind.type == "custom_sql" and "unit" not in ind.model_fields_set:  # a ratio; another unit is ours (below)
        if slo.threshold.min is not None and slo.threshold.max is not None:
            rule |= {"type": "sql", "query": ind.sql, "mustBeBetween": [slo.threshold.min, slo.threshold.max]}
        else:
            op = "mustBeGreaterOrEqualTo" if slo.threshold.min is not None else "mustBeLessOrEqualTo"
            rule |= {"type": "sql", "query": ind.sql, op: slo.threshold.bound}
        rule["customProperties"] = _custom(_slo_meta(slo, mapped))
        return [(None, rule)]
    data = slo.model_dump(mode="json", exclude_unset=True)
    rule |= {"type": "custom", "engine": ENGINE, "implementation": data}
    return [(None, rule)]


def _latency(slo: Slo, obj_name: str) -> dict[str, Any]:
    bound = str(slo.threshold.bound)
    m = re.fullmatch(r"([0-9.]+)(ms|s|m|h|d|w)", bound.strip())
    assert m is not None  # a max_age threshold is a duration (validated)
    value, unit = float(m.group(1)), m.group(2)
    if unit == "w":
        value, unit = value * 7, "d"
    indicator: Any = slo.indicator  # a max_age indicator
    prop: dict[str, Any] = {
        "id": slo.id,
        "property": "latency",
        "value": int(value) if value.is_integer() else value,
        "unit": unit,
        "element": f"{obj_name}.{indicator.column}",
    }
    if slo.description:
        prop["description"] = slo.description
    mapped = {"id", "description"} if slo.description else {"id"}
    prop["customProperties"] = _custom(_slo_meta(slo, mapped) | {"severity": slo.severity})
    return prop


def _logical(sql_type: str) -> str | None:
    for pattern, logical in _LOGICAL_OUT:
        if re.fullmatch(pattern, sql_type.upper()):
            return logical
    return None


def _object_names(datasets: Iterable[str]) -> dict[str, str]:
    """A schema object per dataset, named by its table (schema_table where two schemas hold the same table)."""
    tables = [d.split(".", 1)[1] for d in datasets]
    return {d: (t if tables.count(t) == 1 else d.replace(".", "_")) for d, t in zip(datasets, tables, strict=True)}


def export_contract(spec: SpecFile) -> dict[str, Any]:
    """The spec as an ODCS contract, checked by the package's model and JSON Schema (AssertionError: our bug)."""
    card = spec.data_product
    datasets = list(dict.fromkeys(s.dataset for s in spec.slos))
    names = _object_names(datasets)
    objects: dict[str, dict[str, Any]] = {
        d: {"name": names[d], "physicalName": d, "physicalType": "table", "properties": []} for d in datasets
    }
    props: dict[str, dict[str, dict[str, Any]]] = {d: {} for d in datasets}

    def prop(dataset: str, column: str) -> dict[str, Any]:
        return props[dataset].setdefault(column, {"name": column})

    sla: list[dict[str, Any]] = []
    for slo in spec.slos:
        ind: Any = slo.indicator  # read by its type name
        obj = objects[slo.dataset]
        if ind.type == "schema" and "schema_slo" not in obj and _mappable_share(slo) and slo.threshold.min == 1:
            obj["schema_slo"] = slo
            for column, sql_type in ind.columns.items():
                p = prop(slo.dataset, column)
                p["physicalType"] = sql_type
                logical = _logical(sql_type)
                if logical is not None:
                    p["logicalType"] = logical
            if slo.description:
                obj["description"] = slo.description
            obj["customProperties"] = _custom(_slo_meta(slo, {"dimension", "description"}))
            continue
        if ind.type == "max_age":
            prop(slo.dataset, ind.column)
            sla.append(_latency(slo, names[slo.dataset]))
            continue
        for on, rule in _quality_rules(slo):
            holder = obj if on is None else prop(slo.dataset, on)
            holder.setdefault("quality", []).append(rule)
    schema = []
    for dataset in datasets:
        obj = objects[dataset]
        obj.pop("schema_slo", None)
        first = ("name", "physicalType", "logicalType")
        obj["properties"] = [
            {k: p[k] for k in first if k in p} | {k: v for k, v in p.items() if k not in first}
            for p in props[dataset].values()
        ]
        if not obj["properties"]:
            del obj["properties"]
        order = ["name", "physicalName", "physicalType", "description", "properties", "quality", "customProperties"]
        schema.append({k: obj[k] for k in order if k in obj})
    contract: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "DataContract",
        "id": card.id,
        "name": card.name,
        "version": "1.0.0",
        "status": "active",
        "dataProduct": card.id,
    }
    if card.vision:
        contract["description"] = {"purpose": card.vision}
    contract["team"] = {"name": card.owner}
    contract["schema"] = schema
    if sla:
        contract["slaProperties"] = sla
    rest = spec.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude={"slos", "version"})
    rest["data_product"] = {k: v for k, v in rest["data_product"].items() if k not in ("id", "name", "owner", "vision")}
    rest = {k: v for k, v in rest.items() if v}
    if rest:
        contract["customProperties"] = [{"property": SPEC_PROPERTY, "value": rest, "vendor": VENDOR}]
    _check_written(contract)
    return contract


def _check_written(contract: dict[str, Any]) -> None:
    from open_data_contract_standard.model import OpenDataContractStandard

    model = OpenDataContractStandard.model_validate(contract)
    # The package's nested models ignore keys they do not know: a key lost here would be lost to every reader.
    assert model.model_dump(mode="json", by_alias=True, exclude_none=True) == contract, "a key the model drops"
    errors = schema_errors(contract)
    assert not errors, f"exported contract breaks the ODCS JSON Schema: {errors[:3]}"


# Import ---------------------------------------------------------------------------------------------------------


@dataclass
class Imported:
    """The spec's data (validated by the caller), where each SLO came from, and what could not be mapped."""

    doc: YamlDocument
    data: dict[str, Any]
    origins: list[Path_]
    warnings: list[SpecIssue] = field(default_factory=list)

    def warning_at(self, loc: Path_, message: str) -> SpecIssue:
        pos = self.doc.position(loc)
        return SpecIssue(str(self.doc.path), pos.line, pos.column, dotted(loc), f"warning: {message}")


@dataclass
class _Reader:
    doc: YamlDocument
    warnings: list[SpecIssue] = field(default_factory=list)
    slos: list[dict[str, Any]] = field(default_factory=list)
    origins: list[Path_] = field(default_factory=list)
    orders: dict[int, list[str]] = field(default_factory=dict)

    def warn(self, loc: Path_, message: str) -> None:
        self.warnings.append(Imported(self.doc, {}, []).warning_at(loc, message))

    def add(self, loc: Path_, slo: dict[str, Any], meta: dict[str, Any] | None = None) -> None:
        meta = dict(meta or {})
        order = meta.pop("columns", None)  # the columns of an SLO split into a rule per column, in its order
        slo = slo | meta
        slo.setdefault("objective", DEFAULT_OBJECTIVE)
        slo = {k: slo[k] for k in Slo.model_fields if k in slo}
        if isinstance(order, list):
            self.orders[id(slo)] = order
        for i, other in enumerate(self.slos):  # one SLO written as a rule per column (non_null_ratio) comes back one
            if other["id"] == slo["id"] and _mergeable(other, slo):
                other["indicator"]["columns"] += slo["indicator"]["columns"]
                written = self.orders.get(id(other))
                if written is not None and sorted(written) == sorted(other["indicator"]["columns"]):
                    other["indicator"]["columns"] = list(written)
                return
            if other["id"] == slo["id"]:
                slo["id"] = _unique_id(slo["id"], {s["id"] for s in self.slos})
                self.warn(loc, f"id {other['id']!r} is taken (by {dotted(self.origins[i])}): imported as {slo['id']!r}")
                break
        self.slos.append(slo)
        self.origins.append(loc)


def _mergeable(a: dict[str, Any], b: dict[str, Any]) -> bool:
    same = ("dataset", "threshold", "severity", "dimension")
    return (
        a["indicator"]["type"] == b["indicator"]["type"] == "non_null_ratio"
        and all(a.get(k) == b.get(k) for k in same)
        and not set(a["indicator"]["columns"]) & set(b["indicator"]["columns"])
    )


def _unique_id(base: str, taken: set[str]) -> str:
    n = 2
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


def _custom_value(holder: Any, name: str) -> dict[str, Any] | None:
    for prop in getattr(holder, "customProperties", None) or []:
        if prop.property == name and isinstance(prop.value, dict):
            return dict(prop.value)
    return None


def _dataset(obj: Any, default_schema: str) -> str | None:
    physical = obj.physicalName or obj.name
    parts = physical.split(".") if physical else []
    if len(parts) == 1:
        parts = [default_schema, parts[0]]
    return ".".join(parts) if len(parts) == 2 and all(_NAME.match(p) for p in parts) else None


def _column(prop: Any) -> str | None:
    name = prop.physicalName or prop.name
    return name if name and _NAME.match(name) else None


def _sql_type(prop: Any) -> str | None:
    physical = (prop.physicalType or "").strip().upper()
    if physical and re.fullmatch(r"[A-Z][A-Z0-9_ ]*(\([0-9]+(, ?[0-9]+)?\))?(\[\])?", physical) and len(physical) <= 64:
        return physical
    return LOGICAL_IN.get(prop.logicalType or "")


def _operator(rule: Any) -> tuple[str, Any] | None:
    for name in _OPERATORS:
        value = getattr(rule, name)
        if value is not None:
            return name, value
    return None


def _good_share(rule: Any) -> float | str:
    """The minimum share of good rows a rule on a count of bad ones asks for, or why there is none."""
    found = _operator(rule)
    if found is None:
        return "no operator (mustBe, mustBeLessThan, ...)"
    op, value = found
    if op == "mustBeBetween" and value[0] <= 0:
        op, value = "mustBeLessOrEqualTo", value[1]
    if op not in ("mustBe", "mustBeLessThan", "mustBeLessOrEqualTo") or not isinstance(value, int | float):
        return f"{op} on a count of bad rows has no share-of-good-rows equivalent"
    if (rule.unit or "rows").strip().lower() in ("percent", "percentage", "%"):
        if not 0 <= value <= 100 or (op == "mustBe" and value != 0):
            return f"{op}: {value} percent cannot be read as a minimum share of good rows"
        return _round(1 - float(value) / 100)
    if value == 0 or (op == "mustBeLessThan" and value <= 1):
        return 1.0
    return f"{value} {rule.unit or 'rows'} is a count that depends on the table's size: give the rule in percent"


def _severity(reader: _Reader, loc: Path_, text: str | None) -> str:
    if text is None:
        return "error"
    found = SEVERITY_IN.get(text.strip().lower())
    if found is None:
        reader.warn((*loc, "severity"), f"severity {text!r} is not error or warning: imported as error")
        return "error"
    return found


def _base(reader: _Reader, loc: Path_, rule: Any, dataset: str, default_dim: str, name: str) -> dict[str, Any]:
    slo: dict[str, Any] = {"id": _slug(rule.id or rule.name or name)}
    if rule.description:
        slo["description"] = rule.description
    slo["dimension"] = DIMENSION_IN.get(rule.dimension or "", default_dim)
    slo["dataset"] = dataset
    slo["severity"] = _severity(reader, loc, rule.severity)
    return slo


def _substitute(query: str, table: str, column: str | None) -> str:
    for name in ("object", "table", "model"):
        query = re.sub(_PLACEHOLDER % name, table, query)
    for name in ("property", "column", "field"):
        if column is not None:
            query = re.sub(_PLACEHOLDER % name, column, query)
    return query.strip().rstrip(";").strip()


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _pass_fail(query: str, op: str, value: Any) -> str:
    """A query whose value is compared with a bound, as the share the rule passes: 1.0 or 0.0."""
    sql = _OPERATORS[op]
    bound = f"{_literal(value[0])} AND {_literal(value[1])}" if "BETWEEN" in sql else _literal(value)
    return f"SELECT CASE WHEN ({query}) {sql} {bound} THEN 1.0 ELSE 0.0 END"


def _rule(reader: _Reader, loc: Path_, rule: Any, dataset: str, column: str | None, obj_name: str) -> None:
    """One quality rule (property-level when `column` is given) as an SLO, or a warning why not."""
    what = f"{obj_name}_{column}" if column else obj_name
    kind = rule.type or ("library" if (rule.metric or rule.rule) else None)
    meta = _custom_value(rule, SLO_PROPERTY)
    if kind == "custom" and rule.engine == ENGINE and isinstance(rule.implementation, dict):
        reader.add(loc, dict(rule.implementation))
        return
    if kind in ("text", "custom"):
        engine = f" (engine {rule.engine})" if rule.engine else ""
        reader.warn(loc, f"not imported: a {kind} rule{engine} is not a measurement we can run")
        return
    if kind == "sql":
        found = _operator(rule)
        if not rule.query or found is None:
            reader.warn(loc, "not imported: an SQL rule needs a query and an operator")
            return
        op, value = found
        query = _substitute(rule.query, dataset, column)
        slo = _base(reader, loc, rule, dataset, "accuracy", f"{what}_sql")
        if (
            op in ("mustBeGreaterOrEqualTo", "mustBeLessOrEqualTo")
            and isinstance(value, int | float)
            and 0 <= value <= 1
        ):
            slo |= {"indicator": {"type": "custom_sql", "sql": query}}
            slo["threshold"] = {"min" if op == "mustBeGreaterOrEqualTo" else "max": value}
        elif op == "mustBeBetween" and all(isinstance(v, int | float) and 0 <= v <= 1 for v in value):
            slo |= {"indicator": {"type": "custom_sql", "sql": query}, "threshold": {"min": value[0], "max": value[1]}}
        else:
            slo |= {"indicator": {"type": "custom_sql", "sql": _pass_fail(query, op, value)}, "threshold": {"min": 1.0}}
        reader.add(loc, slo, meta)
        return
    metric = rule.metric or rule.rule
    if metric == "rowCount":
        found = _operator(rule)
        if found is None:
            reader.warn(loc, "not imported: rowCount without an operator")
            return
        slo = _base(reader, loc, rule, dataset, "completeness", f"{what}_row_count")
        query = f"SELECT count(*) FROM {dataset}"
        slo |= {"indicator": {"type": "custom_sql", "sql": _pass_fail(query, *found)}, "threshold": {"min": 1.0}}
        reader.add(loc, slo, meta)
        return
    indicator: dict[str, Any] | None = None
    dim = "validity"
    args = rule.arguments or {}
    if metric == "duplicateValues":
        columns = [column] if column else [c for c in args.get("properties") or [] if isinstance(c, str)]
        indicator, dim = ({"type": "uniqueness", "columns": columns} if columns else None), "uniqueness"
    elif column is None and metric in ("nullValues", "missingValues", "invalidValues"):
        reader.warn(loc, f"not imported: {metric} belongs on a property (a column)")
        return
    elif metric == "nullValues" or (metric == "missingValues" and set(args.get("missingValues") or [None]) == {None}):
        indicator, dim = {"type": "non_null_ratio", "columns": [column]}, "completeness"
    elif (
        metric == "missingValues"
        and None in (listed := list(args.get("missingValues") or []))
        and all(v is None or isinstance(v, str) for v in listed)
    ):
        values = [v for v in args["missingValues"] if v is not None]
        indicator, dim = {"type": "non_null_ratio", "columns": [column], "missing_values": values}, "completeness"
    elif metric == "invalidValues" and ("validValues" in args) != ("pattern" in args):
        if "pattern" in args:
            indicator = {"type": "matches_pattern", "column": column, "regex": args["pattern"]}
        else:
            indicator = {"type": "in_set", "column": column, "values": list(args["validValues"] or [])}
    if indicator is None:
        reason = {
            "missingValues": "missing values must list null and otherwise text (we always count nulls, and compare "
            "the others as text)",
            "invalidValues": "invalidValues needs exactly one of validValues or pattern",
            "duplicateValues": "a schema-level duplicateValues needs arguments.properties",
        }.get(str(metric), f"metric {metric!r} is not one we measure")
        reader.warn(loc, f"not imported: {reason}")
        return
    share = _good_share(rule)
    if isinstance(share, str):
        reader.warn(loc, f"not imported: {share}")
        return
    slo = _base(reader, loc, rule, dataset, dim, f"{what}_{_slug(str(metric))}")
    slo |= {"indicator": indicator, "threshold": {"min": share}}
    reader.add(loc, slo, meta)


def _owner(reader: _Reader, contract: Any) -> str:
    team = contract.team
    if team is not None and not isinstance(team, list) and team.name:
        return str(team.name)
    members = team if isinstance(team, list) else (team.members or [] if team is not None else [])
    for member in members:
        if member.username and "owner" in (member.role or "").lower():
            return str(member.username)
    if contract.domain:
        return str(contract.domain)
    reader.warn(("team",), "no owner (team name, a member with the role Owner, or domain): written as 'unknown'")
    return "unknown"


def _schema_objects(reader: _Reader, contract: Any, default_schema: str) -> dict[str, tuple[str, Any]]:
    """Schema SLOs, required / unique / primary key SLOs and quality rules of each object; object name -> dataset."""
    found: dict[str, tuple[str, Any]] = {}
    for i, obj in enumerate(contract.schema_ or []):
        oloc: Path_ = ("schema", i)
        dataset = _dataset(obj, default_schema)
        if dataset is None:
            reader.warn(oloc, f"not imported: {obj.physicalName or obj.name!r} is not a table name (schema.table)")
            continue
        table = dataset.split(".")[1]
        found[obj.name] = (dataset, obj)
        columns: dict[str, str] = {}
        required, pk = [], []
        single_key = len([p for p in obj.properties or [] if p.primaryKey]) == 1
        for j, prop in enumerate(obj.properties or []):
            ploc: Path_ = (*oloc, "properties", j)
            column = _column(prop)
            if column is None:
                reader.warn(ploc, f"not imported: {prop.physicalName or prop.name!r} is not a column name")
                continue
            sql_type = _sql_type(prop)
            if sql_type is not None:
                columns[column] = sql_type
            elif prop.physicalType or prop.logicalType:
                reader.warn(ploc, f"type {prop.physicalType or prop.logicalType!r} has no DuckDB type name to check")
            if prop.properties or prop.items:
                reader.warn(ploc, "nested properties are not imported: our SLOs read the table's own columns")
            if prop.relationships:
                reader.warn(
                    (*ploc, "relationships"),
                    "relationships are not imported (a foreign key: write a referential_integrity SLO)",
                )
            if prop.required or prop.primaryKey:
                required.append(column)
            if prop.primaryKey:
                pk.append((prop.primaryKeyPosition if prop.primaryKeyPosition is not None else j, column))
            if prop.unique and not (prop.primaryKey and single_key):  # a key of one column: its SLO below
                reader.add(ploc, _flag(f"{table}_{column}_unique", "uniqueness", dataset, [column]))
            for k, rule in enumerate(prop.quality or []):
                _rule(reader, (*ploc, "quality", k), rule, dataset, column, table)
        if columns:
            meta = _custom_value(obj, SLO_PROPERTY) or {}
            slo: dict[str, Any] = {"id": f"{table}_schema", "dimension": "schema", "dataset": dataset}
            if obj.description and "description" not in meta:
                slo["description"] = obj.description
            slo |= {"indicator": {"type": "schema", "columns": columns}, "threshold": {"min": 1.0}}
            slo["severity"] = "error"
            reader.add(oloc, slo, meta)
        if required:
            reader.add(oloc, _flag(f"{table}_required", "non_null_ratio", dataset, required))
        if pk:
            reader.add(oloc, _flag(f"{table}_primary_key_unique", "uniqueness", dataset, [c for _p, c in sorted(pk)]))
        for k, rule in enumerate(obj.quality or []):
            _rule(reader, (*oloc, "quality", k), rule, dataset, None, table)
        if obj.relationships:
            reader.warn((*oloc, "relationships"), "relationships are not imported")
    return found


def _flag(slo_id: str, kind: str, dataset: str, columns: list[str]) -> dict[str, Any]:
    dimension = "completeness" if kind == "non_null_ratio" else "uniqueness"
    description = "Required columns have a value." if kind == "non_null_ratio" else "Each key appears once."
    return {
        "id": slo_id,
        "description": description,
        "dimension": dimension,
        "dataset": dataset,
        "indicator": {"type": kind, "columns": columns},
        "threshold": {"min": 1.0},
        "severity": "error",
    }


def _duration(value: Any, unit: str | None) -> str | None:
    """An SLA value and unit (4 d, 26 hours, PT26H) as one of our durations (4d, 26h), or None."""
    key = (unit or "d").strip().lower()
    if isinstance(value, str):
        iso = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?", value.strip().upper())
        if iso and any(iso.groups()):
            d, h, m, s = (int(g or 0) for g in iso.groups())
            value, key = d * 86400 + h * 3600 + m * 60 + s, "s"
        else:
            try:
                value = float(value)
            except ValueError:
                return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0 or key not in _UNIT_SECONDS:
        return None
    if key in ("ms", "s", "m", "h", "d"):  # our own units: kept as written (26 h -> 26h)
        return f"{value:g}{key}"
    total = value * _UNIT_SECONDS[key]
    for size, short in ((86400, "d"), (3600, "h"), (60, "m"), (1, "s")):
        if total % size == 0:
            return f"{total / size:g}{short}"
    return f"{total * 1000:g}ms"


def _sla(reader: _Reader, contract: Any, objects: dict[str, tuple[str, Any]]) -> None:
    default_element = contract.slaDefaultElement
    for i, sla in enumerate(contract.slaProperties or []):
        loc: Path_ = ("slaProperties", i)
        name = (sla.property or "").strip()
        if name.lower() not in ("latency", "ly", "freshness"):
            reason = {
                "frequency": "an update frequency is when the data is built, not a bound we measure; the build "
                "schedule is a use case's update_cadence, and a latency SLA bounds the data's age",
                "retention": "we measure no retention (how long rows are kept)",
            }.get(name.lower(), "no SLO of ours measures it")
            reader.warn(loc, f"not imported: SLA property {name!r}: {reason}")
            continue
        element = (sla.element or default_element or "").split(",")[0].strip()
        obj_name, _sep, column = element.rpartition(".")
        if not obj_name and len(objects) == 1:
            obj_name = next(iter(objects))
        if obj_name not in objects or not _NAME.match(column or "-"):
            reader.warn(loc, f"not imported: element {element!r} names no property of a schema object here")
            continue
        bound = _duration(sla.value, sla.unit)
        if bound is None:
            reader.warn(loc, f"not imported: {sla.value!r} {sla.unit or ''} is not a duration")
            continue
        dataset, obj = objects[obj_name]
        physical = {p.name: _column(p) for p in obj.properties or []}
        slo: dict[str, Any] = {"id": _slug(sla.id or f"{dataset.split('.')[1]}_fresh")}
        if sla.description:
            slo["description"] = sla.description
        slo |= {"dimension": "freshness", "dataset": dataset}
        slo |= {"indicator": {"type": "max_age", "column": physical.get(column) or column}}
        slo |= {"threshold": {"max": bound}, "severity": "error"}
        reader.add(loc, slo, _custom_value(sla, SLO_PROPERTY))


def import_contract(doc: YamlDocument) -> Imported:
    """The contract in `doc` as spec data; NotAContract when it is not valid ODCS v3."""
    from open_data_contract_standard.model import OpenDataContractStandard

    def issue(loc: Path_, message: str) -> SpecIssue:
        pos = doc.position(loc)
        return SpecIssue(str(doc.path), pos.line, pos.column, dotted(loc), message)

    if not isinstance(doc.data, dict):
        raise NotAContract([issue((), "an ODCS contract is a mapping (apiVersion, kind, id, version, ...)")])
    errors = schema_errors(doc.data)
    if errors:
        raise NotAContract([issue(loc, f"not ODCS: {message}") for loc, message in errors])
    if not str(doc.data["apiVersion"]).startswith("v3."):
        raise NotAContract([issue(("apiVersion",), f"{doc.data['apiVersion']}: only ODCS v3 contracts are imported")])
    try:
        contract = OpenDataContractStandard.model_validate(doc.data)
    except ValidationError as exc:
        raise NotAContract(
            [issue(tuple(e["loc"]), f"not ODCS: {e['msg']}") for e in exc.errors(include_url=False)]
        ) from None
    reader = _Reader(doc)
    schemas = {s.schema_ for s in contract.servers or [] if s.schema_}
    default_schema = next(iter(schemas)) if len(schemas) == 1 and _NAME.match(next(iter(schemas))) else "main"
    objects = _schema_objects(reader, contract, default_schema)
    _sla(reader, contract, objects)
    card: dict[str, Any] = {"id": _slug(contract.dataProduct or contract.name or contract.id or "contract")}
    if contract.name:
        card["name"] = contract.name
    card["owner"] = _owner(reader, contract)
    if contract.description is not None and contract.description.purpose:
        card["vision"] = contract.description.purpose
    rest = _custom_value(contract, SPEC_PROPERTY) or {}
    card |= rest.pop("data_product", {})
    data: dict[str, Any] = {"version": 1, **rest, "data_product": card, "slos": reader.slos}
    order = [f.alias or name for name, f in SpecFile.model_fields.items()]
    return Imported(doc, {k: data[k] for k in order if k in data}, reader.origins, reader.warnings)
