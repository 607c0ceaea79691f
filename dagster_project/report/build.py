"""The numbers of the attainment report, per data product: gathered from the spec, the results store (the figures of
slo/attainment.py, the same objects /metrics renders, so the two agree) and where the product's data lives (its North
Star and goals)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from dagster_project.engines.measures import Measured, MeasureValue, measure_products
from dagster_project.exporter import names as n
from dagster_project.exporter.history import History
from dagster_project.results.address import StoreAddress
from dagster_project.slo.attainment import SloHistory, WindowFigures, group_figures, product_figures, window_figures
from dagster_project.slo.card_gaps import missing_from_card
from dagster_project.slo.domain import Slo, format_value
from dagster_project.slo.from_spec import slos_from_spec
from dagster_project.slo.report import status
from dagster_project.spec.models import SpecFile

BURN_DOWN_POINTS = 60


@dataclass(frozen=True)
class SloRow:
    slo: Slo
    status: str  # ok | FAIL | warn | ERROR | - (never evaluated)
    observed_text: str
    evaluated_at: datetime | None
    windows: dict[str, WindowFigures]  # by window label
    samples: Mapping[str, Any] | None = None  # the latest result's failed-row samples (store: extra.samples)

    @property
    def failing(self) -> bool:
        """The latest evaluation failed (whatever the severity) or could not run."""
        return self.status in ("FAIL", "warn", "ERROR")


@dataclass
class ProductReport:
    spec: SpecFile
    as_of: datetime
    windows: tuple[str, ...]
    rows: list[SloRow]
    north_star: MeasureValue | None
    measures: dict[str, MeasureValue]
    star_trend: list[tuple[float, float | None]]
    dimensions: dict[str, dict[str, tuple[float | None, float | None]]]  # dim -> window -> (share met, adherence)
    burn_down: list[tuple[str, list[tuple[float, float | None]]]]  # SLOs that spent budget: (id, points)
    breaches: list[SloRow] = field(default_factory=list)
    data_docs: Path | None = None
    unmeasured: list[str] = field(default_factory=list)  # SLOs with no budget yet over their longest window
    missing: list[str] = field(default_factory=list)  # what the design card does not say yet (slo/card_gaps.py)


def product_report(
    spec: SpecFile,
    history: History,
    as_of: datetime,
    database: Path | None,
    data_docs: Path | None,
    measured: Measured | None = None,
    samples: Mapping[str, Mapping[str, Any]] | None = None,
) -> ProductReport:
    """One product's report; its measures from `measured` when given (the exporter's), else read where its data
    lives (its spec's server, else `database`); `samples`: each SLO's latest failed-row samples (SLO id -> the store's
    record of them)."""
    now = as_of.timestamp()
    slos = slos_from_spec(spec)
    windows_s = sorted({w for s in slos for w in s.windows_s})
    labels = tuple(n.window_label(w) for w in windows_s)
    figures = product_figures(slos, history.slos, now)
    rows = []
    for f in figures:
        slo, latest = f.slo, f.latest
        rows.append(
            SloRow(
                slo,
                "-" if latest is None else status(latest.passed, slo.severity, latest.warned),
                "-" if latest is None else format_value(latest.observed, slo.unit),
                None if latest is None else datetime.fromtimestamp(latest.at, as_of.tzinfo),
                {n.window_label(w.window_s): w for w in f.windows},
                None if samples is None else samples.get(slo.id),
            )
        )
    groups = group_figures(figures)
    dimensions: dict[str, dict[str, tuple[float | None, float | None]]] = {}
    for dimension in sorted({s.dimension for s in slos}):
        for window_s, label in zip(windows_s, labels, strict=True):
            g = groups.get((spec.data_product.id, dimension, window_s))
            if g is not None:
                dimensions.setdefault(dimension, {})[label] = (g.meeting.ratio, g.adherence.ratio)

    longest = windows_s[-1]
    first = min((h.at[0] for h in history.slos.values() if h.at), default=now)
    start = max(now - longest, first)  # from the first evaluation, when the history is younger than the window
    burn_down = []
    for slo in slos:
        h = history.slos.get(slo.id, SloHistory())
        points: list[tuple[float, float | None]] = []
        for k in range(BURN_DOWN_POINTS + 1):
            at = start + (now - start) * k / BURN_DOWN_POINTS
            b = window_figures(slo, h, max(slo.windows_s), at).budget
            points.append((at, None if b is None else b.remaining))
        if any(v is not None and v < 1.0 for _t, v in points):
            burn_down.append((slo.id, points))

    if measured is None:  # where the product's data lives: its server, else the deployment's `database`
        measured = measure_products([spec], database, as_of).get(spec.data_product.id, Measured())
    measures, trend = measured.measures, measured.star_trend
    breaches = [r for r in rows if r.failing or any(w.budget and not w.budget.met for w in r.windows.values())]
    return ProductReport(
        spec=spec,
        as_of=as_of,
        windows=labels,
        rows=rows,
        north_star=measures.get(spec.north_star.measure) if spec.north_star is not None else None,
        measures=measures,
        star_trend=trend,
        dimensions=dimensions,
        burn_down=burn_down,
        breaches=breaches,
        data_docs=data_docs if data_docs is not None and data_docs.is_file() else None,
        unmeasured=[f.slo.id for f in figures if f.windows[-1].budget is None],
        missing=missing_from_card(spec),
    )


def reports(
    specs: Sequence[SpecFile], store: StoreAddress, as_of: datetime, database: Path | None, data_docs: Path | None
) -> list[ProductReport]:
    history = History(store, {slo.id: slo.kind for spec in specs for slo in slos_from_spec(spec)})
    history.refresh()
    samples = latest_samples(store)
    return [product_report(spec, history, as_of, database, data_docs, samples=samples) for spec in specs]


def latest_samples(store: StoreAddress) -> dict[str, Mapping[str, Any]]:
    """Each SLO's latest failed-row samples, when its latest result kept some."""
    from dagster_project.results.address import store_exists
    from dagster_project.results.store import ResultsStore

    if not store_exists(store):
        return {}
    with ResultsStore(store) as opened:
        latest = opened.latest()
    return {slo: e.extra["samples"] for slo, e in latest.items() if e.extra.get("samples")}
