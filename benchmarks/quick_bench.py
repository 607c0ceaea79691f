"""The quick benchmark (`make bench-quick`, a few minutes): the paths users wait for, each as a ratio against a
baseline measured in the same invocation, compared with the ratios last recorded in BENCHMARKS.md.

1. Start-up, whole commands in child processes (median of --repeats, alternating): `slo --help`, `slo validate` and
   `slo check` on the sample database (built once from sample_data/), each against a bare Python start
   (`python -c pass`) of the same interpreter; as users run them, with bytecode written (PYTHONDONTWRITEBYTECODE
   dropped) and the state folder's SQL cache filled by one untimed run of each first.
2. Evaluation: every shipped SLO with the native engine on the 1M-line database against the hand-written floor of
   the evaluation benchmark (one single-pass query per table, the same numbers: checked equal), median of repeats.
3. The pair-affinity step on that database against its floor query (the build benchmark's).
4. The 1M-line build (`slo run`, its SLO checks included) against the build benchmark's floor: the same loads, table
   SQL, SLO checks and publish as plain function calls in a fresh process, without Dagster or the CLI. The ratio is
   what Dagster and the command add to the build's own work.

The ratios are compared with the block between the bench-quick markers in BENCHMARKS.md; any that moved by more
than --tolerance (20%) is printed as a warning (and --strict makes that exit 1). `--record` rewrites the block with
this run's results (date, commit, machine load). Run it before every resolve; record when a change is intended.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS_MD = REPO / "BENCHMARKS.md"
BEGIN = "<!-- bench-quick:begin"
END = "<!-- bench-quick:end -->"
SAMPLE_AS_OF = "2026-11-27T06:00:00Z"  # sample_data/ is generated up to 2026-11-27T00:00Z
LINES = 1_000_000
SLO = [sys.executable, "-m", "dagster_project.cli.main"]


@dataclass(frozen=True)
class Ratio:
    key: str
    what: str
    measured_s: float
    baseline_s: float

    @property
    def ratio(self) -> float:
        return self.measured_s / self.baseline_s


def wall(cmd: Sequence[str], cwd: Path = REPO, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False, env=env)
    took = time.perf_counter() - started
    if proc.returncode not in (0, 1):  # 1: an SLO failed, which is a result, not a broken command
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return took


def alternate(repeats: int, runs: dict[str, Callable[[], float]]) -> dict[str, float]:
    """Each callable `repeats` times, interleaved (so load changes hit all alike); the median of each."""
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(repeats):
        for key, run in runs.items():
            times[key].append(run())
    return {k: statistics.median(v) for k, v in times.items()}


def startup(root: Path, repeats: int) -> list[Ratio]:
    state = root / "state_sample"
    if not (state / "warehouse.duckdb").is_file():
        print("  building the sample database from sample_data/", flush=True)
        wall([*SLO, "run", "--data-dir", "sample_data", "--state-dir", str(state), "--as-of", SAMPLE_AS_OF])
    db, results = state / "warehouse.duckdb", root / "quick_results.sqlite"
    for kept in root.glob("quick_results.sqlite*"):  # a store of this run's own (one of an older version is refused)
        kept.unlink()
    check = [*SLO, "check", "--db", str(db), "--results", str(results), "--as-of", SAMPLE_AS_OF]
    slo_bin = str(Path(sys.executable).with_name("slo"))
    # As a user's commands run: Python writes and reuses its bytecode (a shell or CI with PYTHONDONTWRITEBYTECODE set
    # would compile this package's modules at every start, ~0.1 s), and the state folder's SQL cache is filled by the
    # first, untimed, run of each command (spec/sql_cache.py).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    runs: dict[str, Callable[[], float]] = {
        "python": lambda: wall([sys.executable, "-c", "pass"], env=env),
        "help": lambda: wall([slo_bin, "--help"], env=env),
        "validate": lambda: wall([slo_bin, "validate"], env=env),
        "check": lambda: wall([slo_bin, *check[3:]], env=env),
    }
    for run in runs.values():
        run()
    medians = alternate(repeats, runs)
    base = medians["python"]
    return [
        Ratio("startup.help", "`slo --help` / bare Python start", medians["help"], base),
        Ratio("startup.validate", "`slo validate` / bare Python start", medians["validate"], base),
        Ratio("startup.check", "`slo check` (sample db) / bare Python start", medians["check"], base),
    ]


def build_1m(root: Path, repeats: int) -> tuple[list[Ratio], Path]:
    from benchmarks.build_bench import run_build, run_floor, sources

    src = sources(root, LINES)
    builds, floors = [], []
    result = None
    for _ in range(repeats):
        floors.append(run_floor(root, src, LINES)[0])
        result = run_build(root, src, LINES)
        builds.append(result.wall_s)
    assert result is not None
    build, floor = statistics.median(builds), statistics.median(floors)
    ratios = [
        Ratio("build.1m", "1M-line `slo run` (with its SLO checks) / the same work without Dagster", build, floor),
        Ratio("pair_step.1m", "pair-affinity step / its floor query (1M lines)", result.pair_step_s, result.floor_s),
    ]
    return ratios, root / f"state_{LINES}" / "warehouse.duckdb"


def evaluation(db: Path, root: Path, repeats: int) -> Ratio:
    from benchmarks.eval_bench import AS_OF, floor_evaluate, load_plan, require_equal, values
    from dagster_project.engines.native import evaluate, open_for_checks

    private = root / "eval_copy.duckdb"
    shutil.copyfile(db, private)
    landing = db.with_name(db.name + ".landing")
    if landing.exists():
        shutil.copyfile(landing, private.with_name(private.name + ".landing"))
    plan, naive = load_plan(), AS_OF.astimezone(UTC).replace(tzinfo=None)
    native_s, floor_s = [], []
    with open_for_checks(private) as con:
        for _ in range(repeats):
            t = time.perf_counter()
            floor = floor_evaluate(con, plan, naive)
            floor_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            native = values(evaluate(con, plan, naive))
            native_s.append(time.perf_counter() - t)
        require_equal(native, floor, "evaluation")
    return Ratio(
        "evaluation.1m",
        "every shipped SLO, native engine / hand-written floor (1M lines)",
        statistics.median(native_s),
        statistics.median(floor_s),
    )


def recorded(path: Path = BENCHMARKS_MD) -> dict[str, float]:
    """The ratios in the bench-quick block of BENCHMARKS.md (none before the first --record)."""
    text = path.read_text()
    if BEGIN not in text:
        return {}
    block = text[text.index(BEGIN) : text.index(END)]
    return {m[1]: float(m[2]) for m in re.finditer(r"^\| `([\w.]+)` \| ([0-9.]+)x \|", block, re.MULTILINE)}


def block(ratios: list[Ratio], note: str) -> str:
    rows = "\n".join(
        f"| `{r.key}` | {r.ratio:.2f}x | {r.what} | {r.measured_s:.3f} s | {r.baseline_s:.3f} s |" for r in ratios
    )
    return (
        f"{BEGIN} (written by `make bench-quick QUICK_ARGS=--record`; every run compares itself with it) -->\n"
        f"{note}\n\n"
        "| key | ratio | what | measured | baseline |\n|---|---:|---|---:|---:|\n"
        f"{rows}\n{END}"
    )


def record(ratios: list[Ratio], note: str, path: Path = BENCHMARKS_MD) -> None:
    text = path.read_text()
    new = block(ratios, note)
    if BEGIN in text:
        text = text[: text.index(BEGIN)] + new + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n## Quick benchmark (`make bench-quick`)\n\n" + new + "\n"
    path.write_text(text)


def moved(ratios: list[Ratio], before: dict[str, float], tolerance: float) -> list[str]:
    """The keys whose ratio moved by more than `tolerance` (relative) from the recorded one."""
    return [r.key for r in ratios if r.key in before and abs(r.ratio / before[r.key] - 1) > tolerance]


def commit() -> str:
    proc = subprocess.run(["git", "log", "-1", "--format=%h %s"], cwd=REPO, capture_output=True, text=True)
    return proc.stdout.strip() or "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=REPO / ".slo_state" / "bench", help="work folder (cached data)")
    parser.add_argument("--repeats", type=int, default=7, help="runs of each start-up command (median)")
    parser.add_argument("--build-repeats", type=int, default=2, help="1M builds and floor builds (median)")
    parser.add_argument("--tolerance", type=float, default=0.20, help="relative move of a ratio that is reported")
    parser.add_argument("--record", action="store_true", help="write this run's ratios into BENCHMARKS.md")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a ratio moved beyond the tolerance")
    parser.add_argument("--skip-build", action="store_true", help="start-up only (no 1M build, evaluation, pairs)")
    args = parser.parse_args()
    args.root.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    load_before = os.getloadavg()[0]

    print("start-up ...", flush=True)
    ratios = startup(args.root, args.repeats)
    if not args.skip_build:
        print("1M build and its floor ...", flush=True)
        built, db = build_1m(args.root, args.build_repeats)
        print("evaluation ...", flush=True)
        ratios += [*built, evaluation(db, args.root, 5)]

    before = recorded()
    moves = moved(ratios, before, args.tolerance)
    print(f"\n{'key':18} {'ratio':>8} {'recorded':>9} {'measured':>9} {'baseline':>9}  what")
    for r in ratios:
        old = before.get(r.key)
        flag = f"  <-- moved {100 * (r.ratio / old - 1):+.0f}%" if r.key in moves and old is not None else ""
        old_text = f"{old:.2f}x" if old is not None else "-"
        print(f"{r.key:18} {r.ratio:7.2f}x {old_text:>9} {r.measured_s:8.3f}s {r.baseline_s:8.3f}s  {r.what}{flag}")
    load_after = os.getloadavg()[0]
    took = time.perf_counter() - started
    print(f"\n{took:.0f} s; load average {load_before:.1f} at the start, {load_after:.1f} at the end")
    if moves:
        print(f"warning: {len(moves)} ratio(s) moved by more than {args.tolerance:.0%}: {', '.join(moves)}")
    if args.record:
        note = (
            f'Recorded {datetime.now(UTC):%Y-%m-%d} at commit "{commit()}"; {took:.0f} s; 1-minute load average '
            f"{load_before:.1f} -> {load_after:.1f} (2 cores). Medians of {args.repeats} start-ups, "
            f"{args.build_repeats} builds, 5 evaluations and pair steps."
        )
        record(ratios, note)
        print(f"recorded in {BENCHMARKS_MD}")
    return 1 if moves and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
