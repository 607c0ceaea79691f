"""The starter spec `slo init` writes: SLOs whose thresholds come from what was observed in the database, each with
a YAML comment saying what was seen and which margin was applied, so the spec validates and passes on the database
it was written from.

Pure: a DatabaseProfile in, YAML text out. Margins:

- freshness (max_age): twice the observed age, rounded up, and at least an hour (one observation says little about
  how often a table is updated); none when the newest row is older than 90 days. The spec declares no use case, so
  `slo validate` has no update cadence to warn against; one added later is checked against these thresholds;
- completeness (non_null_ratio): twice the observed null share (never-null columns together at 1.0);
- volume (row_volume): half the lowest ratio of a day to its trailing days seen in the history read;
- validity: numeric ranges widened by half their span (not below 0 when no value was), the categorical values seen,
  no rows in the future; each at a 1% allowance for ranges and sets;
- uniqueness and schema as observed, at 1.0; no_pii at 0 only where no value looked like personal data.

The data product part is card.design_card(): its id, its owner and, as comments, what to add next.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from sqlglot import exp

from dagster_project.scaffold.card import design_card, quoted, scalar, when
from dagster_project.scaffold.profile import ColumnProfile, DatabaseProfile, TableProfile

HISTORICAL_AGE_S = 90 * 86400
# The least max_age threshold written: an age seen once says little about how often a table is updated.
MIN_MAX_AGE_S = 3600
OBJECTIVE = 0.99
WINDOWS = "[7d, 28d]"
# An integer column named like an identifier (id, order_id, customer_sk, user_key, flight_no) is not a quantity.
_IDENTIFIER_NAME = re.compile(r"(^|_)(id|sk|key|no)$", re.IGNORECASE)
_SQL_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_ ]*(\([0-9]+(, ?[0-9]+)?\))?(\[\])?$")
_T = exp.DataType.Type
_TEXT_TYPES = {_T.TEXT, _T.VARCHAR, _T.CHAR, _T.NVARCHAR, _T.NCHAR, _T.NAME}
_TIMESTAMP_TYPES = {_T.TIMESTAMP, _T.TIMESTAMPNTZ, _T.TIMESTAMPTZ, _T.TIMESTAMPLTZ}


def identifier(text: str, fallback: str = "x") -> str:
    """An id as the spec accepts it: lower case letters, digits and _, starting with a letter, at most 64."""
    ident = re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")
    ident = re.sub(r"_+", "_", ident)
    if not ident or not ident[0].isalpha():
        ident = f"{fallback}_{ident}".strip("_")
    return ident[:64].rstrip("_")


def age_text(seconds: float) -> str:
    """3h12m, 2d4h, 45m, 12s: an observed age, compactly."""
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m")] if seconds >= 60 else [(secs, "s")]
    text = "".join(f"{n}{unit}" for n, unit in parts if n)
    return text or "0s"


def duration_up(seconds: float) -> str:
    """A spec duration at least `seconds`, rounded up: to 5 minutes below an hour, to hours up to two days, then
    to days."""
    minutes = max(5, math.ceil(seconds / 300) * 5)
    if minutes < 60:
        return f"{minutes}m"
    if seconds <= 2 * 86400:
        return f"{math.ceil(seconds / 3600)}h"
    return f"{math.ceil(seconds / 86400)}d"


def ratio_down(value: float, digits: int = 3) -> float:
    """`value` rounded down to `digits` decimals (a min threshold that the observed value meets)."""
    scale = 10.0**digits
    return max(0.0, math.floor(value * scale + 1e-9) / scale)


def _count(n: int) -> str:
    return f"{n:,}"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _observed(value: float) -> str:
    """An observed number for a comment: at most 6 significant digits."""
    return f"{value:.6g}"


def number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def widened_range(low: float, high: float, integer: bool) -> tuple[float, float]:
    """[low, high] widened by half its span (by half the larger magnitude, or 1, when it has none), rounded outward
    to a step of the padding's order of magnitude; not below 0 when no value was, not above 0 when none was."""
    pad = (high - low) / 2 or max(abs(low), abs(high)) / 2 or 1.0
    step = 10 ** math.floor(math.log10(pad))
    if integer:
        step = max(1.0, step)
    digits = max(0, -math.floor(math.log10(step)))
    lo = round(math.floor((low - pad) / step + 1e-9) * step, digits)
    hi = round(math.ceil((high + pad) / step - 1e-9) * step, digits)
    if low >= 0:
        lo = max(lo, 0.0)
    if high <= 0:
        hi = min(hi, 0.0)
    while lo > low:
        lo = round(lo - step, digits)
    while hi < high:
        hi = round(hi + step, digits)
    return lo, hi


@dataclass
class _Slo:
    comment: list[str]
    id: str
    description: str
    dimension: str
    dataset: str
    indicator: str
    threshold: str
    severity: str

    def lines(self) -> list[str]:
        return [
            *(f"  # {c}" for c in self.comment),
            f"  - id: {self.id}",
            f"    description: {quoted(self.description)}",
            f"    dimension: {self.dimension}",
            f"    dataset: {self.dataset}",
            f"    indicator: {self.indicator}",
            f"    threshold: {self.threshold}",
            f"    severity: {self.severity}",
            f"    objective: {OBJECTIVE}",
            f"    windows: {WINDOWS}",
        ]


def spec_type(type_: str, dialect: str) -> str | None:
    """The type as a spec writes it (DuckDB's names: engines/types.py compares them with each engine's), or None when
    a spec cannot write it. DuckDB's own spelling is kept as it is."""
    if dialect != "duckdb":
        try:
            built = exp.DataType.build(type_, dialect=dialect)
        except Exception:
            return None
        if built.this in _TEXT_TYPES:
            type_ = "VARCHAR"
        elif built.this in _TIMESTAMP_TYPES and dialect == "spark":
            type_ = "TIMESTAMP"  # Spark's TIMESTAMP is shown in the session's UTC: matches either (engines/types.py)
        else:
            type_ = built.sql(dialect="duckdb").upper()
    return type_ if _SQL_TYPE.match(type_) else None


def _names(columns: Sequence[str]) -> str:
    return "[" + ", ".join(scalar(c) for c in columns) + "]"


class _Writer:
    def __init__(self, profile: DatabaseProfile) -> None:
        self.profile = profile
        self.as_of_epoch = profile.as_of.timestamp()
        self.ids: set[str] = set()
        self.notes: list[str] = []  # what was seen but not made an SLO, per table
        names = [t.dataset.split(".", 1)[1] for t in profile.tables]
        self.bases = {
            t.dataset: identifier(
                t.dataset.split(".", 1)[1] if names.count(t.dataset.split(".", 1)[1]) == 1 else t.dataset, "t"
            )
            for t in profile.tables
        }

    def slo_id(self, table: TableProfile, suffix: str) -> str:
        base = identifier(f"{self.bases[table.dataset][: 63 - len(suffix)]}_{suffix}", "t")
        candidate, n = base, 2
        while candidate in self.ids:
            candidate, n = f"{base[:60]}_{n}", n + 1
        self.ids.add(candidate)
        return candidate

    def table(self, t: TableProfile) -> list[_Slo]:
        out: list[_Slo] = []
        out += self.schema(t)
        out += self.freshness(t)
        out += self.volume(t)
        out += self.completeness(t)
        out += self.uniqueness(t)
        out += self.validity(t)
        out += self.governance(t)
        return out

    def schema(self, t: TableProfile) -> list[_Slo]:
        types = {c.name: spec_type(c.type, self.profile.dialect) for c in t.columns}
        typed = [c for c in t.columns if types[c.name] is not None]
        if not typed:
            return []
        left_out = [c.name for c in t.columns if types[c.name] is None]
        comment = [f"{t.dataset}: {_count(t.rows)} rows, {len(t.columns)} columns; their names and types as they are"]
        if left_out:
            comment.append(f"(left out, their types cannot be written in a spec: {', '.join(left_out)})")
        if t.unnameable:
            comment.append(f"(not profiled, their names cannot be written in a spec: {', '.join(t.unnameable)})")
        columns = ", ".join(f"{scalar(c.name)}: {quoted(types[c.name] or '')}" for c in typed)
        return [
            _Slo(
                comment,
                self.slo_id(t, "schema"),
                f"{t.dataset} keeps its columns and their types.",
                "schema",
                t.dataset,
                f"{{type: schema, columns: {{{columns}}}}}",
                "{min: 1.0}",
                "error",
            )
        ]

    def freshness(self, t: TableProfile) -> list[_Slo]:
        if t.time_column is None:
            if not t.rows or not any(c.family == "time" for c in t.columns):
                self.notes.append(f"{t.dataset}: no timestamp or date column with values: no freshness or volume SLO")
            return []
        col = t.column(t.time_column)
        out: list[_Slo] = []
        assert col.newest_epoch is not None
        age = max(0.0, self.as_of_epoch - col.newest_epoch)
        others = [c for c in t.columns if c.family == "time" and c.name != col.name and c.newest_epoch is not None]
        seen = (
            f"observed max age {age_text(age)} at {when(self.as_of_epoch)} (newest {col.name} {when(col.newest_epoch)})"
        )
        if age > HISTORICAL_AGE_S:
            self.notes.append(
                f"{t.dataset}: {seen}: historical data? no freshness SLO; rerun with --as-of to judge it as of a "
                "time of its own"
            )
        else:
            threshold = duration_up(max(2 * age, MIN_MAX_AGE_S))
            why = "threshold 2x, rounded up"
            if 2 * age < MIN_MAX_AGE_S:
                why = (
                    f"threshold 2x, raised to {age_text(MIN_MAX_AGE_S)}: "
                    "one observation says little about how often it is updated"
                )
            comment = [f"{seen}; {why}"]
            if others:
                comment.append(
                    "other timestamps: " + ", ".join(f"{c.name} (newest {when(c.newest_epoch or 0)})" for c in others)
                )
            out.append(
                _Slo(
                    comment,
                    self.slo_id(t, "fresh"),
                    f"The newest {t.dataset} row is at most {threshold} old.",
                    "freshness",
                    t.dataset,
                    f"{{type: max_age, column: {scalar(col.name)}}}",
                    f"{{max: {threshold}}}",
                    "warn",
                )
            )
        for c in [col, *others]:
            judged = t.rows - c.nulls
            share = c.future / judged if judged else 0.0
            bound = ratio_down(1 - 2 * share)
            if bound <= 0:
                continue
            seen_future = (
                f"no {c.name} more than 5m after {when(self.as_of_epoch)}"
                if not c.future
                else f"{_count(c.future)} of {_count(judged)} {c.name} values after {when(self.as_of_epoch)} + 5m; "
                "threshold: twice that share"
            )
            out.append(
                _Slo(
                    [seen_future],
                    self.slo_id(t, f"{identifier(c.name, 'c')}_not_in_future"),
                    f"No {c.name} in {t.dataset} is dated in the future.",
                    "validity",
                    t.dataset,
                    f"{{type: not_in_future, column: {scalar(c.name)}}}",
                    f"{{min: {number_text(bound)}}}",
                    "warn",
                )
            )
        return out

    def volume(self, t: TableProfile) -> list[_Slo]:
        daily = t.daily_rows
        if t.time_column is None or len(daily) < 2:
            if t.time_column is not None:
                self.notes.append(f"{t.dataset}: rows of less than two days by {t.time_column}: no volume SLO")
            return []
        baseline = min(7, len(daily) - 1)
        ratios = []
        for k in range(len(daily) - baseline):
            mean = sum(daily[k + 1 : k + 1 + baseline]) / baseline
            if mean > 0:
                ratios.append(daily[k] / mean)
        current_mean = sum(daily[1 : 1 + baseline]) / baseline
        if not ratios or current_mean == 0:
            self.notes.append(f"{t.dataset}: no rows in the {baseline} days before the last: no volume SLO")
            return []
        bound = ratio_down(min(ratios) / 2, 2)
        days = len(daily)
        seen = (
            f"rows per day by {t.time_column} over the last {days} days: min {_count(min(daily))}, "
            f"max {_count(max(daily))}, last day {_count(daily[0])}; a day against the {baseline} before it: "
            f"{min(ratios):.2f}..{max(ratios):.2f} ({daily[0] / current_mean:.2f} now)"
        )
        if bound <= 0:
            self.notes.append(f"{t.dataset}: {seen}; a day with no rows: no volume SLO")
            return []
        return [
            _Slo(
                [seen, "threshold: half the lowest, rounded down"],
                self.slo_id(t, "volume"),
                f"The last day of {t.dataset} has at least {bound:g} times the rows of the days before.",
                "completeness",
                t.dataset,
                f"{{type: row_volume, timestamp_column: {scalar(t.time_column)}, period: 1d, "
                f"baseline_periods: {baseline}}}",
                f"{{min: {bound:g}}}",
                "warn",
            )
        ]

    def completeness(self, t: TableProfile) -> list[_Slo]:
        if not t.rows:
            return []
        out: list[_Slo] = []
        full = [c.name for c in t.columns if c.nulls == 0]
        if full:
            out.append(
                _Slo(
                    [f"never null in {_count(t.rows)} rows: {', '.join(full)}"],
                    self.slo_id(t, "complete"),
                    f"Every {t.dataset} row has its {', '.join(full)}.",
                    "completeness",
                    t.dataset,
                    f"{{type: non_null_ratio, columns: {_names(full)}}}",
                    "{min: 1.0}",
                    "warn",
                )
            )
        for c in t.columns:
            if c.nulls == 0:
                continue
            share = c.nulls / t.rows
            bound = ratio_down(1 - 2 * share)
            seen = f"{c.name}: {_count(c.nulls)} of {_count(t.rows)} null ({share:.2%})"
            if bound <= 0:
                self.notes.append(f"{t.dataset}: {seen}: no completeness SLO")
                continue
            out.append(
                _Slo(
                    [f"{seen}; threshold: twice the null share, rounded down"],
                    self.slo_id(t, f"{identifier(c.name, 'c')}_present"),
                    f"At most {1 - bound:.1%} of {t.dataset}.{c.name} is missing.",
                    "completeness",
                    t.dataset,
                    f"{{type: non_null_ratio, columns: [{scalar(c.name)}]}}",
                    f"{{min: {number_text(bound)}}}",
                    "warn",
                )
            )
        return out

    def uniqueness(self, t: TableProfile) -> list[_Slo]:
        if t.key_note:
            self.notes.append(f"{t.dataset}: {t.key_note}: no uniqueness SLO")
        if not t.keys and t.rows and not t.key_note:
            self.notes.append(f"{t.dataset}: no column, pair or triple of columns is unique and never null")
        out = []
        for key in t.keys:
            name = "_".join(identifier(c, "c") for c in key)
            out.append(
                _Slo(
                    [f"{', '.join(key)}: unique and never null in all {_count(t.rows)} rows, a candidate key"],
                    self.slo_id(t, f"{name}_unique"),
                    f"One {t.dataset} row per {', '.join(key)}.",
                    "uniqueness",
                    t.dataset,
                    f"{{type: uniqueness, columns: {_names(key)}}}",
                    "{min: 1.0}",
                    "error",
                )
            )
        return out

    def validity(self, t: TableProfile) -> list[_Slo]:
        out: list[_Slo] = []
        in_keys = {c for key in t.keys for c in key}
        identifiers: list[str] = []
        for c in t.columns:
            if c.family == "number" and c.name not in in_keys and c.minimum is not None and c.maximum is not None:
                if c.integer and _IDENTIFIER_NAME.search(c.name):
                    identifiers.append(c.name)
                else:
                    out.append(self._range(t, c))
            elif c.categories is not None:
                values = ", ".join(quoted(v) for v in c.categories)
                out.append(
                    _Slo(
                        [
                            f"{c.name}: {_plural(len(c.categories), 'value')} seen in {_count(t.rows - c.nulls)} rows; "
                            "1% may be new"
                        ],
                        self.slo_id(t, f"{identifier(c.name, 'c')}_known"),
                        f"{t.dataset}.{c.name} holds a known value.",
                        "validity",
                        t.dataset,
                        f"{{type: in_set, column: {scalar(c.name)}, values: [{values}]}}",
                        "{min: 0.99}",
                        "warn",
                    )
                )
        if identifiers:
            self.notes.append(f"{t.dataset}: {', '.join(identifiers)}: identifiers by their names, no range SLO")
        return out

    def _range(self, t: TableProfile, c: ColumnProfile) -> _Slo:
        assert c.minimum is not None and c.maximum is not None
        integer = c.integer
        lo, hi = widened_range(c.minimum, c.maximum, integer)
        return _Slo(
            [
                f"{c.name}: observed {_observed(c.minimum)}..{_observed(c.maximum)}; widened by half the span, "
                "rounded outward; 1% may fall outside"
            ],
            self.slo_id(t, f"{identifier(c.name, 'c')}_in_range"),
            f"{t.dataset}.{c.name} lies within {number_text(lo)}..{number_text(hi)}.",
            "validity",
            t.dataset,
            f"{{type: in_range, column: {scalar(c.name)}, min: {number_text(lo)}, max: {number_text(hi)}}}",
            "{min: 0.99}",
            "warn",
        )

    def governance(self, t: TableProfile) -> list[_Slo]:
        if t.pii_values is None:
            return []
        if t.pii_values:
            self.notes.append(
                f"{t.dataset}: {_count(t.pii_values)} text values look like e-mail addresses or phone "
                "numbers (personal data?): no no_pii SLO"
            )
            return []
        return [
            _Slo(
                [f"no text value looks like an e-mail address or a phone number in {_count(t.rows)} rows"],
                self.slo_id(t, "free_of_pii"),
                f"No e-mail address or phone number in {t.dataset}.",
                "governance",
                t.dataset,
                "{type: no_pii, patterns: [email, phone]}",
                "{max: 0}",
                "warn",
            )
        ]


def starter_spec(profile: DatabaseProfile, product: str, owner: str | None = None, server: Sequence[str] = ()) -> str:
    """The starter spec's YAML text; `server` the lines of its `server:` block, if any. Raises ValueError when no SLO
    can be written."""
    writer = _Writer(profile)
    slos = [s for t in profile.tables for s in writer.table(t)]
    if not slos:
        raise ValueError("no SLO could be written: the tables have no column a spec can name")
    card = design_card(product, owner)
    tables = textwrap.wrap(", ".join(t.dataset for t in profile.tables) + ".", 110)
    lines = [
        f"# Starter spec written by `slo init` from {profile.db} as of {when(profile.as_of.timestamp())}, tables:",
        *(f"# {line}" for line in tables),
        "# Each threshold comes from what was observed then, with a margin its comment gives: tighten or loosen them",
        "# to what your consumers need, and raise severity to error where a failure must block.",
        "version: 1",
        *card,
        *server,
        "slos:",
    ]
    for slo in slos:
        lines += slo.lines()
    skipped = [f"{name}: its name cannot be written in a spec" for name in profile.skipped_tables]
    if writer.notes or skipped:
        lines += ["", "# Seen but not made an SLO:", *(f"# - {n}" for n in [*writer.notes, *skipped])]
    return "\n".join(lines) + "\n"
