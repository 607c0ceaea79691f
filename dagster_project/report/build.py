"""The numbers of the attainment report, per data product: gathered from the spec, the results store (through the
exporter's indexed history, so the report and /metrics agree) and the published database (North Star)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from dagster_project.engines.measures import MeasureValue, daily_values, measure_values
from dagster_project.engines.native import open_for_checks
from dagster_project.exporter import names as n
from dagster_project.exporter.history import History, SloHistory
from dagster_project.exporter.snapshot import window_sli
from dagster_project.slo.budget import Share, budget
from dagster_project.slo.domain import Slo, format_value, slos_from_spec
from dagster_project.slo.report import status
from dagster_project.spec.models import SpecFile

BURN_DOWN_POINTS = 60


@dataclass(frozen=True)
class WindowFigures:
    time_sli: float | None
    occurrence_sli: float | None
    remaining: float | None  # error budget remaining (time SLI)
    met: bool | None


@dataclass(frozen=True)
class SloRow:
    slo: Slo
    status: str  # ok | FAIL | warn | ERROR | - (never evaluated)
    observed_text: str
    evaluated_at: datetime | None
    windows: dict[str, WindowFigures]


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


def _figures(slo: Slo, history: SloHistory, window_s: float, now: float) -> WindowFigures:
    sli = window_sli(slo, history, window_s, now)
    if sli.time is None:
        return WindowFigures(None, sli.occurrences, None, None)
    b = budget(sli.time, slo.objective)
    return WindowFigures(sli.time, sli.occurrences, b.remaining, b.met)


def product_report(
    spec: SpecFile, history: History, as_of: datetime, database: Path | None, data_docs: Path | None
) -> ProductReport:
    now = as_of.timestamp()
    slos = slos_from_spec(spec)
    windows_s = sorted({w for s in slos for w in s.windows_s})
    labels = tuple(n.window_label(w) for w in windows_s)
    rows = []
    for slo in slos:
        h = history.slos.get(slo.id, SloHistory())
        k = h.latest(now)
        latest = "-" if k is None else status(h.passed[k], slo.severity)
        observed = "-" if k is None else format_value(h.observed[k], slo.unit)
        when = None if k is None else datetime.fromtimestamp(h.at[k], as_of.tzinfo)
        figures = {n.window_label(w): _figures(slo, h, w, now) for w in slo.windows_s}
        rows.append(SloRow(slo, latest, observed, when, figures))

    dimensions: dict[str, dict[str, tuple[float | None, float | None]]] = {}
    for dimension in sorted({s.dimension for s in slos}):
        for window_s, label in zip(windows_s, labels, strict=True):
            mine = [r for r in rows if r.slo.dimension == dimension and label in r.windows]
            known = [r.windows[label].met for r in mine if r.windows[label].met is not None]
            met = Share(sum(1 for m in known if m), len(known))
            good, total = 0, 0
            for r in mine:
                g, t = history.slos.get(r.slo.id, SloHistory()).occurrence(now - window_s, now)
                good, total = good + g, total + t
            dimensions.setdefault(dimension, {})[label] = (met.ratio, Share(good, total).ratio)

    longest = windows_s[-1]
    first = min((h.at[0] for h in history.slos.values() if h.at), default=now)
    start = max(now - longest, first)  # from the first evaluation, when the history is younger than the window
    burn_down = []
    for slo in slos:
        h = history.slos.get(slo.id, SloHistory())
        points: list[tuple[float, float | None]] = []
        for k in range(BURN_DOWN_POINTS + 1):
            at = start + (now - start) * k / BURN_DOWN_POINTS
            sli = window_sli(slo, h, max(slo.windows_s), at).time
            points.append((at, None if sli is None else budget(sli, slo.objective).remaining))
        if any(v is not None and v < 1.0 for _t, v in points):
            burn_down.append((slo.id, points))

    measures: dict[str, MeasureValue] = {}
    trend: list[tuple[float, float | None]] = []
    if database is not None and database.is_file():
        naive = as_of.replace(tzinfo=None)
        with open_for_checks(database) as con:
            measures = measure_values(con, spec, naive)
            since = naive - timedelta(days=90)
            for day, value in daily_values(con, spec, spec.north_star.measure, since, naive):
                trend.append((datetime.fromisoformat(day).timestamp(), value))
    breaches = [r for r in rows if r.status in ("FAIL", "ERROR") or any(f.met is False for f in r.windows.values())]
    return ProductReport(
        spec=spec,
        as_of=as_of,
        windows=labels,
        rows=rows,
        north_star=measures.get(spec.north_star.measure),
        measures=measures,
        star_trend=trend,
        dimensions=dimensions,
        burn_down=burn_down,
        breaches=breaches,
        data_docs=data_docs if data_docs is not None and data_docs.is_file() else None,
    )


def reports(
    specs: Sequence[SpecFile], store: Path, as_of: datetime, database: Path | None, data_docs: Path | None
) -> list[ProductReport]:
    history = History(store)
    history.refresh()
    return [product_report(spec, history, as_of, database, data_docs) for spec in specs]
