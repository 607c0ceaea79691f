"""The wire spec: what a YAML file in slo_definitions/ may say, as pydantic models (unknown fields are errors).

A data product is described the way the design method works, right to left: vision, goals with measurable targets,
initiatives and the hypotheses linking them to goals, use cases with their consumers and usage patterns, a small
semantic model, the North Star, and the SLOs that protect a goal or a use case. A spec starts small: only the
product's id and owner and one SLO are required; the rest of the design card is optional, grown as it is known, and
fully checked when present. What a person must decide stays required: each SLO's dimension, dataset, indicator,
threshold, severity and objective. Only shapes and local rules live here; cross-references (ids, measures, datasets)
are checked by the semantic pass in validate.py.

Names that end up in SQL (datasets, columns) are restricted to plain identifiers here, so no spec can inject SQL
through them; free SQL (measures, consumer queries, custom indicators) only ever runs read-only.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, model_validator

from dagster_project.indicators.base import Unit as registry_unit
from dagster_project.indicators.fields import (
    Dataset,
    Duration,
    Identifier,
    IndicatorSpec,
    Nulls,
    SqlName,
    SqlType,
    Strict,
)
from dagster_project.indicators.models.build_duration import BuildDuration
from dagster_project.indicators.models.custom_sql import CustomSql
from dagster_project.indicators.models.in_range import InRange
from dagster_project.indicators.models.in_set import InSet
from dagster_project.indicators.models.matches_pattern import MatchesPattern
from dagster_project.indicators.models.max_age import MaxAge
from dagster_project.indicators.models.metric import Metric
from dagster_project.indicators.models.no_pii import NoPii
from dagster_project.indicators.models.non_null_ratio import NonNullRatio
from dagster_project.indicators.models.not_in_future import NotInFuture
from dagster_project.indicators.models.query_availability import QueryAvailability
from dagster_project.indicators.models.query_latency import QueryLatency
from dagster_project.indicators.models.reconciliation import Reconciliation
from dagster_project.indicators.models.referential_integrity import ReferentialIntegrity
from dagster_project.indicators.models.row_volume import RowVolume
from dagster_project.indicators.models.schema import SchemaMatch
from dagster_project.indicators.models.uniqueness import Uniqueness
from dagster_project.indicators.models.valid_format import ValidFormat
from dagster_project.indicators.registry import REGISTRY, UNITS
from dagster_project.spec.server import Server
from dagster_project.spec.terms import DEFAULT_QUERY_TIMEOUT, AlertLevel

Cron = Annotated[
    str,
    StringConstraints(pattern=r"^\s*(\S+\s+){4}\S+\s*$"),
    Field(description="A five-field cron expression, e.g. '0 6 * * *'."),
]


def _no_template(text: str) -> str:
    if "{{" in text or "}}" in text:
        raise ValueError("Prometheus reads {{ and }} in alert labels as a template: leave them out")
    return text


# Labels the spec adds to its SLOs' alerts (and sloth_slo_info); which names the generated rules reserve is checked
# by the semantic pass (validate.py).
LabelName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$", max_length=128),
    Field(description="A Prometheus label name: letters, digits and _, not starting with a digit or __."),
]
LabelValue = Annotated[str, StringConstraints(min_length=1, max_length=256), AfterValidator(_no_template)]
Labels = Annotated[
    dict[LabelName, LabelValue],
    Field(description="Labels added to the generated alerts, e.g. {tier: '1', channel: '#data-oncall'}."),
]
RunbookUrl = Annotated[
    str,
    StringConstraints(pattern=r"^https?://[^\s{}]+$", max_length=2048),
    Field(description="An http(s) link to what on-call should do; default: the generated docs/runbook.md link."),
]

Dimension = Literal[
    "freshness", "completeness", "accuracy", "validity", "uniqueness", "schema", "performance", "governance"
]


def _exactly_one(a: object, b: object, names: str) -> None:
    if (a is None) == (b is None):
        raise ValueError(f"give exactly one of {names}")


class Target(Strict):
    """A measurable target on a semantic-model measure: exactly one of min or max."""

    measure: Identifier
    min: float | None = None
    max: float | None = None
    by: date | None = Field(default=None, description="When the target should be reached.")

    @model_validator(mode="after")
    def _one_bound(self) -> Target:
        _exactly_one(self.min, self.max, "min or max")
        return self


class Goal(Strict):
    id: Identifier
    description: str | None = None
    target: Target


class Initiative(Strict):
    id: Identifier
    description: str | None = None


class Hypothesis(Strict):
    """'We believe that <initiative> will help achieve <goal>.'"""

    id: Identifier
    initiative: Identifier
    goal: Identifier
    rationale: str | None = None


class UsagePattern(Strict):
    frequency: Literal["continuous", "hourly", "daily", "weekly", "monthly"] = Field(
        description="How often consumers use the data."
    )
    users: list[str] = Field(min_length=1, description="Who or what consumes it.")
    requirements: dict[Dimension, str] = Field(
        default_factory=dict, description="Expectations in the consumers' words, per dimension."
    )
    update_cadence: Cron = Field(
        description="When the data product is rebuilt for this use (drives the build schedule)."
    )
    check_cadence: Cron | None = Field(
        default=None,
        description="When its SLOs are checked between builds (drives a check schedule); default: by each build.",
    )


class UseCase(Strict):
    id: Identifier
    description: str | None = None
    consumers: list[str] = Field(min_length=1)
    goals: list[Identifier] = Field(
        default_factory=list, description="The goals it serves; none yet: it traces to the product only."
    )
    datasets: list[Dataset] = Field(min_length=1)
    usage: UsagePattern


class Alerting(Strict):
    """How the product's SLOs alert. Error SLOs page (and ticket on slow burns); warn SLOs never page."""

    warn: Literal["ticket", "none"] = Field(
        default="ticket", description="What a warn SLO's error-budget burn raises: a ticket, or no alert at all."
    )


class DataProductCard(Strict):
    """Only id and owner are required: a product starts with one SLO and grows its card right to left."""

    id: Identifier
    name: str = Field(
        default="",  # never used: filled from the id before validation (below); left out of the JSON Schema
        min_length=1,
        description="What people call it; default: its id.",
        json_schema_extra=lambda schema: schema.pop("default", None),  # type: ignore[arg-type]
    )
    owner: str = Field(description="The owning team: the `team` label of the product's alerts, to route on.")
    vision: str | None = None
    goals: list[Goal] = Field(default_factory=list)
    initiatives: list[Initiative] = Field(default_factory=list)
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    use_cases: list[UseCase] = Field(default_factory=list)
    alerting: Alerting = Alerting.model_construct()  # no validator built at import (deferred: fields.py Strict)
    labels: Labels = Field(default_factory=dict)
    runbook_url: RunbookUrl | None = None

    @model_validator(mode="before")
    @classmethod
    def _name_defaults_to_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("name") is None and isinstance(data.get("id"), str):
            return {**data, "name": data["id"]}
        return data


class Measure(Strict):
    """A named aggregate over one table, e.g. sum(value) FILTER (WHERE metric = 'total_revenue')."""

    name: Identifier
    table: Dataset
    expression: str = Field(min_length=1, description="An SQL aggregate expression; evaluated read-only.")
    description: str | None = None


class SemanticDimension(Strict):
    name: Identifier
    table: Dataset
    column: SqlName
    description: str | None = None


class SemanticModel(Strict):
    measures: list[Measure] = Field(min_length=1)
    dimensions: list[SemanticDimension] = Field(default_factory=list)


class NorthStar(Strict):
    name: str
    measure: Identifier
    time_dimension: Identifier = Field(description="The dimension (a date or timestamp column) the window applies to.")
    window: Duration
    target: float
    direction: Literal["increase", "decrease"] = "increase"


class ConsumerQuery(Strict):
    """A query a consumer runs, named so performance SLOs can time it."""

    id: Identifier
    use_case: Identifier
    sql: str = Field(min_length=1, description="A read-only SELECT.")


# Indicators: each computes one observed value with a unit that fixes how its threshold is read. Each type's model
# lives in its module under indicators/ (with its meaning and measurement); the union is assembled from the registry.
if TYPE_CHECKING:
    Indicator = IndicatorSpec
else:
    Indicator = Annotated[Union[tuple(d.model for d in REGISTRY.values())], Field(discriminator="type")]  # noqa: UP007

Unit = registry_unit
INDICATOR_UNITS: dict[str, Unit] = dict(UNITS)


class Threshold(Strict):
    """The bounds the observed value must respect: a min, a max, or both (between, inclusive). Durations are written
    as durations."""

    min: float | str | None = None
    max: float | str | None = None

    @model_validator(mode="after")
    def _a_bound(self) -> Threshold:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both (between)")
        return self

    @property
    def bounds(self) -> list[tuple[Literal["min", "max"], float | str]]:
        """The bounds given, min first."""
        out: list[tuple[Literal["min", "max"], float | str]] = []
        if self.min is not None:
            out.append(("min", self.min))
        if self.max is not None:
            out.append(("max", self.max))
        return out

    @property
    def bound(self) -> float | str:
        """The first bound given (min when there are both)."""
        return self.bounds[0][1]


class Protects(Strict):
    """What the SLO guards, so it traces right to left to the North Star: a goal or a use case. An SLO without
    `protects` guards the data product as a whole."""

    goal: Identifier | None = None
    use_case: Identifier | None = None

    @model_validator(mode="after")
    def _one(self) -> Protects:
        _exactly_one(self.goal, self.use_case, "goal or use_case")
        return self


class Partition(Strict):
    """Check only the table's newest slice: rows whose `column` (a date or timestamp, UTC) is from `last` before the
    evaluation time up to it (excluded)."""

    column: SqlName
    # How far back the slice reaches, e.g. 1d. A bare Duration, no Field(...): pydantic 2.10 (the oldest we admit)
    # merges an assigned Field with the alias's shared FieldInfo and a default of another field (row_volume's "1d")
    # leaks in, making `last` optional there.
    last: Duration


# Failed-row samples: a small default, a bound that keeps one result's record small.
DEFAULT_SAMPLE_LIMIT = 5
MAX_SAMPLE_LIMIT = 100


class Samples(Strict):
    """Keep the keys of a few failing rows with each result (row-level indicators only): one bounded query after an
    evaluation that says rows fail. Only the key columns are read back; a key column listed in the spec's
    `pii_columns` shows as ***, its values never selected."""

    keys: list[SqlName] = Field(
        min_length=1, max_length=8, description="The columns that identify a row, e.g. [order_id]."
    )
    limit: int = Field(
        default=DEFAULT_SAMPLE_LIMIT,
        ge=1,
        le=MAX_SAMPLE_LIMIT,
        description=f"How many failing rows to keep (first by key), 1..{MAX_SAMPLE_LIMIT}; default "
        f"{DEFAULT_SAMPLE_LIMIT}.",
    )


# The budget period when an SLO names none: Sloth's standard 28-day window set (slo/burn_rates.yaml), four whole
# weeks, so every period holds the same weekdays.
DEFAULT_WINDOWS = ("28d",)


class Slo(Strict):
    id: Identifier
    description: str | None = None
    dimension: Dimension
    dataset: Dataset
    indicator: Indicator
    threshold: Threshold
    severity: Literal["warn", "error"] = Field(description="error blocks downstream assets when it fails.")
    where: str | None = Field(
        default=None,
        min_length=1,
        description="Only rows matching this SQL boolean expression (in the dialect of the product's server) are "
        "judged, e.g. \"channel = 'web'\". One expression over the dataset's columns; it only reads.",
    )
    partition: Partition | None = Field(
        default=None,
        description="Judge only the newest slice: {column: order_ts, last: 1d}. The slice's bounds are kept with "
        "each result.",
    )
    group_by: list[SqlName] | None = Field(
        default=None,
        min_length=1,
        max_length=4,
        description="Judge each group of rows on its own, e.g. [channel]: the worst group decides the verdict and each "
        "group's value is kept and exported (label `group`). Needs max_groups.",
    )
    max_groups: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="The most groups group_by may find; more is an error result (no unbounded series).",
    )
    samples: Samples | None = Field(
        default=None,
        description="Keep the keys of up to `limit` failing rows with each result (row-level indicators): "
        "{keys: [order_id], limit: 5}. Without it no rows are sampled.",
    )
    warn: Threshold | None = Field(
        default=None,
        description="A warn level inside the threshold (error SLOs only): a value that meets the threshold but not "
        "this shows as a warning (results, Dagster WARN, /metrics, report) without spending error budget. "
        "Budgets and alerts follow the threshold.",
    )
    objective: float = Field(
        gt=0,
        lt=1,
        description="Share of time (or of evaluations) that must be good, e.g. 0.99; below 1, which would leave no "
        "error budget to burn.",
    )
    windows: list[Duration] = Field(
        default_factory=lambda: list(DEFAULT_WINDOWS),
        min_length=1,
        description="Rolling windows, e.g. [7d, 28d]; the longest is the budget period. Default: [28d].",
    )
    protects: Protects | None = Field(
        default=None, description="The goal or use case it protects; default: the data product as a whole."
    )
    alert: AlertLevel | None = Field(
        default=None,
        description="The most its error-budget burn raises: page (and ticket), ticket or none. Default: page for "
        "error SLOs, the product's alerting.warn for warn SLOs, which never page.",
    )
    labels: Labels = Field(default_factory=dict)
    runbook_url: RunbookUrl | None = None
    timeout: Duration = Field(
        default=DEFAULT_QUERY_TIMEOUT,
        description="How long each query evaluating this SLO may run (each run of a consumer query too); past it "
        "the query is interrupted and the SLO recorded as an error ('timed out after 30s').",
    )


class SpecFile(Strict):
    """One file in slo_definitions/: a data product and its SLOs."""

    schema_ref: str | None = Field(default=None, alias="$schema", description="Path of the JSON Schema, for editors.")
    version: Literal[1]
    data_product: DataProductCard
    build: Annotated[str, StringConstraints(pattern=r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")] | None = Field(
        default=None,
        description="The product's build, as package.module:ATTRIBUTE naming a dagster_project.build_api.Build. "
        "Without one the product is check-only: it is checked, never built or written to.",
    )
    server: Server | None = Field(
        default=None,
        description="Where the product's data lives and its checks run: duckdb (a file), postgres or spark. "
        "Credentials only through environment variables. Default: the deployment's DuckDB database (--db).",
    )
    pii_columns: dict[Dataset, list[SqlName]] = Field(
        default_factory=dict,
        description="Columns holding personal data, per dataset: {raw.customers: [email, phone]}. Their values are "
        "never stored: a failed-row sample key among them shows as ***.",
    )
    semantic_model: SemanticModel | None = None
    north_star: NorthStar | None = None
    consumer_queries: list[ConsumerQuery] = Field(default_factory=list)
    slos: list[Slo] = Field(min_length=1)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def model_parts(spec: SpecFile) -> tuple[list[Measure], list[SemanticDimension]]:
    """The semantic model's measures and dimensions; none when the spec has no semantic model (yet)."""
    model = spec.semantic_model
    return (list(model.measures), list(model.dimensions)) if model is not None else ([], [])


def json_schema() -> dict[str, Any]:
    # A default that is a model instance is written into the schema by its own serializer, which pydantic 2.10
    # does not build for a deferred model (indicators/fields.py Strict): built here, before the schema needs it.
    Alerting.model_rebuild()
    schema = SpecFile.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "slo-monitor data product spec"
    return schema


__all__ = [
    "BuildDuration",
    "CustomSql",
    "Dataset",
    "Duration",
    "Identifier",
    "InRange",
    "InSet",
    "Indicator",
    "MatchesPattern",
    "MaxAge",
    "Metric",
    "NoPii",
    "NonNullRatio",
    "NotInFuture",
    "Nulls",
    "QueryAvailability",
    "QueryLatency",
    "Reconciliation",
    "ReferentialIntegrity",
    "RowVolume",
    "SchemaMatch",
    "SqlName",
    "SqlType",
    "Strict",
    "Uniqueness",
    "ValidFormat",
]
