"""Validation in layers, every problem reported at its place as `file:line:col: dotted.path: message`.

1. YAML: syntax, duplicate keys (yaml_source).
2. Structure: the pydantic models (unknown fields rejected, types, local rules).
3. Semantics across all files: ids unique, references resolve, thresholds fit their indicator's unit.
4. With a database (verify/database.py): datasets and columns exist with the types their indicators need; the
   spec's SQL and measure expressions prepare. Warnings, which never fail validation: slack.py.

All problems of a layer are collected before stopping, so one run shows everything to fix.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dagster_project.engines.measures import measure_query
from dagster_project.exporter.names import RESERVED_LABELS
from dagster_project.indicators.registry import REGISTRY
from dagster_project.spec import spec_cache
from dagster_project.spec.cron import CronError
from dagster_project.spec.cron import parse as parse_cron
from dagster_project.spec.durations import parse_duration
from dagster_project.spec.free_sql import (
    FreeSqlRejected,
    measure_query_verdict,
    predicate_verdict,
    regex_error,
    require_single_select,
)
from dagster_project.spec.models import CustomSql, MatchesPattern, SpecFile, model_parts
from dagster_project.spec.models import Slo as SpecSlo
from dagster_project.spec.yaml_doc import Path_, YamlDocument, YamlError, read_text, spec_files

# Product ids that would collide with a page of the hub (`slo report`'s folder and `slo serve`'s paths).
RESERVED_PRODUCT_IDS = {"index": "the hub's page is index.html; choose another id"}


@dataclass(frozen=True, order=True)
class SpecIssue:
    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {one_line(self.path)}: {one_line(self.message)}"


def one_line(text: str) -> str:
    """`text` with line breaks and other unprintable characters escaped (a key may be "\\r"): one issue, one line."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@dataclass(frozen=True)
class LoadedSpec:
    doc: YamlDocument
    spec: SpecFile

    def issue(self, loc: Path_, message: str) -> SpecIssue:
        pos = self.doc.position(loc)
        return SpecIssue(str(self.doc.path), pos.line, pos.column, dotted(loc), message)


def dotted(loc: Sequence[str | int]) -> str:
    return ".".join(str(p) for p in loc) or "(document)"


# Friendlier words for pydantic's pattern errors, keyed by the pattern.
_PATTERN_NAMES = {
    r"^[a-z][a-z0-9_]*$": "an id (lower case letters, digits and _, starting with a letter)",
    r"^[A-Za-z_][A-Za-z0-9_]*$": "a column name (letters, digits and _; no quotes or spaces)",
    r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$": "a dataset as schema.table (letters, digits and _)",
    r"^\s*(\S+\s+){4}\S+\s*$": "a five-field cron expression",
    r"^[A-Za-z][A-Za-z0-9_ ]*(\([0-9]+(, ?[0-9]+)?\))?(\[\])?$": "a DuckDB type name (e.g. BIGINT, DECIMAL(10,2))",
    r"^[a-zA-Z_][a-zA-Z0-9_]*$": "a Prometheus label name (letters, digits and _, not starting with a digit)",
    r"^https?://[^\s{}]+$": "an http(s) URL (no spaces or braces)",
}


def _child(node: Any, key: str | int) -> tuple[bool, Any]:
    if isinstance(node, dict) and isinstance(key, str) and key in node:
        return True, node[key]
    if isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
        return True, node[key]
    return False, None


def _resolve(data: Any, loc: Sequence[str | int]) -> tuple[list[str | int], list[str | int]]:
    """Split pydantic's loc into the part that exists in the document and the rest (union tags are dropped)."""
    found: list[str | int] = []
    node = data
    rest = list(loc)
    while rest:
        key = rest[0]
        exists, child = _child(node, key)
        if exists:
            node, found = child, [*found, key]
        elif not (isinstance(node, dict) and node.get("type") == key):  # a tagged union's tag is not in the document
            break
        rest = rest[1:]
    return found, rest


def _structure_issues(doc: YamlDocument, error: ValidationError) -> list[SpecIssue]:
    issues = []
    for e in error.errors(include_url=False):
        found, rest = _resolve(doc.data, e["loc"])
        kind = e["type"]
        if kind == "missing" and len(rest) == 1:
            loc, message = found, f"missing required field {rest[0]!r}"
        elif kind == "extra_forbidden":
            loc, message = [*found, *rest], f"unknown field {str((found + rest)[-1])!r}"
        elif kind == "string_pattern_mismatch":
            pattern = str(e.get("ctx", {}).get("pattern", ""))
            loc, message = found, f"{e['input']!r} is not {_PATTERN_NAMES.get(pattern, 'valid: ' + pattern)}"
        elif kind == "string_type" and "labels" in found[:-1]:
            loc, message = found, f"label values are text: quote it ('{e['input']}')"
        else:
            loc, message = found, str(e["msg"]).removeprefix("Value error, ")
        pos = doc.position(tuple(loc))
        issues.append(SpecIssue(str(doc.path), pos.line, pos.column, dotted(loc), message))
    return issues


def load_specs(
    paths: Iterable[Path], read: Sequence[tuple[Path, str]] | None = None
) -> tuple[list[LoadedSpec], list[SpecIssue]]:
    """Parse and structurally validate every spec file; the files that passed, and the problems of the rest. `read`:
    the files already read (each named with its text, folders expanded), validated as they are."""
    loaded, issues = [], []
    files = [file for file, _text in read] if read is not None else spec_files(paths)
    texts = dict(read or ())
    for file in files:
        if file not in texts and not file.exists():
            issues.append(SpecIssue(str(file), 1, 1, "(file)", "no such file or folder"))
            continue
        try:
            text = texts[file] if file in texts else read_text(file)
            remembered = spec_cache.recall(file, text)
            if remembered is not None:  # validated by an earlier command, text and rules unchanged (spec_cache.py)
                loaded.append(LoadedSpec(remembered[0], _paths_from(file, remembered[1])))
                continue
            from dagster_project.spec.yaml_source import load_yaml  # PyYAML: only for a file not remembered

            doc = load_yaml(file, text)
        except YamlError as exc:
            issues.append(SpecIssue(str(file), exc.position.line, exc.position.column, exc.where, exc.message))
            continue
        if not isinstance(doc.data, dict):
            issues.append(SpecIssue(str(file), 1, 1, "(document)", "a spec file must be a mapping"))
            continue
        try:
            spec = SpecFile.model_validate(doc.data)
        except ValidationError as exc:
            issues.extend(_structure_issues(doc, exc))
            continue
        spec_cache.keep(file, text, doc, spec)
        loaded.append(LoadedSpec(doc, _paths_from(file, spec)))
    if not files:
        issues.append(SpecIssue(", ".join(str(p) for p in paths) or ".", 1, 1, "(files)", "no spec files found"))
    return loaded, issues


def semantic_issues(specs: Sequence[LoadedSpec]) -> list[SpecIssue]:
    issues: list[SpecIssue] = []
    seen: dict[tuple[str, str], tuple[Path, int]] = {}

    def unique(spec: LoadedSpec, kind: str, value: str, loc: Path_) -> None:
        if (kind, value) not in seen:
            seen[(kind, value)] = (spec.doc.path, spec.doc.position(loc).line)
            return
        file, line = seen[(kind, value)]
        where = f"line {line}" if file == spec.doc.path else f"{file}:{line}"
        issues.append(spec.issue(loc, f"{kind} id {value!r} is already used at {where}"))

    for s in specs:
        card = s.spec.data_product
        measures, dimensions = model_parts(s.spec)
        unique(s, "data product", card.id, ("data_product", "id"))
        if card.id in RESERVED_PRODUCT_IDS:
            issues.append(s.issue(("data_product", "id"), f"{card.id!r} is reserved: {RESERVED_PRODUCT_IDS[card.id]}"))
        card_ids: list[tuple[str, str, list[str]]] = [
            ("goal", "goals", [g.id for g in card.goals]),
            ("initiative", "initiatives", [x.id for x in card.initiatives]),
            ("hypothesis", "hypotheses", [h.id for h in card.hypotheses]),
            ("use case", "use_cases", [u.id for u in card.use_cases]),
        ]
        for kind, key, ids in card_ids:
            for i, item_id in enumerate(ids):
                unique(s, kind, item_id, ("data_product", key, i, "id"))
        for i, m in enumerate(measures):
            unique(s, "measure", f"{card.id}.{m.name}", ("semantic_model", "measures", i, "name"))
        for i, d in enumerate(dimensions):
            unique(s, "dimension", f"{card.id}.{d.name}", ("semantic_model", "dimensions", i, "name"))
        for i, q in enumerate(s.spec.consumer_queries):
            unique(s, "consumer query", q.id, ("consumer_queries", i, "id"))
        for i, slo in enumerate(s.spec.slos):
            unique(s, "slo", slo.id, ("slos", i, "id"))
        issues.extend(_reference_issues(s))
    return issues


def _reference_issues(s: LoadedSpec) -> list[SpecIssue]:
    card, spec = s.spec.data_product, s.spec
    goals = {g.id for g in card.goals}
    initiatives = {i.id for i in card.initiatives}
    use_cases = {u.id for u in card.use_cases}
    model_measures, model_dimensions = model_parts(spec)
    measures = {m.name for m in model_measures}
    dimensions = {d.name for d in model_dimensions}
    queries = {q.id for q in spec.consumer_queries}
    issues = []

    def need(value: str | None, known: set[str], kind: str, loc: Path_) -> None:
        if value is not None and value not in known:
            choices = ", ".join(sorted(known)) or "none defined"
            issues.append(s.issue(loc, f"unknown {kind} {value!r} (known: {choices})"))

    for i, goal in enumerate(card.goals):
        need(goal.target.measure, measures, "measure", ("data_product", "goals", i, "target", "measure"))
    for i, h in enumerate(card.hypotheses):
        need(h.initiative, initiatives, "initiative", ("data_product", "hypotheses", i, "initiative"))
        need(h.goal, goals, "goal", ("data_product", "hypotheses", i, "goal"))
    for i, u in enumerate(card.use_cases):
        for j, g in enumerate(u.goals):
            need(g, goals, "goal", ("data_product", "use_cases", i, "goals", j))
    if spec.north_star is not None:
        need(spec.north_star.measure, measures, "measure", ("north_star", "measure"))
        need(spec.north_star.time_dimension, dimensions, "dimension", ("north_star", "time_dimension"))
    for i, q in enumerate(spec.consumer_queries):
        need(q.use_case, use_cases, "use case", ("consumer_queries", i, "use_case"))
    for i, u in enumerate(card.use_cases):
        for key in ("update_cadence", "check_cadence"):
            cron = getattr(u.usage, key)
            try:
                if cron is not None:
                    parse_cron(cron)
            except CronError as exc:
                issues.append(s.issue(("data_product", "use_cases", i, "usage", key), str(exc)))
    for i, slo in enumerate(spec.slos):
        if slo.protects is not None:
            need(slo.protects.goal, goals, "goal", ("slos", i, "protects", "goal"))
            need(slo.protects.use_case, use_cases, "use case", ("slos", i, "protects", "use_case"))
        query = getattr(slo.indicator, "query", None)
        need(query, queries, "consumer query", ("slos", i, "indicator", "query"))
        issues.extend(_threshold_issues(s, i))
        issues.extend(_window_issues(s, i))
        issues.extend(_samples_issues(s, i))
    issues.extend(_sql_issues(s, engine_of(s.spec)))
    issues.extend(_alerting_issues(s))
    issues.extend(_server_issues(s))
    return issues


def _samples_issues(s: LoadedSpec, i: int) -> list[SpecIssue]:
    """`samples:` only where the indicator judges single rows; each key once; at least one key not marked PII (a
    PII key shows as ***, so samples of PII keys alone would show nothing)."""
    slo = s.spec.slos[i]
    if slo.samples is None:
        return []
    d = REGISTRY[slo.indicator.type]
    if not d.row_level:
        row_level = ", ".join(name for name, x in REGISTRY.items() if x.row_level)
        return [
            s.issue(
                ("slos", i, "samples"),
                f"samples: {d.type} judges no single row, so it has no failing rows to sample (row-level types: "
                f"{row_level})",
            )
        ]
    issues: list[SpecIssue] = []
    keys = slo.samples.keys
    for j, key in enumerate(keys):
        if key in keys[:j]:
            issues.append(s.issue(("slos", i, "samples", "keys", j), f"key column {key!r} is listed twice"))
    pii = set(s.spec.pii_columns.get(slo.dataset, ()))
    if keys and all(k in pii for k in keys):
        issues.append(
            s.issue(
                ("slos", i, "samples", "keys"),
                f"every key column is marked as PII in pii_columns ({slo.dataset}): samples would show only ***; add "
                "a key that identifies a row without personal data (e.g. an id)",
            )
        )
    return issues


def _server_issues(s: LoadedSpec) -> list[SpecIssue]:
    """A build writes the deployment's DuckDB database: a built product's data cannot live elsewhere."""
    server = s.spec.server
    if s.spec.build is None or server is None:
        return []
    if server.type != "duckdb":
        return [
            s.issue(("server", "type"), f"a product with a build is built into DuckDB: it cannot live on {server.type}")
        ]
    if server.path is not None:
        return [
            s.issue(
                ("server", "path"), "a product with a build lives in the deployment's database (--db): leave path out"
            )
        ]
    return []


def _alerting_issues(s: LoadedSpec) -> list[SpecIssue]:
    """Spec labels must not clash with the labels the generated rules set; a warn SLO never pages."""
    issues = []
    owners: list[tuple[Path_, dict[str, str]]] = [(("data_product", "labels"), s.spec.data_product.labels)]
    owners += [(("slos", i, "labels"), slo.labels) for i, slo in enumerate(s.spec.slos)]
    for loc, labels in owners:
        for name in labels:
            if name.startswith("__"):
                issues.append(s.issue((*loc, name), f"label {name!r}: names starting with __ are Prometheus's own"))
            elif name in RESERVED_LABELS:
                issues.append(
                    s.issue((*loc, name), f"label {name!r} is set by the generated rules and metrics; choose another")
                )
    for i, slo in enumerate(s.spec.slos):
        if slo.alert == "page" and slo.severity == "warn":
            issues.append(
                s.issue(("slos", i, "alert"), "a warn SLO never pages: use alert: ticket or none, or severity: error")
            )
    return issues


# Ratios that may exceed 1: a volume spike, sums far apart.
UNBOUNDED_RATIOS = frozenset(name for name, d in REGISTRY.items() if d.unbounded)


def spec_datasets(spec: SpecFile) -> set[str]:
    """The tables a spec names (use cases, semantic model, SLOs): the only ones its SQL and measures may read."""
    measures, dimensions = model_parts(spec)
    names = {d for u in spec.data_product.use_cases for d in u.datasets}
    names |= {m.table for m in measures} | {d.table for d in dimensions}
    for slo in spec.slos:
        names.add(slo.dataset)
        reference = getattr(slo.indicator, "reference_dataset", None)
        if reference is not None:
            names.add(reference)
    return names


# Any fixed time: validation checks the shape of a measure's query, not its numbers.
_MEASURE_AS_OF = datetime(2000, 1, 1)


def _paths_from(file: Path, spec: SpecFile) -> SpecFile:
    """The server's relative paths (a DuckDB file, a folder of Spark tables) made absolute, from the spec's folder:
    the spec means the same whoever runs it, from wherever."""
    server = spec.server
    if server is None:
        return spec
    changes = {
        key: str((file.parent / value).resolve())
        for key in ("path", "tables")
        if isinstance(value := getattr(server, key, None), str) and not Path(value).is_absolute()
    }
    return spec.model_copy(update={"server": server.model_copy(update=changes)}) if changes else spec


def engine_of(spec: SpecFile) -> str:
    """The engine (and sqlglot dialect) that runs the spec's checks: where its data lives (`server:`); without one,
    the deployment's DuckDB database."""
    return spec.server.type if spec.server is not None else "duckdb"


def engine_issues(s: LoadedSpec, engine: str) -> list[SpecIssue]:
    """Indicators the engine cannot run (indicators/<type>.py: engines), refused at their place, not at run time."""
    issues = []
    for i, slo in enumerate(s.spec.slos):
        d = REGISTRY[slo.indicator.type]
        if not d.runs_on(engine):
            where = ", ".join(sorted(d.engines))
            message = f"{d.type} cannot run on {engine} (only on {where}): {d.not_on}"
            issues.append(s.issue(("slos", i, "indicator", "type"), message))
    return issues


def _filter_issues(s: LoadedSpec, dialect: str, allowed: Collection[str]) -> list[SpecIssue]:
    """`where:` and `partition:` narrow the rows of a dataset's scan: only indicators measured over their dataset's
    rows take them, and `where` must be one read-only boolean expression in the engine's dialect."""
    issues = []
    for i, slo in enumerate(s.spec.slos):
        d = REGISTRY[slo.indicator.type]
        for key in ("where", "partition", "group_by"):
            if getattr(slo, key) is not None and d.measured != "scan":
                issues.append(
                    s.issue(
                        ("slos", i, key),
                        f"{key}: applies to the rows an indicator reads in its dataset's scan; {d.type} is measured "
                        f"{_MEASURED[d.measured]}, so it cannot take one",
                    )
                )
        if slo.group_by is not None and d.history:
            issues.append(
                s.issue(("slos", i, "group_by"), f"{d.type} is judged against its own history: it takes no group_by")
            )
        if slo.group_by is not None and slo.max_groups is None:
            issues.append(
                s.issue(("slos", i, "group_by"), "group_by needs max_groups: the most groups it may find (e.g. 50)")
            )
        if slo.max_groups is not None and slo.group_by is None:
            issues.append(s.issue(("slos", i, "max_groups"), "max_groups bounds group_by: give group_by too"))
        if slo.group_by is not None and len(set(slo.group_by)) != len(slo.group_by):
            issues.append(s.issue(("slos", i, "group_by"), "group_by names a column twice"))
        if (
            slo.where is not None
            and d.measured == "scan"
            and (verdict := predicate_verdict(slo.where, dialect, allowed)) is not None
        ):
            issues.append(s.issue(("slos", i, "where"), f"where {verdict}"))
    return issues


_MEASURED = {
    "query": "by a query of its own",
    "catalog": "from the catalog, not the rows",
    "free_sql": "by the SQL written in the spec (filter there)",
    "timed": "by timing a consumer query",
}


def _sql_issues(s: LoadedSpec, dialect: str = "duckdb") -> list[SpecIssue]:
    """Free SQL must be one read-only SELECT over the spec's datasets, a measure one expression over its table
    (free_sql.py, on the parse tree), in the dialect of the engine that runs it; regexes must work there."""
    issues = engine_issues(s, dialect)
    allowed = spec_datasets(s.spec)
    checks: list[tuple[Path_, str]] = [
        (("consumer_queries", i, "sql"), q.sql) for i, q in enumerate(s.spec.consumer_queries)
    ]
    checks += [
        (("slos", i, "indicator", "sql"), slo.indicator.sql)
        for i, slo in enumerate(s.spec.slos)
        if isinstance(slo.indicator, CustomSql)
    ]
    for loc, sql in checks:
        try:
            require_single_select(sql, allowed, dialect)
        except FreeSqlRejected as exc:
            issues.append(s.issue(loc, f"SQL {exc}"))
    for i, measure in enumerate(model_parts(s.spec)[0]):
        # Parsed as it is placed in its query: a misspelt keyword (FILTR) fails here already; a misspelt column
        # (valeu) only against a database (verify/database.py).
        sql = measure_query(s.spec, measure, _MEASURE_AS_OF)
        if (verdict := measure_query_verdict(sql, measure.expression, allowed)) is not None:
            issues.append(s.issue(("semantic_model", "measures", i, "expression"), f"expression {verdict}"))
    issues.extend(_filter_issues(s, dialect, allowed))
    for i, slo in enumerate(s.spec.slos):
        if not isinstance(slo.indicator, MatchesPattern):
            continue
        if (error := regex_error(slo.indicator.regex, dialect)) is not None:
            issues.append(s.issue(("slos", i, "indicator", "regex"), f"invalid regex: {error}"))
    return issues


# Windows are computed and labelled per minute at the finest (Prometheus's rule evaluation and the alert windows).
MIN_WINDOW_S = 60


def _window_issues(s: LoadedSpec, i: int) -> list[SpecIssue]:
    """Each window at least a minute, and no two the same duration (1d and 24h would export one series twice)."""
    issues: list[SpecIssue] = []
    seen: dict[float, int] = {}
    for j, text in enumerate(s.spec.slos[i].windows):
        loc: Path_ = ("slos", i, "windows", j)
        seconds = parse_duration(text).total_seconds()
        if seconds < MIN_WINDOW_S:
            issues.append(s.issue(loc, f"window {text!r} is shorter than a minute; use 1m or more (e.g. 7d, 28d)"))
        elif seconds in seen:
            same = s.spec.slos[i].windows[seen[seconds]]
            issues.append(s.issue(loc, f"window {text!r} is the same duration as {same!r} (windows.{seen[seconds]})"))
        else:
            seen[seconds] = j
    return issues


def _bound_issue(slo: SpecSlo, value: float | str) -> str | None:
    """What is wrong with one bound for the SLO's indicator (its unit fixes how a bound is written), or None."""
    unit = REGISTRY[slo.indicator.type].unit_of(slo.indicator)
    if unit == "duration":
        if not isinstance(value, str):
            return f"{slo.indicator.type} measures a duration: write the bound as one, e.g. 24h"
        try:
            parse_duration(value)
        except ValueError as exc:
            return str(exc)
        return None
    if isinstance(value, str):
        return f"{slo.indicator.type} measures a {unit}: the bound must be a number, not {value!r}"
    if unit == "ratio" and slo.indicator.type in UNBOUNDED_RATIOS and value < 0:
        return f"{slo.indicator.type} measures a ratio: the bound cannot be negative"
    if unit == "ratio" and slo.indicator.type not in UNBOUNDED_RATIOS and not 0 <= value <= 1:
        return f"{slo.indicator.type} measures a ratio: the bound must be between 0 and 1"
    if unit == "count" and value < 0:
        return "a count bound cannot be negative"
    return None


def _number(value: float | str) -> float:
    return parse_duration(value).total_seconds() if isinstance(value, str) else float(value)


def _threshold_issues(s: LoadedSpec, i: int) -> list[SpecIssue]:
    """Each bound fits the indicator's unit; between bounds are in order; a warn level only on an error SLO, with the
    threshold's bounds, each at least as strict (else the warning could never show before the failure)."""
    slo = s.spec.slos[i]
    issues: list[SpecIssue] = []
    levels = [("threshold", slo.threshold)] + ([("warn", slo.warn)] if slo.warn is not None else [])
    for field, threshold in levels:
        bad = False
        for key, value in threshold.bounds:
            problem = _bound_issue(slo, value)
            if problem is not None:
                issues.append(s.issue(("slos", i, field, key), problem))
                bad = True
        if bad:
            return issues
        if threshold.min is not None and threshold.max is not None and _number(threshold.min) > _number(threshold.max):
            issues.append(
                s.issue(("slos", i, field, "max"), f"max {threshold.max} is below min {threshold.min}: no value fits")
            )
            return issues
    rule = REGISTRY[slo.indicator.type].threshold_rule
    problem = None if rule is None else rule(slo.threshold.min, slo.threshold.max)
    if problem is not None:
        return [s.issue(("slos", i, "threshold"), problem)]
    if slo.warn is None:
        return issues
    if slo.severity != "error":
        return [
            s.issue(("slos", i, "warn"), "a warn level needs severity: error (a warn SLO has one level: its threshold)")
        ]
    error, warn = slo.threshold, slo.warn
    if [k for k, _ in warn.bounds] != [k for k, _ in error.bounds]:
        given = " and ".join(k for k, _ in error.bounds)
        return [
            s.issue(
                ("slos", i, "warn"), f"give the warn level the threshold's bounds ({given}), each as strict or stricter"
            )
        ]
    for key, value in warn.bounds:
        limit = _number(getattr(error, key))
        looser = _number(value) < limit if key == "min" else _number(value) > limit
        if looser:
            what = "below" if key == "min" else "above"
            return [
                s.issue(
                    ("slos", i, "warn", key),
                    f"warn {key} {value} is {what} the threshold's {getattr(error, key)}: the SLO would fail before it"
                    " warned; a warn level is stricter than the threshold",
                )
            ]
    if all(_number(value) == _number(getattr(error, key)) for key, value in warn.bounds):
        return [
            s.issue(("slos", i, "warn"), "the warn level equals the threshold: it could never show; make it stricter")
        ]
    return issues


def validate(
    paths: Iterable[Path], read: Sequence[tuple[Path, str]] | None = None
) -> tuple[list[LoadedSpec], list[SpecIssue]]:
    """Every layer that can run: structure for all files, then semantics across the files that parsed (`read`: as
    load_specs)."""
    specs, issues = load_specs(paths, read)
    issues.extend(semantic_issues(specs))
    return specs, sorted(issues)
