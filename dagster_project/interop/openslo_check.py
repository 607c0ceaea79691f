"""Is a document OpenSLO v1? The specification's required fields and enumerations, checked by hand.

The reference is the OpenSLO repository's README (the v1 specification) and its schemas/v1 folder; where the two
differ the README wins, since the schemas are incomplete (the SLO schema's `required: [""]`, annotation values held
to label syntax although the README gives them as map[string]string). Checked:

- every object: apiVersion openslo/v1; kind one of the seven; metadata.name an RFC 1123 label (at most 63 lower-case
  letters, digits and -, alphanumeric at both ends); displayName non-empty text; label keys and annotation keys
  (optional DNS-subdomain prefix and /, a name of at most 63 characters, alphanumeric at both ends), annotation
  values text; spec a mapping; descriptions at most 1050 characters.
- SLI: exactly one of thresholdMetric and ratioMetric; each metric source has a `spec` mapping; a ratioMetric has
  exactly one of good+total, bad+total and raw (with rawType success | failure), and `counter` is a boolean.
- SLO: service; exactly one of indicator and indicatorRef; timeWindow a list of exactly one item whose duration is a
  duration-shorthand and isRolling a boolean (a calendar window needs calendar.startTime and timeZone);
  budgetingMethod Occurrences | Timeslices; at least one objective, only one with a thresholdMetric; each with
  exactly one of target [0, 1) and targetPercent [0, 100); op lte | gte | lt | gt with a numeric value when the SLI
  is a thresholdMetric; timeSliceTarget (0, 1] and timeSliceWindow (minutes or a duration-shorthand) when budgeting
  by Timeslices; alertPolicies items name an AlertPolicy (alertPolicyRef) or inline one.
- AlertPolicy: alertWhenNoData, alertWhenResolved and alertWhenBreaching booleans; exactly one condition
  (conditionRef, or an inline AlertCondition); at least one notification target (targetRef, or inline with a
  `target`). AlertCondition: severity text; condition.kind burnrate with op, a numeric threshold, lookbackWindow and
  alertAfter as duration-shorthands. AlertNotificationTarget: target.
- Across documents: the SLO's service, indicatorRef and alertPolicyRef, and the policy's conditionRef and
  targetRef, name objects of the stream.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TypeGuard

from dagster_project.spec.validate import SpecIssue, dotted
from dagster_project.spec.yaml_doc import Path_, YamlDocument

API_VERSION = "openslo/v1"
KINDS = ("DataSource", "SLO", "SLI", "AlertPolicy", "AlertCondition", "AlertNotificationTarget", "Service")
BUDGETING_METHODS = ("Occurrences", "Timeslices")
OPERATORS = ("lte", "gte", "lt", "gt")
RAW_TYPES = ("success", "failure")
CONDITION_KINDS = ("burnrate",)
MAX_DESCRIPTION = 1050

NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
KEY_NAME = re.compile(r"^[a-zA-Z0-9]([a-zA-Z0-9._-]{0,61}[a-zA-Z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
SHORTHAND = re.compile(r"^[1-9][0-9]*[mhdwMQY]$")

Problem = tuple[Path_, str]


def _is_map(value: Any) -> TypeGuard[dict[str, Any]]:
    return isinstance(value, dict)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _key_problem(key: Any) -> str | None:
    if not isinstance(key, str):
        return "keys are text"
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not DNS_SUBDOMAIN.match(prefix)):
        return f"key {key!r}: the prefix before / must be a DNS subdomain of at most 253 characters"
    if not KEY_NAME.match(name):
        return f"key {key!r}: the name must be 1-63 letters, digits, -, _ or ., alphanumeric at both ends"
    return None


def _metadata(doc: dict[str, Any], loc: Path_) -> list[Problem]:
    out: list[Problem] = []
    meta = doc.get("metadata")
    if not _is_map(meta):
        return [(loc, "missing required field 'metadata'" if meta is None else "metadata must be a mapping")]
    name = meta.get("name")
    if not isinstance(name, str):
        out.append(((*loc, "metadata"), "missing required field 'name'"))
    elif not NAME.match(name):
        out.append(((*loc, "metadata", "name"), f"{name!r} is not an RFC 1123 name (at most 63 of a-z, 0-9, -)"))
    if "displayName" in meta and not (isinstance(meta["displayName"], str) and meta["displayName"]):
        out.append(((*loc, "metadata", "displayName"), "displayName must be non-empty text"))
    for field in ("labels", "annotations"):
        values = meta.get(field)
        if values is None:
            continue
        if not _is_map(values):
            out.append(((*loc, "metadata", field), f"{field} must be a mapping"))
            continue
        for key, value in values.items():
            problem = _key_problem(key)
            if problem is not None:
                out.append(((*loc, "metadata", field, key), problem))
            if field == "annotations" and not isinstance(value, str):
                out.append(((*loc, "metadata", field, key), "annotation values are text"))
            if field == "labels" and not (
                isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
            ):
                out.append(((*loc, "metadata", field, key), "label values are text or a list of texts"))
    return out


def _description(spec: dict[str, Any], loc: Path_) -> list[Problem]:
    text = spec.get("description")
    if text is None:
        return []
    if not isinstance(text, str):
        return [((*loc, "description"), "description must be text")]
    if len(text) > MAX_DESCRIPTION:
        return [((*loc, "description"), f"description is longer than {MAX_DESCRIPTION} characters")]
    return []


def _metric_source(holder: Any, loc: Path_) -> list[Problem]:
    if not _is_map(holder) or not _is_map(holder.get("metricSource")):
        return [(loc, "missing required field 'metricSource'")]
    source = holder["metricSource"]
    if not _is_map(source.get("spec")):
        return [((*loc, "metricSource"), "missing required field 'spec' (a mapping)")]
    if "type" in source and not isinstance(source["type"], str):
        return [((*loc, "metricSource", "type"), "type must be text")]
    return []


def _exactly_one(spec: dict[str, Any], names: Sequence[str], loc: Path_) -> list[Problem]:
    given = [n for n in names if n in spec]
    if len(given) != 1:
        return [(loc, f"give exactly one of {', '.join(names)} (given: {', '.join(given) or 'none'})")]
    return []


def _sli(spec: dict[str, Any], loc: Path_) -> list[Problem]:
    out = _description(spec, loc) + _exactly_one(spec, ("thresholdMetric", "ratioMetric"), loc)
    if "thresholdMetric" in spec:
        out += _metric_source(spec["thresholdMetric"], (*loc, "thresholdMetric"))
    if "ratioMetric" in spec:
        ratio, rloc = spec["ratioMetric"], (*loc, "ratioMetric")
        if not _is_map(ratio):
            return [*out, (rloc, "ratioMetric must be a mapping")]
        if "counter" in ratio and not isinstance(ratio["counter"], bool):
            out.append(((*rloc, "counter"), "counter must be true or false"))
        shapes = [s for s in (("good", "total"), ("bad", "total"), ("raw",)) if all(k in ratio for k in s)]
        parts = [k for k in ("good", "bad", "total", "raw") if k in ratio]
        if len(shapes) != 1 or len(parts) != len(shapes[0]):
            out.append((rloc, f"give good and total, bad and total, or raw (given: {', '.join(parts) or 'none'})"))
        for part in parts:
            out += _metric_source(ratio[part], (*rloc, part))
        if "raw" in ratio and ratio.get("rawType") not in RAW_TYPES:
            out.append(((*rloc, "rawType"), f"rawType must be one of {', '.join(RAW_TYPES)} with raw"))
    return out


def _time_window(spec: dict[str, Any], loc: Path_) -> list[Problem]:
    windows = spec.get("timeWindow")
    if windows is None:
        return []
    if not isinstance(windows, list) or len(windows) != 1 or not _is_map(windows[0]):
        return [((*loc, "timeWindow"), "timeWindow is a list of exactly one window")]
    window, wloc = windows[0], (*loc, "timeWindow", 0)
    out: list[Problem] = []
    if not (isinstance(window.get("duration"), str) and SHORTHAND.match(window["duration"])):
        out.append(((*wloc, "duration"), "duration must be a duration-shorthand (e.g. 28d, 4w, 1M)"))
    if "isRolling" in window and not isinstance(window["isRolling"], bool):
        out.append(((*wloc, "isRolling"), "isRolling must be true or false"))
    if "calendar" in window:
        calendar = window["calendar"]
        if not (_is_map(calendar) and "startTime" in calendar and "timeZone" in calendar):
            out.append(((*wloc, "calendar"), "a calendar window needs startTime and timeZone"))
    elif window.get("isRolling") is not True:
        out.append(((*wloc, "isRolling"), "a window without a calendar must be rolling (isRolling: true)"))
    return out


def _objective(o: Any, loc: Path_, method: Any, threshold_metric: bool) -> list[Problem]:
    if not _is_map(o):
        return [(loc, "an objective is a mapping")]
    out: list[Problem] = []
    targets = [k for k in ("target", "targetPercent") if k in o]
    if len(targets) != 1:
        out.append((loc, "give exactly one of target and targetPercent"))
    elif targets == ["target"] and not (_is_number(o["target"]) and 0 <= o["target"] < 1):
        out.append(((*loc, "target"), "target must be a number in [0, 1)"))
    elif targets == ["targetPercent"] and not (_is_number(o["targetPercent"]) and 0 <= o["targetPercent"] < 100):
        out.append(((*loc, "targetPercent"), "targetPercent must be a number in [0, 100)"))
    if "op" in o and o["op"] not in OPERATORS:
        out.append(((*loc, "op"), f"op must be one of {', '.join(OPERATORS)}"))
    if threshold_metric:
        if "op" not in o:
            out.append((loc, "missing required field 'op' (the SLI is a thresholdMetric)"))
        if not _is_number(o.get("value")):
            out.append((loc, "missing required field 'value' (a number; the SLI is a thresholdMetric)"))
    if method == "Timeslices":
        if not (_is_number(o.get("timeSliceTarget")) and 0 < o["timeSliceTarget"] <= 1):
            out.append((loc, "timeSliceTarget (0, 1] is required when budgeting by Timeslices"))
        window = o.get("timeSliceWindow")
        if not (_is_number(window) or (isinstance(window, str) and SHORTHAND.match(window))):
            out.append((loc, "timeSliceWindow (minutes or a duration-shorthand) is required with Timeslices"))
    return out


def _slo(spec: dict[str, Any], loc: Path_, sli_kind: str | None) -> list[Problem]:
    out = _description(spec, loc) + _exactly_one(spec, ("indicator", "indicatorRef"), loc)
    if not isinstance(spec.get("service"), str):
        out.append((loc, "missing required field 'service'"))
    if _is_map(spec.get("indicator")):
        inline = spec["indicator"]
        out += _metadata(inline, (*loc, "indicator"))
        if _is_map(inline.get("spec")):
            out += _sli(inline["spec"], (*loc, "indicator", "spec"))
            sli_kind = "thresholdMetric" if "thresholdMetric" in inline["spec"] else "ratioMetric"
    out += _time_window(spec, loc)
    method = spec.get("budgetingMethod")
    if method not in BUDGETING_METHODS:
        out.append(((*loc, "budgetingMethod"), f"budgetingMethod must be one of {', '.join(BUDGETING_METHODS)}"))
    objectives = spec.get("objectives")
    if not isinstance(objectives, list) or not objectives:
        out.append((loc, "missing required field 'objectives' (a non-empty list)"))
    else:
        if sli_kind == "thresholdMetric" and len(objectives) > 1:
            out.append(((*loc, "objectives"), "an SLO on a thresholdMetric has exactly one objective"))
        for i, o in enumerate(objectives):
            out += _objective(o, (*loc, "objectives", i), method, sli_kind == "thresholdMetric")
    for i, ref in enumerate(spec.get("alertPolicies") or []):
        if not (_is_map(ref) and (isinstance(ref.get("alertPolicyRef"), str) or ref.get("kind") == "AlertPolicy")):
            out.append(((*loc, "alertPolicies", i), "an alert policy is an alertPolicyRef or an inline AlertPolicy"))
    return out


def _condition(spec: dict[str, Any], loc: Path_) -> list[Problem]:
    out = _description(spec, loc)
    if not isinstance(spec.get("severity"), str):
        out.append((loc, "missing required field 'severity' (text)"))
    cond = spec.get("condition")
    if not _is_map(cond):
        return [*out, (loc, "missing required field 'condition'")]
    cloc = (*loc, "condition")
    if cond.get("kind", "burnrate") not in CONDITION_KINDS:
        out.append(((*cloc, "kind"), f"kind must be one of {', '.join(CONDITION_KINDS)}"))
    if cond.get("op") not in OPERATORS:
        out.append((cloc, f"op must be one of {', '.join(OPERATORS)}"))
    if not _is_number(cond.get("threshold")):
        out.append((cloc, "missing required field 'threshold' (a number)"))
    for key in ("lookbackWindow", "alertAfter"):
        if not (isinstance(cond.get(key), str) and SHORTHAND.match(cond[key])):
            out.append((cloc, f"{key} must be a duration-shorthand (e.g. 5m, 1h)"))
    return out


def _inline(item: Any, kind: str, ref: str, loc: Path_) -> list[Problem]:
    if _is_map(item) and isinstance(item.get(ref), str):
        return []
    if not (_is_map(item) and item.get("kind") == kind and _is_map(item.get("spec"))):
        return [(loc, f"give {ref}, or an inline {kind} with metadata and spec")]
    out = _metadata(item, loc)
    if kind == "AlertCondition":
        out += _condition(item["spec"], (*loc, "spec"))
    elif not isinstance(item["spec"].get("target"), str):
        out.append(((*loc, "spec"), "missing required field 'target'"))
    return out


def _policy(spec: dict[str, Any], loc: Path_) -> list[Problem]:
    out = _description(spec, loc)
    for key in ("alertWhenNoData", "alertWhenResolved", "alertWhenBreaching"):
        if not isinstance(spec.get(key), bool):
            out.append((loc, f"missing required field {key!r} (true or false)"))
    conditions = spec.get("conditions")
    if not (isinstance(conditions, list) and len(conditions) == 1):
        out.append((loc, "conditions is a list of exactly one condition"))
    else:
        out += _inline(conditions[0], "AlertCondition", "conditionRef", (*loc, "conditions", 0))
    targets = spec.get("notificationTargets")
    if not (isinstance(targets, list) and targets):
        out.append((loc, "notificationTargets is a non-empty list"))
    else:
        for i, t in enumerate(targets):
            out += _inline(t, "AlertNotificationTarget", "targetRef", (*loc, "notificationTargets", i))
    return out


def document_problems(doc: Any, sli_kinds: dict[str, str] | None = None) -> list[Problem]:
    """What keeps one document from being an OpenSLO v1 object; sli_kinds (SLI name -> thresholdMetric |
    ratioMetric) lets an SLO's objectives be checked against the SLI it refers to."""
    if not _is_map(doc):
        return [((), "an OpenSLO document is a mapping")]
    out: list[Problem] = []
    if doc.get("apiVersion") != API_VERSION:
        out.append((("apiVersion",), f"apiVersion must be {API_VERSION} (got {doc.get('apiVersion')!r})"))
    kind = doc.get("kind")
    if kind not in KINDS:
        return [*out, (("kind",), f"kind must be one of {', '.join(KINDS)} (got {kind!r})")]
    out += _metadata(doc, ())
    spec = doc.get("spec")
    if not _is_map(spec):
        return [*out, ((), "missing required field 'spec' (a mapping)")]
    loc: Path_ = ("spec",)
    if kind == "Service" or kind == "DataSource":
        out += _description(spec, loc)
    elif kind == "SLI":
        out += _sli(spec, loc)
    elif kind == "SLO":
        ref = spec.get("indicatorRef")
        out += _slo(spec, loc, (sli_kinds or {}).get(ref) if isinstance(ref, str) else None)
    elif kind == "AlertPolicy":
        out += _policy(spec, loc)
    elif kind == "AlertCondition":
        out += _condition(spec, loc)
    elif not isinstance(spec.get("target"), str):
        out.append((loc, "missing required field 'target'"))
    return out


def _names(docs: Sequence[YamlDocument], kind: str) -> set[str]:
    return {
        d.data["metadata"]["name"]
        for d in docs
        if _is_map(d.data) and d.data.get("kind") == kind and _is_map(d.data.get("metadata"))
    }


def _sli_kinds(docs: Sequence[YamlDocument]) -> dict[str, str]:
    kinds: dict[str, str] = {}
    for d in docs:
        if _is_map(d.data) and d.data.get("kind") == "SLI" and _is_map(d.data.get("spec")):
            name = str((d.data.get("metadata") or {}).get("name"))
            kinds[name] = "thresholdMetric" if "thresholdMetric" in d.data["spec"] else "ratioMetric"
    return kinds


def check_stream(docs: Sequence[YamlDocument]) -> list[SpecIssue]:
    """Every problem of every document, and every reference that names no object of the stream, at its place."""
    issues: list[SpecIssue] = []

    def issue(doc: YamlDocument, loc: Path_, message: str) -> None:
        pos = doc.position(loc)
        issues.append(SpecIssue(str(doc.path), pos.line, pos.column, dotted(loc), message))

    sli_kinds = _sli_kinds(docs)
    for doc in docs:
        for loc, message in document_problems(doc.data, sli_kinds):
            issue(doc, loc, message)
    if issues:
        return issues
    known = {kind: _names(docs, kind) for kind in KINDS}
    for doc in docs:
        kind, spec = doc.data["kind"], doc.data["spec"]
        refs: list[tuple[Path_, str, Any]] = []
        if kind == "SLO":
            refs += [(("spec", "service"), "Service", spec.get("service"))]
            refs += [(("spec", "indicatorRef"), "SLI", spec.get("indicatorRef"))]
            refs += [
                (("spec", "alertPolicies", i, "alertPolicyRef"), "AlertPolicy", p.get("alertPolicyRef"))
                for i, p in enumerate(spec.get("alertPolicies") or [])
            ]
        if kind == "AlertPolicy":
            refs += [
                (("spec", "conditions", 0, "conditionRef"), "AlertCondition", spec["conditions"][0].get("conditionRef"))
            ]
            refs += [
                (("spec", "notificationTargets", i, "targetRef"), "AlertNotificationTarget", t.get("targetRef"))
                for i, t in enumerate(spec["notificationTargets"])
            ]
        for loc, target_kind, name in refs:
            if isinstance(name, str) and name not in known[target_kind]:
                issue(doc, loc, f"no {target_kind} named {name!r} in the documents read")
    return issues
