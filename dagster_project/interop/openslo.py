"""OpenSLO v1 out and in: `slo export openslo` and `slo import openslo`.

A data product becomes a `Service`; each SLO an `SLI` (how it is measured) and an `SLO` (what it promises); each
burn-rate alert an `AlertPolicy` the SLOs refer to. What OpenSLO has a field for goes in that field:

- the threshold: a share-of-good-rows indicator (non_null_ratio, uniqueness, in_range ...) with a minimum is a
  `ratioMetric` whose raw ratio is of successes, the minimum being each time slice's `timeSliceTarget`; every other
  threshold is a `thresholdMetric` with `op` (gte for a minimum, lte for a maximum) and `value` (durations in
  seconds);
- the objective is the objective's `target`;
- budgeting: indicators that judge the state of a table are time SLIs (`Timeslices`, one-minute slices: our time
  SLI is exact, the good share of time); the ones that judge events - a build, runs of a consumer query - are
  `Occurrences`;
- the budget period (the longest window) is the rolling `timeWindow`;
- dimension and severity are labels; the indicator's parameters and dataset are the metric source's `spec` (type
  slo-monitor).

What OpenSLO has no field for is kept under `metadata.annotations` with the slo-monitor.dev/ prefix: the product's
card (owner, goals, use cases, semantic model, North Star, consumer queries, build) on the Service; on each SLO its
other windows, the threshold as written (26h), what it protects, its alert level, labels, runbook and query
timeout. So a spec exported and imported again is the same spec (tests/test_openslo.py), and another tool sees
standard OpenSLO with our extensions set apart.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import ValidationError

from dagster_project.interop.openslo_check import API_VERSION, check_stream
from dagster_project.interop.windows import Pair, period_s, routed_pairs, seconds, shorthand
from dagster_project.spec.models import DEFAULT_WINDOWS, INDICATOR_UNITS, Slo, SpecFile
from dagster_project.spec.validate import SpecIssue, dotted
from dagster_project.spec.yaml_doc import Path_, YamlDocument

PREFIX = "slo-monitor.dev/"
SOURCE_TYPE = "slo-monitor"
TIME_SLICE = "1m"
# Indicators whose evaluations are events (a build, runs of a query): budgeted by Occurrences.
EVENT_INDICATORS = frozenset({"build_duration", "query_latency", "query_availability"})
# Ratio indicators that are a share of good rows in [0, 1]: a minimum on one is a ratioMetric's time slice target.
SHARE_INDICATORS = frozenset(
    {
        "non_null_ratio",
        "in_range",
        "in_set",
        "matches_pattern",
        "not_in_future",
        "referential_integrity",
        "uniqueness",
        "schema",
        "custom_sql",
    }
)
# How long a burn holds before the alert notifies: the generated rules' `for:` (generators/rules.py BURN_FOR; a
# test keeps the two equal).
ALERT_AFTER = {"page": "2m", "ticket": "15m"}
BURN_ALERT = "DataSloErrorBudgetBurn"


class ImportFailed(Exception):
    def __init__(self, issues: Sequence[SpecIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in issues))


def object_name(identifier: str) -> str:
    """An id as an OpenSLO name: RFC 1123 has no _, and ids have no -, so the mapping goes both ways."""
    return identifier.replace("_", "-")


def identifier(name: str) -> str:
    return name.replace("-", "_")


def _meta(name: str, display: str | None = None, **parts: dict[str, str]) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if display:
        meta["displayName"] = display
    meta.update({k: v for k, v in parts.items() if v})
    return meta


def _doc(kind: str, metadata: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata, "spec": spec}


def _json(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent)


def _service(spec: SpecFile) -> dict[str, Any]:
    card = spec.data_product
    rest = spec.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude={"slos", "version"})
    native = {"id", "name", "owner"} | ({"vision"} if card.vision and len(card.vision) <= 1050 else set())
    rest["data_product"] = {k: v for k, v in rest["data_product"].items() if k not in native}
    if not rest["data_product"]:
        del rest["data_product"]
    annotations = {f"{PREFIX}owner": card.owner}
    if rest:
        annotations[f"{PREFIX}product"] = _json(rest, indent=2)
    body = {"description": card.vision[:1050]} if card.vision else {}
    return _doc("Service", _meta(object_name(card.id), card.name, annotations=annotations), body)


def policy_name(pair: Pair) -> str:
    """Named by the period too: the same windows burn at another factor over another period (14.4 at 30d, 13.44
    at 28d)."""
    return f"burn-{shorthand(pair.period_s)}-{pair.severity}-{shorthand(pair.long_s)}-{shorthand(pair.short_s)}"


def _policy(pair: Pair) -> dict[str, Any]:
    name = policy_name(pair)
    long_w, short_w = shorthand(pair.long_s), shorthand(pair.short_s)
    condition = {
        "kind": "AlertCondition",
        "metadata": {"name": name},
        "spec": {
            "description": f"The error ratio over {long_w} and over {short_w} are both above {pair.factor:.10g} "
            "times the budget",
            "severity": pair.severity,
            "condition": {
                "kind": "burnrate",
                "op": "gt",
                "threshold": round(pair.factor, 10),
                "lookbackWindow": long_w,
                "alertAfter": ALERT_AFTER[pair.severity],
            },
        },
    }
    target = {
        "kind": "AlertNotificationTarget",
        "metadata": {"name": f"alertmanager-{pair.severity}"},
        "spec": {
            "description": f"The generated rules' {BURN_ALERT} alert with severity={pair.severity}, routed by "
            "Alertmanager on its team label",
            "target": "alertmanager",
        },
    }
    annotations = {f"{PREFIX}short-window": short_w, f"{PREFIX}budget-percent": f"{pair.budget_percent:g}"}
    body = {
        "description": f"Multiwindow burn-rate {pair.severity}: {pair.budget_percent:g}% of the error budget spent in "
        f"{long_w} (and still burning over {short_w})",
        "alertWhenNoData": False,
        "alertWhenResolved": False,
        "alertWhenBreaching": True,
        "conditions": [condition],
        "notificationTargets": [target],
    }
    return _doc("AlertPolicy", _meta(name, annotations=annotations), body)


def _metric_source(slo: Slo) -> dict[str, Any]:
    indicator = slo.indicator.model_dump(mode="json", exclude_unset=True)
    return {"metricSource": {"type": SOURCE_TYPE, "spec": {"dataset": slo.dataset, "indicator": indicator}}}


def _is_ratio(slo: Slo) -> bool:
    low = slo.threshold.min
    return (
        slo.indicator.type in SHARE_INDICATORS
        and slo.indicator.type not in EVENT_INDICATORS
        and isinstance(low, float | int)
        and 0 < low <= 1
    )


def _sli(slo: Slo) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if slo.description:
        body["description"] = slo.description[:1050]
    if _is_ratio(slo):
        body["ratioMetric"] = {"counter": False, "rawType": "success", "raw": _metric_source(slo)}
    else:
        body["thresholdMetric"] = _metric_source(slo)
    return _doc("SLI", _meta(object_name(slo.id)), body)


def _number(bound: float | str) -> float:
    return seconds(bound) if isinstance(bound, str) else bound


def _slo(spec: SpecFile, slo: Slo) -> dict[str, Any]:
    name = object_name(slo.id)
    method = "Occurrences" if slo.indicator.type in EVENT_INDICATORS else "Timeslices"
    objective: dict[str, Any] = {"displayName": slo.id, "target": slo.objective}
    if not _is_ratio(slo):
        objective["op"] = "gte" if slo.threshold.min is not None else "lte"
        objective["value"] = _number(slo.threshold.bound)
    if method == "Timeslices":
        objective["timeSliceTarget"] = slo.threshold.min if _is_ratio(slo) else 1.0
        objective["timeSliceWindow"] = TIME_SLICE
    set_fields = slo.model_fields_set
    annotations: dict[str, str] = {}
    if "windows" in set_fields:
        annotations[f"{PREFIX}windows"] = ", ".join(slo.windows)
    if isinstance(slo.threshold.bound, str):
        annotations[f"{PREFIX}threshold"] = slo.threshold.bound
    # OpenSLO's objective has one op and value: a between threshold (its max) and a warn level travel as annotations.
    if slo.threshold.min is not None and slo.threshold.max is not None:
        annotations[f"{PREFIX}threshold-max"] = _json(slo.threshold.max)
    if slo.warn is not None:
        annotations[f"{PREFIX}warn"] = _json(slo.warn.model_dump(exclude_none=True))
    if slo.where is not None:
        annotations[f"{PREFIX}where"] = slo.where
    if slo.partition is not None:
        annotations[f"{PREFIX}partition"] = _json(slo.partition.model_dump())
    if slo.samples is not None:
        annotations[f"{PREFIX}samples"] = _json(slo.samples.model_dump(exclude_unset=True))
    if slo.group_by is not None:
        annotations[f"{PREFIX}group-by"] = _json({"group_by": slo.group_by, "max_groups": slo.max_groups})
    if slo.protects is not None:
        kind = "goal" if slo.protects.goal is not None else "use_case"
        annotations[f"{PREFIX}protects"] = f"{kind}: {slo.protects.goal or slo.protects.use_case}"
    if slo.alert is not None:
        annotations[f"{PREFIX}alert"] = slo.alert
    if slo.labels:
        annotations[f"{PREFIX}labels"] = _json(dict(slo.labels))
    if slo.runbook_url is not None:
        annotations[f"{PREFIX}runbook-url"] = slo.runbook_url
    if "timeout" in set_fields:
        annotations[f"{PREFIX}timeout"] = slo.timeout
    body: dict[str, Any] = {}
    if slo.description:
        body["description"] = slo.description[:1050]
    body |= {
        "service": object_name(spec.data_product.id),
        "indicatorRef": name,
        "timeWindow": [{"duration": shorthand(period_s(slo)), "isRolling": True}],
        "budgetingMethod": method,
        "objectives": [objective],
    }
    policies = [{"alertPolicyRef": policy_name(p)} for p in routed_pairs(slo, spec)]
    if policies:
        body["alertPolicies"] = policies
    labels: dict[str, str] = {"dimension": slo.dimension, "severity": slo.severity}
    return _doc("SLO", _meta(name, labels=labels, annotations=annotations), body)


def export_documents(specs: Iterable[SpecFile]) -> list[dict[str, Any]]:
    """Each product's Service, the AlertPolicies its SLOs use (once each), then each SLO's SLI and SLO."""
    docs: list[dict[str, Any]] = []
    policies: dict[str, dict[str, Any]] = {}
    for spec in specs:
        docs.append(_service(spec))
        for slo in spec.slos:
            for pair in routed_pairs(slo, spec):
                policies.setdefault(policy_name(pair), _policy(pair))
        for slo in spec.slos:
            docs += [_sli(slo), _slo(spec, slo)]
    return [*policies.values(), *docs]


# Import ---------------------------------------------------------------------------------------------------------


class _Reader:
    """Collects problems at their place while documents are mapped back to a spec."""

    def __init__(self) -> None:
        self.issues: list[SpecIssue] = []

    def fail(self, doc: YamlDocument, loc: Path_, message: str) -> None:
        pos = doc.position(loc)
        self.issues.append(SpecIssue(str(doc.path), pos.line, pos.column, dotted(loc), message))

    def annotation_json(self, doc: YamlDocument, key: str, default: Any) -> Any:
        text = doc.data["metadata"].get("annotations", {}).get(PREFIX + key)
        if text is None:
            return default
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            self.fail(doc, ("metadata", "annotations", PREFIX + key), f"not JSON: {exc.msg}")
            return default


def _annotations(doc: YamlDocument) -> dict[str, str]:
    return dict(doc.data["metadata"].get("annotations") or {})


def _product(reader: _Reader, doc: YamlDocument) -> dict[str, Any]:
    meta = doc.data["metadata"]
    rest = reader.annotation_json(doc, "product", {})
    owner = _annotations(doc).get(PREFIX + "owner")
    if owner is None:
        reader.fail(doc, ("metadata",), f"the product's owner is missing: give the annotation {PREFIX}owner")
    card = {"id": identifier(meta["name"]), "name": meta.get("displayName", identifier(meta["name"])), "owner": owner}
    card |= rest.pop("data_product", {})
    vision = doc.data["spec"].get("description")
    if vision and "vision" not in card:
        card["vision"] = vision
    return {"version": 1, **rest, "data_product": card}


def _source(reader: _Reader, doc: YamlDocument, loc: Path_, holder: dict[str, Any]) -> dict[str, Any] | None:
    source = holder["metricSource"]
    if source.get("type") != SOURCE_TYPE:
        reader.fail(
            doc,
            (*loc, "metricSource"),
            f"metric source type {source.get('type')!r} cannot be imported: only {SOURCE_TYPE!r} sources name a "
            "dataset and an indicator",
        )
        return None
    found: dict[str, Any] = source["spec"]
    return found


def _threshold(
    reader: _Reader, doc: YamlDocument, objective: dict[str, Any], loc: Path_, ratio: bool, unit: str, text: Any
) -> dict[str, Any] | None:
    if ratio:
        return {"min": objective["timeSliceTarget"]} if "timeSliceTarget" in objective else {"min": 1.0}
    op, value = objective.get("op"), float(objective["value"])
    if op not in ("gte", "lte"):
        reader.fail(doc, (*loc, "op"), f"op {op!r} has no equivalent: thresholds are inclusive (gte or lte)")
        return None
    bound: float | str = value
    if unit == "duration":
        bound = text if isinstance(text, str) and _same_seconds(text, value) else f"{value:g}s"
    return {"min" if op == "gte" else "max": bound}


def _same_seconds(text: str, value: float) -> bool:
    try:
        return abs(seconds(text) - value) < 1e-9
    except ValueError:
        return False


def _slo_data(reader: _Reader, doc: YamlDocument, sli: YamlDocument | None) -> dict[str, Any] | None:
    spec, meta = doc.data["spec"], doc.data["metadata"]
    sli_loc: Path_
    if "indicator" in spec:
        sli_spec, sli_doc, sli_loc = spec["indicator"]["spec"], doc, ("spec", "indicator", "spec")
    elif sli is not None:
        sli_spec, sli_doc, sli_loc = sli.data["spec"], sli, ("spec",)
    else:
        return None  # reported by the reference check
    ratio = "ratioMetric" in sli_spec
    if (ratio and "raw" not in sli_spec["ratioMetric"]) or (ratio and sli_spec["ratioMetric"]["rawType"] != "success"):
        reader.fail(sli_doc, (*sli_loc, "ratioMetric"), "only a raw ratio of successes can be imported")
        return None
    holder, hloc = (
        (sli_spec["ratioMetric"]["raw"], (*sli_loc, "ratioMetric", "raw"))
        if ratio
        else (sli_spec["thresholdMetric"], (*sli_loc, "thresholdMetric"))
    )
    source = _source(reader, sli_doc, hloc, holder)
    if source is None:
        return None
    labels, notes = meta.get("labels") or {}, _annotations(doc)
    if len(spec["objectives"]) != 1:
        reader.fail(doc, ("spec", "objectives"), "an SLO here has one objective; split the others into SLOs")
        return None
    objective = spec["objectives"][0]
    indicator = source.get("indicator") or {}
    unit = "ratio"
    if isinstance(indicator, dict):  # a declared unit (metric, custom_sql), else the type's own
        unit = indicator.get("unit") or INDICATOR_UNITS.get(indicator.get("type", ""), "ratio")
    threshold = _threshold(
        reader, doc, objective, ("spec", "objectives", 0), ratio, unit, notes.get(PREFIX + "threshold")
    )
    if threshold is None:
        return None
    if PREFIX + "threshold-max" in notes:
        threshold["max"] = reader.annotation_json(doc, "threshold-max", None)
    data: dict[str, Any] = {"id": identifier(meta["name"])}
    if "description" in spec:
        data["description"] = spec["description"]
    data |= {
        "dimension": labels.get("dimension"),
        "dataset": source.get("dataset"),
        "indicator": indicator,
        "threshold": threshold,
        "severity": labels.get("severity"),
        "objective": objective["target"] if "target" in objective else objective["targetPercent"] / 100,
    }
    if PREFIX + "windows" in notes:
        data["windows"] = [w.strip() for w in notes[PREFIX + "windows"].split(",")]
    elif spec.get("timeWindow") and not _same_seconds(spec["timeWindow"][0]["duration"], seconds(DEFAULT_WINDOWS[0])):
        data["windows"] = [spec["timeWindow"][0]["duration"]]
    if PREFIX + "protects" in notes:
        kind, _sep, target = notes[PREFIX + "protects"].partition(":")
        data["protects"] = {kind.strip(): target.strip()}
    if PREFIX + "alert" in notes:
        data["alert"] = notes[PREFIX + "alert"]
    if PREFIX + "labels" in notes:
        data["labels"] = reader.annotation_json(doc, "labels", {})
    if PREFIX + "runbook-url" in notes:
        data["runbook_url"] = notes[PREFIX + "runbook-url"]
    if PREFIX + "timeout" in notes:
        data["timeout"] = notes[PREFIX + "timeout"]
    if PREFIX + "warn" in notes:
        data["warn"] = reader.annotation_json(doc, "warn", {})
    if PREFIX + "where" in notes:
        data["where"] = notes[PREFIX + "where"]
    if PREFIX + "partition" in notes:
        data["partition"] = reader.annotation_json(doc, "partition", {})
    if PREFIX + "samples" in notes:
        data["samples"] = reader.annotation_json(doc, "samples", {})
    if PREFIX + "group-by" in notes:
        data |= reader.annotation_json(doc, "group-by", {})
    return data


def _structure_issues(doc: YamlDocument, error: ValidationError, base: Path_) -> list[SpecIssue]:
    issues = []
    for e in error.errors(include_url=False):
        where = ".".join(str(p) for p in e["loc"])
        pos = doc.position(base)
        message = str(e["msg"]).removeprefix("Value error, ")
        issues.append(SpecIssue(str(doc.path), pos.line, pos.column, dotted(base), f"{where}: {message}"))
    return issues


def import_documents(docs: Sequence[YamlDocument]) -> SpecFile:
    """The spec the documents describe: exactly one Service and its SLOs (AlertPolicies and other objects are read
    for references only: the alerts follow from the SLO, as `slo rules` generates them). ImportFailed lists every
    problem at its place."""
    issues = check_stream(docs)
    if issues:
        raise ImportFailed(issues)
    reader = _Reader()
    services = [d for d in docs if d.data["kind"] == "Service"]
    if len(services) != 1:
        names = ", ".join(d.data["metadata"]["name"] for d in services) or "none"
        where = docs[0] if docs else None
        raise ImportFailed(
            [SpecIssue(str(where.path) if where else "-", 1, 1, "(documents)", f"need one Service, found: {names}")]
        )
    service = services[0]
    data = _product(reader, service)
    slis = {d.data["metadata"]["name"]: d for d in docs if d.data["kind"] == "SLI"}
    slo_docs = [d for d in docs if d.data["kind"] == "SLO"]
    slos = []
    for doc in slo_docs:
        if doc.data["spec"]["service"] != service.data["metadata"]["name"]:
            continue
        slo = _slo_data(reader, doc, slis.get(doc.data["spec"].get("indicatorRef", "")))
        if slo is not None:
            try:
                Slo.model_validate(slo)
            except ValidationError as exc:
                reader.issues += _structure_issues(doc, exc, ("metadata", "name"))
            slos.append(slo)
    if reader.issues:
        raise ImportFailed(reader.issues)
    data["slos"] = slos
    order = [f.alias or name for name, f in SpecFile.model_fields.items()]
    try:
        return SpecFile.model_validate({k: data[k] for k in order if k in data})
    except ValidationError as exc:
        raise ImportFailed(_structure_issues(service, exc, ("metadata", "annotations"))) from None


def spec_data(spec: SpecFile) -> dict[str, Any]:
    """The spec as it would be written: only what was given, in the models' order."""
    data: dict[str, Any] = spec.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return data
