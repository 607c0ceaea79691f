"""A month of the shipped schedule replayed through the real engine, results store, exporter and the committed
Prometheus rules (evaluated by `promtool test rules`), as on-call would live it:

- healthy data, built daily at 05:00 and checked hourly for 28 days: no budget burns and nothing pages or tickets;
- a restore from a three-day-old backup: orders_fresh pages within 15 minutes of the first check that sees it;
- a warn-severity SLO failing for a day: a ticket, never a page.

The evaluations are the native engine's on a product built by Dagster (the session's `built_product`): a check at
time t, `o` hours after the last build, is the engine's evaluation of that product `o` hours after its data ends,
which is what a daily rebuild from fresh sources would show. The exporter's series (what Prometheus would scrape
from `slo serve`) are computed at every step from the store and fed to promtool with the rules.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from dagster_project.checking import check_database
from dagster_project.exporter import names as n
from dagster_project.exporter.history import History
from dagster_project.exporter.snapshot import Families, slo_families
from dagster_project.results.store import ResultsStore
from dagster_project.settings import Settings
from dagster_project.slo.decide import passes
from dagster_project.slo.domain import Slo
from dagster_project.slo.from_spec import slos_from_spec
from dagster_project.spec.validate import validate
from tests.conftest import AS_OF, REPO
from tests.prometheus_support import binary

pytestmark = pytest.mark.slow

RULES = REPO / "dashboards" / "prometheus" / "slo_rules.yml"
START = datetime(2026, 10, 1, 5, 0, tzinfo=UTC)  # the first build; the schedule builds daily at 05:00
DAYS = 28
MINUTE = 60.0
ROLLBACK_OFFSET_H = 72  # the restored backup is three days older


@dataclass(frozen=True)
class Run:
    at: datetime
    offset_h: float  # hours between the data's end (as of its build) and the evaluation
    kind: str  # build | check


def schedule(days: int) -> list[Run]:
    """The shipped spec's cadences: a build at 05:00 (the hourly check at 05:00 still sees the day-old product),
    a check every hour."""
    runs = []
    for hour in range(days * 24):
        at = START + timedelta(hours=hour)
        if hour % 24 == 0:
            if hour:
                runs.append(Run(at, 24, "check"))
            runs.append(Run(at, 0, "build"))
        else:
            runs.append(Run(at, hour % 24, "check"))
    return runs


@pytest.fixture(scope="module")
def slos() -> list[Slo]:
    (loaded,), issues = validate([REPO / "slo_definitions"])
    assert issues == []
    return slos_from_spec(loaded.spec)


@pytest.fixture(scope="module")
def evaluate(built_product: Settings, slos: list[Slo]) -> Callable[[float], list[dict[str, Any]]]:
    """The engine's result records for the product `offset` hours after its data ends (cached per offset)."""
    cache: dict[float, list[dict[str, Any]]] = {}

    def at_offset(offset_h: float) -> list[dict[str, Any]]:
        if offset_h not in cache:
            run = check_database(built_product.database, slos, AS_OF + timedelta(hours=offset_h))
            cache[offset_h] = run.results
        return cache[offset_h]

    return at_offset


def write_store(
    path: Path, runs: list[Run], evaluate: Callable[[float], list[dict[str, Any]]],
    change: Callable[[Run, dict[str, Any]], dict[str, Any]] = lambda _run, r: r,
) -> None:  # fmt: skip
    with ResultsStore(path) as store:
        for i, run in enumerate(runs):
            store.append(f"{run.kind}-{i}", run.at, [change(run, r) for r in evaluate(run.offset_h)])


@dataclass
class Series:
    """The exporter's series that the rules read, sampled every `step` seconds from `start`."""

    start: float
    step: float
    values: dict[str, list[float | None]]

    def max_error(self) -> tuple[str, float]:
        worst = max(((k, v) for k, vs in self.values.items() if n.SLI_ERROR.name in k for v in vs if v is not None),
                    key=lambda kv: kv[1])  # fmt: skip
        return worst


def _labels(names: tuple[str, ...], values: list[str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in zip(names, values, strict=True)) + "}"


def exported(store: Path, slos: list[Slo], start: datetime, end: datetime, step: float) -> Series:
    """Run the exporter's snapshot (`slo_families`, what `slo serve` renders) at every step; keep the families the
    rules read. Timestamps are shifted so that `start` is promtool's time 0."""
    history = History(store, {s.id: s.kind for s in slos})
    history.refresh()
    t0, t_end = start.timestamp(), end.timestamp()
    steps = int((t_end - t0) // step) + 1
    values: dict[str, list[float | None]] = {}
    wanted = {n.SLI_ERROR.name: n.SLI_ERROR, n.LAST_EVALUATION.name: n.LAST_EVALUATION}
    for i in range(steps):
        now = t0 + i * step
        families = Families()
        slo_families(families, slos, history, now)
        refresh = n.EXPORTER_REFRESH.name + "{}"
        values.setdefault(refresh, []).append(now - t0)
        seen = {refresh}
        for name, metric in wanted.items():
            for sample in families.by_name[name].samples:
                key = name + _labels(metric.labels, [sample.labels[k] for k in metric.labels])
                value = sample.value - t0 if metric is n.LAST_EVALUATION else sample.value
                if key not in values:
                    values[key] = [None] * i
                values[key].append(value)
                seen.add(key)
        for key, vs in values.items():
            if key not in seen:
                vs.append(None)
    return Series(t0, step, values)


def _notation(values: list[float | None]) -> str:
    """promtool's expanding notation: runs of equal steps as 'a+bxN', gaps as '_'."""
    out: list[str] = []
    i = 0
    while i < len(values):
        v = values[i]
        if v is None:
            out.append("_")
            i += 1
            continue
        j = i + 1
        step = None
        while j < len(values) and values[j] is not None:
            d = values[j] - values[j - 1]  # type: ignore[operator]
            if step is None:
                step = d
            elif abs(d - step) > 1e-9 * max(1.0, abs(step)):
                break
            j += 1
        if step is None:
            out.append(repr(v))
        else:
            count = j - i - 1
            out.append(f"{v!r}{'+' if step >= 0 else '-'}{abs(step)!r}x{count}")
        i = j
    return " ".join(out)


def promtool(tmp: Path, series: Series, interval: float) -> list[tuple[float, dict[str, str]]]:
    """Replay the series through the committed rules, evaluated every `interval` seconds; every alert that fired,
    as (when it first fired, in seconds from the series' start; its labels). The rule evaluations record ALERTS
    series, and one query over the whole replay reads them back: promtool reports them as the failure of expecting
    none."""
    span = int(series.step * (max(len(v) for v in series.values.values()) - 1))
    first_firing = (
        'min by (alertname, severity, slo) (min_over_time(timestamp(ALERTS{alertstate="firing"})'
        f"[{span}s:{int(interval)}s]))"
    )
    test = {
        "rule_files": [str(RULES)],
        "evaluation_interval": f"{int(interval)}s",
        "tests": [
            {
                "interval": f"{int(series.step)}s",
                "input_series": [{"series": k, "values": _notation(v)} for k, v in sorted(series.values.items())],
                "promql_expr_test": [{"expr": first_firing, "eval_time": f"{span}s", "exp_samples": []}],
            }
        ],
    }
    path = tmp / "replay_test.yml"
    path.write_text(yaml.safe_dump(test, width=10_000))
    done = subprocess.run([binary("promtool"), "test", "rules", str(path)], capture_output=True, text=True, timeout=900)
    output = done.stdout + done.stderr
    if done.returncode == 0:
        return []
    got = re.search(r"got: (.*)", output)
    assert got is not None, f"promtool failed without reporting alerts:\n{output[-3000:]}"
    fired = [
        (float(value), dict(re.findall(r'(\w+)="([^"]*)"', labels)))
        for labels, value in re.findall(r"\{([^}]*)\} ([-+.0-9eE]+)", got.group(1))
    ]
    assert fired, output[-3000:]
    return sorted(fired, key=lambda f: f[0])


def test_a_healthy_month_burns_no_budget_and_nothing_pages_or_tickets(
    tmp_path: Path, slos: list[Slo], evaluate: Callable[[float], list[dict[str, Any]]]
) -> None:
    store = tmp_path / "results.sqlite"
    runs = schedule(DAYS)
    write_store(store, runs, evaluate)
    for offset in sorted({r.offset_h for r in runs}):
        failing = [r["slo"] for r in evaluate(offset) if r["passed"] is not True]
        assert failing == [], f"{offset} h after a build: {failing}"
    end = START + timedelta(days=DAYS)
    series = exported(store, slos, START + timedelta(minutes=5), end, 5 * MINUTE)
    worst, ratio = series.max_error()
    assert ratio == 0.0, f"a healthy pipeline burned budget: {worst} reached {ratio}"
    # Rules evaluated every 15 minutes over the month (the 5-minute series hold between evaluations): with every
    # ratio at zero only the pipeline alerts (exporter down, run missing) could fire, and none may.
    assert promtool(tmp_path, series, 15 * MINUTE) == []


def test_a_rollback_pages_within_15_minutes_of_the_first_check_that_sees_it(
    tmp_path: Path, slos: list[Slo], evaluate: Callable[[float], list[dict[str, Any]]]
) -> None:
    # On the 27th day at 10:30 the product is restored from a backup three days older; the 11:00 check sees it.
    rollback = START + timedelta(days=DAYS - 2, hours=5, minutes=30)
    runs = [
        Run(r.at, r.offset_h + ROLLBACK_OFFSET_H if r.at >= rollback else r.offset_h, r.kind)
        for r in schedule(DAYS - 1)
    ]
    write_store(tmp_path / "results.sqlite", runs, evaluate)
    first_failing = min(r.at for r in runs if r.at >= rollback)
    start, end = first_failing - timedelta(hours=2), first_failing + timedelta(hours=1)
    series = exported(tmp_path / "results.sqlite", slos, start, end, MINUTE)
    check_s = (first_failing - start).total_seconds()
    fired = promtool(tmp_path, series, MINUTE)
    assert all(t >= check_s for t, _labels in fired), "an alert fired before the rollback was seen"
    pages = [t for t, labels in fired if labels.get("severity") == "page" and labels.get("slo") == "orders_fresh"]
    assert pages, f"no page for orders_fresh: {fired}"
    time_to_page_min = (min(pages) - check_s) / MINUTE
    print(f"time to page after the first failing check: {time_to_page_min:.0f} min")
    assert time_to_page_min <= 15


def test_a_warn_slo_failing_for_a_day_tickets_and_never_pages(
    tmp_path: Path, slos: list[Slo], evaluate: Callable[[float], list[dict[str, Any]]]
) -> None:
    warn = next(s for s in slos if s.id == "orders_daily_volume")  # a warn SLO that tickets
    fault_from, fault_to = START + timedelta(days=DAYS - 3, hours=8), START + timedelta(days=DAYS - 2, hours=8)

    assert warn.severity == "warn" and warn.alert == "ticket"

    def volume_drop(run: Run, record: dict[str, Any]) -> dict[str, Any]:
        if record["slo"] != warn.id or not fault_from <= run.at < fault_to:
            return record
        observed = 0.1  # a day with a tenth of the usual orders
        return {**record, "observed": observed, "passed": passes(observed, warn.threshold), "status": "warn"}

    write_store(tmp_path / "results.sqlite", schedule(DAYS - 1), evaluate, volume_drop)
    start, end = fault_from - timedelta(hours=1), fault_to + timedelta(hours=2)
    series = exported(tmp_path / "results.sqlite", slos, start, end, 5 * MINUTE)
    fired = promtool(tmp_path, series, 5 * MINUTE)
    assert [labels for _t, labels in fired if labels.get("severity") == "page"] == []
    tickets = [t for t, labels in fired if labels.get("severity") == "ticket" and labels.get("slo") == warn.id]
    assert tickets, f"no ticket for {warn.id}: {fired}"
    assert {labels.get("slo") for _t, labels in fired} == {warn.id}
