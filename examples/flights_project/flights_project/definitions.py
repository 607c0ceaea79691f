"""The project's Definitions with SLO checks attached from the spec (the Python API; defs/ has the Component way).

`dagster dev -m flights_project.definitions`, run from examples/flights_project/, finds the spec and the database
through slo.toml (or SLO_SPECS, SLO_DB, SLO_RESULTS).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from dagster_project.dagster import Config, attach_slos, load_config
from flights_project.assets import FlightsWarehouse, airports, flights

PROJECT = Path(__file__).resolve().parent.parent


def make_defs(config: Config, as_of: str = "") -> dg.Definitions:
    warehouse = FlightsWarehouse(path=str(config.database))
    own = dg.Definitions(assets=[airports, flights], resources={"warehouse": warehouse})
    return attach_slos(
        own,
        database=config.database,
        # flights.airports keeps the default key [flights, airports]; our flights table is the asset `nyc_flights`.
        asset_keys={"flights.flights": "nyc_flights"},
        as_of=as_of,
        config=config,
    )


defs = make_defs(load_config(cwd=PROJECT))
