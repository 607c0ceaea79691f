"""`make bench-quick` compares each run's ratios with the ones recorded in BENCHMARKS.md: the block it writes is the
block it reads back, other sections are left as they are, and a ratio that moved beyond the tolerance is named."""

from __future__ import annotations

from pathlib import Path

from benchmarks.quick_bench import Ratio, moved, record, recorded


def test_a_recorded_block_reads_back_and_leaves_the_rest_of_the_file(tmp_path: Path) -> None:
    md = tmp_path / "BENCHMARKS.md"
    md.write_text("# Benchmarks\n\n## Build\n\nnumbers\n")
    assert recorded(md) == {}
    first = [Ratio("startup.validate", "validate / python", 0.5, 0.05), Ratio("build.1m", "build / floor", 6.0, 4.0)]
    record(first, "first run", md)
    assert recorded(md) == {"startup.validate": 10.0, "build.1m": 1.5}
    record([Ratio("startup.validate", "validate / python", 0.3, 0.05)], "second run", md)
    text = md.read_text()
    assert recorded(md) == {"startup.validate": 6.0}
    assert text.startswith("# Benchmarks\n\n## Build\n\nnumbers\n") and text.count("bench-quick:begin") == 1
    assert "second run" in text and "first run" not in text


def test_only_ratios_that_moved_beyond_the_tolerance_are_named() -> None:
    now = [Ratio("a", "", 1.25, 1.0), Ratio("b", "", 1.15, 1.0), Ratio("c", "", 0.7, 1.0), Ratio("new", "", 9, 1)]
    assert moved(now, {"a": 1.0, "b": 1.0, "c": 1.0}, 0.20) == ["a", "c"]
