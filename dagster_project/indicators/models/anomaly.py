"""anomaly: what a spec may write (pydantic); its meaning, its measurement: indicators/anomaly.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Literal, Union

from pydantic import BaseModel, Field

from dagster_project.indicators.fields import Duration, IndicatorSpec

if TYPE_CHECKING:
    AnomalyMetric = IndicatorSpec
# else: left undefined here - the scan indicators' union, set by `watching` (below, once this module is loaded: the
# registry knows them all) and resolved when the model is first built (its fields' names are looked up here then)


def watching(models: Sequence[type[BaseModel]]) -> None:
    """What `metric` may be: one of `models` (the indicators measured in their dataset's scan), by its type."""
    globals()["AnomalyMetric"] = Annotated[Union[tuple(models)], Field(discriminator="type")]  # noqa: UP007


class Anomaly(IndicatorSpec):
    """A metric judged against its own history: the observed value is its anomaly score, the threshold
    (`max:`) the sensitivity."""

    type: Literal["anomaly"]
    metric: AnomalyMetric = Field(
        description="What is watched: an indicator measured in its dataset's scan, e.g. {type: row_count}."
    )
    training: Duration = Field(default="84d", description="How far back the history is read (the training window).")
    min_history: int = Field(
        default=14, ge=3, le=100_000, description="Earlier values needed before it judges; until then: learning."
    )
    seasonality: Literal["weekly", "daily", "none"] = Field(
        default="weekly", description="weekly: weekday (and hour-of-day) offsets; daily: hour of day; none."
    )
    direction: Literal["both", "up", "down"] = Field(
        default="both", description="Which side of the band is an anomaly: up (a lag, a null share), down, both."
    )
    transform: Literal["auto", "none"] = Field(
        default="auto",
        description="auto: the log or the plain scale, whichever spreads the residuals more evenly; none: plain.",
    )


MODEL = Anomaly

# Before the model first validates or builds a schema, whatever imported it (spec/models.py's union, a test, a
# remembered spec's unpickling): the registry lists the watchable types, whose models are imported here.
from dagster_project.indicators.registry import WATCHABLE  # noqa: E402 - the registry's own modules never import this

watching([d.model for d in WATCHABLE])
