"""The Component way: the project's assets and their resource, loaded from this folder (slo_checks/defs.yaml adds
the SLO checks). Freshness policies: a Component cannot change the assets of others, see slo_freshness_policies."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from dagster_project.dagster import load_config
from flights_project.assets import FlightsWarehouse, airports, flights

__all__ = ["airports", "flights", "resources"]

PROJECT = Path(__file__).resolve().parents[2]


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"warehouse": FlightsWarehouse(path=str(load_config(cwd=PROJECT).database))})
