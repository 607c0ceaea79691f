"""Anomaly detection benchmark: our detector (indicators/detector.py) against a plain z-score, replayed over
generated metric histories with planted anomalies.

Histories (one per metric kind and seed, `--days` long, default 180; `--per-day` points a day, default 1; 4 adds an
hour-of-day pattern): weekly seasonality, a trend and noise, drawn per seed:

- row_count: rows loaded per day (5k-50k), weekend at ~50-55% of a weekday, growth -0.1..+0.3% a day, log-normal
  noise of 3-8%. Several points a day: the day's rows split over the four 6-hour periods (12%/30%/35%/23%).
- freshness_lag: seconds since the last load at the check: 3 h plus a gamma-distributed delay (mean 1 h, a long
  right tail), 24 h more on Sundays (no load), pipeline slowing by 0-1 minute a day. Several a day: the lag grows
  through the day (+0/6/12/18 h at the checks), every check of a day seeing that day's one load delay.
- null_share: 0.5-5% nulls, 30% more at weekends, drifting by up to 0.5% relative a day, binomial noise for 5,000
  rows plus 10% relative day-to-day noise.

Planted anomalies (each series gets every anomaly of its kind once, in random order, after a 60-day warm-up, at
least 10 days apart; on the anomaly's day(s) every point of the day is changed):

- row_count: `drop` to 30% for a day, `spike` to 3x for a day, `stale` 0 rows for a day, `drift` a decline to 50%
  over 14 days (linear, then back to normal).
- freshness_lag: `stale` a missed load, +24 h for a day; `spike` a late load, +8 h for a day; `drift` the lag
  creeping up to +8 h over 14 days.
- null_share: `jump` to 3x the share for a day; `drift` rising to 3x over 14 days.

Replay: each point is judged against the points before it (as the service judges a new evaluation against the
results store), by both detectors with the same window, minimum history and direction (row_count: both; freshness
lag and null share: up, as one would configure them; the z-score gets the same direction).

Scoring, per day (a day is flagged when any of its points is flagged):

- recall: share of planted anomalies detected; a one-day anomaly is detected when its day is flagged, a drift when
  any day of its 14-day span is flagged (and the `drift_delay` column says after how many days, median).
- precision: flagged days inside an anomaly's span over all flagged days, on the series with anomalies.
- false alarms per 90 days: flagged days per judged day times 90, on clean series (the same seeds' histories without
  anomalies) - the target is <= 1.

Tuning is separate from reporting: `--tune` grid-searches sensitivity and window on seeds 1000.. (`--tune-seeds`,
`--tune-first-seed`); the reported run uses seeds 0.. (`--seeds`; `--first-seed 2000` for held-out seeds) and the
detector's defaults unless `--sensitivity`/`--window-days` say.
The z-score is the textbook one: mean and standard deviation of the same window, |z| > 3.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import time
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dagster_project.indicators.detector import DAY_S, AnomalySettings, Direction, judge

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
WARMUP_DAYS = 60
GAP_DAYS = 10
DRIFT_DAYS = 14
Z_THRESHOLD = 3.0
KINDS = ("row_count", "freshness_lag", "null_share")
ANOMALIES = {
    "row_count": ("drop", "spike", "stale", "drift"),
    "freshness_lag": ("stale", "spike", "drift"),
    "null_share": ("jump", "drift"),
}
DIRECTIONS: dict[str, Direction] = {"row_count": "both", "freshness_lag": "up", "null_share": "up"}
HOUR_S = 3600.0


@dataclass(frozen=True)
class Planted:
    name: str
    first_day: int
    last_day: int  # inclusive


@dataclass
class Series:
    kind: str
    seed: int
    points: list[tuple[datetime, float]]
    planted: list[Planted]


def generate(kind: str, seed: int, days: int, per_day: int, with_anomalies: bool) -> Series:
    """One history of `days` days with `per_day` points a day; the same seed gives the same clean values."""
    rng = random.Random(f"{kind}:{seed}")
    planted = _plant(ANOMALIES[kind], days, random.Random(f"{kind}:{seed}:plant")) if with_anomalies else []
    daily = _daily_model(kind, rng)
    points: list[tuple[datetime, float]] = []
    for day in range(days):
        for slot in range(per_day):
            at = START + timedelta(days=day, hours=24 * slot / per_day)
            value = daily(day, at.weekday(), slot if per_day > 1 else None)
            for p in planted:
                if p.first_day <= day <= p.last_day:
                    value = _apply(kind, p, day, value)
            points.append((at, value))
    return Series(kind, seed, points, planted)


def _daily_model(kind: str, rng: random.Random) -> Callable[[int, int, int | None], float]:
    if kind == "row_count":
        level, growth, noise = rng.uniform(5e3, 5e4), rng.uniform(-0.001, 0.003), rng.uniform(0.03, 0.08)
        week = [1.0, 1.05, 1.0, 1.02, 0.95, rng.uniform(0.5, 0.6), rng.uniform(0.45, 0.55)]
        split = [0.12, 0.30, 0.35, 0.23]

        def rows(day: int, weekday: int, slot: int | None) -> float:
            base = level * (1 + growth) ** day * week[weekday] * math.exp(rng.gauss(0, noise))
            return float(round(base if slot is None else base * split[slot]))

        return rows
    if kind == "freshness_lag":
        slowing = rng.uniform(0, 60)  # seconds a day

        delays: dict[int, float] = {}  # one load a day: every check of the day sees the same delay

        def lag(day: int, weekday: int, slot: int | None) -> float:
            if day not in delays:
                delays[day] = rng.gammavariate(2.0, 0.5 * HOUR_S)
            base = 3 * HOUR_S + delays[day] + slowing * day
            return base + (24 * HOUR_S if weekday == 6 else 0.0) + (0.0 if slot is None else 6 * HOUR_S * slot)

        return lag
    p0, drift = rng.uniform(0.005, 0.05), rng.uniform(-0.005, 0.005)

    def share(day: int, weekday: int, slot: int | None) -> float:
        p = p0 * (1 + drift) ** day * (1.3 if weekday >= 5 else 1.0) * (1 + rng.gauss(0, 0.1))
        p = min(max(p, 0.0), 1.0)
        return min(max(p + rng.gauss(0, math.sqrt(p * (1 - p) / 5000)), 0.0), 1.0)

    return share


def _plant(names: Sequence[str], days: int, rng: random.Random) -> list[Planted]:
    order = list(names)
    rng.shuffle(order)
    lengths = [DRIFT_DAYS if n == "drift" else 1 for n in order]
    slack = days - WARMUP_DAYS - sum(lengths) - GAP_DAYS * len(order)
    if slack < 0:
        raise SystemExit(f"--days {days} is too short for {len(order)} anomalies after a {WARMUP_DAYS}-day warm-up")
    extra = sorted(rng.randint(0, slack) for _ in order)
    planted, day, used = [], WARMUP_DAYS, 0
    for name, length, e in zip(order, lengths, extra, strict=True):
        day += e - used
        used = e
        planted.append(Planted(name, day, day + length - 1))
        day += length + GAP_DAYS
    return planted


def _apply(kind: str, p: Planted, day: int, value: float) -> float:
    progress = (day - p.first_day + 1) / (p.last_day - p.first_day + 1)  # 1/14 .. 1 through a drift
    if kind == "row_count":
        factor = {"drop": 0.3, "spike": 3.0, "stale": 0.0, "drift": 1 - 0.5 * progress}[p.name]
        return float(round(value * factor))
    if kind == "freshness_lag":
        return value + {"stale": 24.0, "spike": 8.0, "drift": 8.0 * progress}[p.name] * HOUR_S
    return min(1.0, value * (3.0 if p.name == "jump" else 1 + 2 * progress))


# -- detectors --------------------------------------------------------------------------------------------------------

Detector = Callable[[Sequence[tuple[datetime, float]], datetime, float], bool | None]  # None: still learning


def ours(settings: AnomalySettings) -> Detector:
    def detect(history: Sequence[tuple[datetime, float]], at: datetime, value: float) -> bool | None:
        verdict = judge(history, at, value, settings).verdict
        return None if verdict == "learning" else verdict == "anomalous"

    return detect


def zscore(settings: AnomalySettings, threshold: float = Z_THRESHOLD) -> Detector:
    """Mean and standard deviation over the same training window; |z| > threshold in the allowed direction."""

    def detect(history: Sequence[tuple[datetime, float]], at: datetime, value: float) -> bool | None:
        start = at.timestamp() - settings.training_window_s
        ys = [v for t, v in history if start <= t.timestamp() < at.timestamp()]
        if len(ys) < settings.min_history:
            return None
        mean, sd = statistics.fmean(ys), statistics.stdev(ys)
        z = (value - mean) / sd if sd > 0 else (0.0 if value == mean else math.copysign(math.inf, value - mean))
        return (z > threshold and settings.direction != "down") or (z < -threshold and settings.direction != "up")

    return detect


# -- replay and scoring -----------------------------------------------------------------------------------------------


@dataclass
class Tally:
    planted: int = 0
    detected: int = 0
    flagged_days: int = 0
    true_flagged_days: int = 0
    clean_days: int = 0
    clean_flagged_days: int = 0
    drift_delays: list[int] = field(default_factory=list)
    missed: dict[str, int] = field(default_factory=dict)
    by_anomaly: dict[str, list[int]] = field(default_factory=dict)  # name -> [planted, detected]

    def add(self, other: Tally) -> None:
        for name in ("planted", "detected", "flagged_days", "true_flagged_days", "clean_days", "clean_flagged_days"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.drift_delays += other.drift_delays
        for name, n in other.missed.items():
            self.missed[name] = self.missed.get(name, 0) + n
        for name, (p, d) in other.by_anomaly.items():
            mine = self.by_anomaly.setdefault(name, [0, 0])
            mine[0] += p
            mine[1] += d

    def summary(self) -> dict[str, float | int | dict[str, str] | None]:
        return {
            "recall": _ratio(self.detected, self.planted),
            "precision": _ratio(self.true_flagged_days, self.flagged_days),
            "false_alarms_per_90_days": _ratio(90 * self.clean_flagged_days, self.clean_days),
            "planted": self.planted,
            "flagged_days": self.flagged_days,
            "clean_days_judged": self.clean_days,
            "drift_delay_days_median": statistics.median(self.drift_delays) if self.drift_delays else None,
            "recall_by_anomaly": {name: f"{d}/{p}" for name, (p, d) in sorted(self.by_anomaly.items())},
        }


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def flagged_days(series: Series, detector: Detector, window_s: float) -> tuple[set[int], int]:
    """Replay: judge each point against the points before it. Returns the flagged days and how many days had at
    least one judged (not learning) point."""
    times = [t.timestamp() for t, _v in series.points]
    flagged: set[int] = set()
    judged: set[int] = set()
    for i, (at, value) in enumerate(series.points):
        lo = bisect_left(times, times[i] - window_s)
        verdict = detector(series.points[lo:i], at, value)
        if verdict is None:
            continue
        day = (at - START).days
        judged.add(day)
        if verdict:
            flagged.add(day)
    return flagged, len(judged)


def score(anomalous: Series, clean: Series, detector: Detector, window_s: float) -> Tally:
    tally = Tally()
    flagged, _judged = flagged_days(anomalous, detector, window_s)
    spans = {d for p in anomalous.planted for d in range(p.first_day, p.last_day + 1)}
    tally.flagged_days = len(flagged)
    tally.true_flagged_days = len(flagged & spans)
    for p in anomalous.planted:
        hits = sorted(d for d in flagged if p.first_day <= d <= p.last_day)
        tally.planted += 1
        counts = tally.by_anomaly.setdefault(p.name, [0, 0])
        counts[0] += 1
        if hits:
            tally.detected += 1
            counts[1] += 1
            if p.name == "drift":
                tally.drift_delays.append(hits[0] - p.first_day + 1)
        else:
            tally.missed[p.name] = tally.missed.get(p.name, 0) + 1
    clean_flagged, clean_judged = flagged_days(clean, detector, window_s)
    tally.clean_days, tally.clean_flagged_days = clean_judged, len(clean_flagged)
    return tally


@dataclass(frozen=True)
class Config:
    seeds: Sequence[int]
    days: int = 180
    per_day: int = 1
    kinds: Sequence[str] = KINDS
    sensitivity: float | None = None  # None: the detector's default
    window_days: float | None = None
    min_history: int | None = None


def settings_for(config: Config, kind: str) -> AnomalySettings:
    default = AnomalySettings()
    return AnomalySettings(
        training_window_s=config.window_days * DAY_S if config.window_days else default.training_window_s,
        min_history=config.min_history or default.min_history,
        sensitivity=config.sensitivity or default.sensitivity,
        direction=DIRECTIONS[kind],
    )


def run(config: Config) -> dict[str, dict[str, Tally]]:
    """Per detector ('ours', 'zscore') and kind (and 'all'), the tallies over the seeds."""
    out: dict[str, dict[str, Tally]] = {"ours": {"all": Tally()}, "zscore": {"all": Tally()}}
    for kind in config.kinds:
        settings = settings_for(config, kind)
        detectors = {"ours": ours(settings), "zscore": zscore(settings)}
        for name in detectors:
            out[name][kind] = Tally()
        for seed in config.seeds:
            anomalous = generate(kind, seed, config.days, config.per_day, with_anomalies=True)
            clean = generate(kind, seed, config.days, config.per_day, with_anomalies=False)
            for name, detector in detectors.items():
                tally = score(anomalous, clean, detector, settings.training_window_s)
                out[name][kind].add(tally)
                out[name]["all"].add(tally)
    return out


def tune(seeds: Sequence[int], days: int, per_day: int) -> list[dict[str, float | None]]:
    """Grid over sensitivity and window on the tuning seeds: our detector only."""
    rows = []
    for window in (28, 56, 84):  # days
        for sensitivity in (4.0, 4.5, 5.0, 5.5, 6.0):
            config = Config(seeds, days, per_day, sensitivity=sensitivity, window_days=window)
            s = run(config)["ours"]["all"].summary()
            row: dict[str, float | None] = {"window_days": float(window), "sensitivity": sensitivity}
            row |= {k: s[k] for k in ("recall", "precision", "false_alarms_per_90_days")}  # type: ignore[misc]
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def table(results: dict[str, dict[str, Tally]]) -> str:
    lines = [
        "| detector | kind | recall | precision | false alarms / 90 days (clean) | drift delay (days) "
        "| recall by anomaly |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for name, kinds in results.items():
        for kind, tally in kinds.items():
            s = tally.summary()
            by = ", ".join(f"{a} {r}" for a, r in s["recall_by_anomaly"].items())  # type: ignore[union-attr]
            lines.append(
                f"| {name} | {kind} | {_fmt(s['recall'])} | {_fmt(s['precision'])} | "
                f"{_fmt(s['false_alarms_per_90_days'])} | {_delay(s['drift_delay_days_median'])} | {by} |"
            )
    return "\n".join(lines)


def _delay(x: object) -> str:
    return f"{x:g}" if isinstance(x, int | float) else "-"


def _fmt(x: object) -> str:
    return f"{x:.3f}" if isinstance(x, float) else ("-" if x is None else str(x))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=40, help="reported seeds: how many, from --first-seed")
    parser.add_argument("--first-seed", type=int, default=0, help="the first reported seed (default 0)")
    parser.add_argument("--tune-seeds", type=int, default=15, help="tuning seeds: how many, from --tune-first-seed")
    parser.add_argument("--tune-first-seed", type=int, default=1000, help="the first tuning seed (default 1000)")
    parser.add_argument("--tune", action="store_true", help="grid-search sensitivity and window on the tuning seeds")
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--per-day", default="1,4", help="points a day, comma-separated: one run each")
    parser.add_argument("--sensitivity", type=float)
    parser.add_argument("--window-days", type=float)
    parser.add_argument("--root", type=Path, default=Path(".slo_state/bench/anomaly"))
    args = parser.parse_args()
    per_days = [int(x) for x in args.per_day.split(",")]
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    report: dict[str, object] = {"days": args.days, "seeds": [seeds.start, seeds.stop - 1]}
    if args.tune:
        tuning = range(args.tune_first_seed, args.tune_first_seed + args.tune_seeds)
        report["tuning"] = {str(p): tune(tuning, args.days, p) for p in per_days}
    for per_day in per_days:
        config = Config(seeds, args.days, per_day, sensitivity=args.sensitivity, window_days=args.window_days)
        began = time.perf_counter()
        results = run(config)
        took = time.perf_counter() - began
        print(f"\n{per_day} point(s) a day, {args.days} days, seeds {seeds.start}..{seeds.stop - 1} ({took:.0f} s):")
        print(table(results))
        report[f"per_day_{per_day}"] = {
            "config": {k: v for k, v in asdict(config).items() if k != "seeds"},
            "results": {name: {kind: t.summary() for kind, t in kinds.items()} for name, kinds in results.items()},
        }
    args.root.mkdir(parents=True, exist_ok=True)
    out = args.root / "anomaly_bench.json"
    out.write_text(json.dumps(report, indent=2, default=list) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
