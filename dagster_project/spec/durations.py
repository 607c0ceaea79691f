"""Durations in specs ('500ms', '30s', '15m', '24h', '7d', '4w'): read in indicators/durations.py, below the spec,
since indicator models read them too."""

from dagster_project.indicators.durations import parse_duration

__all__ = ["parse_duration"]
