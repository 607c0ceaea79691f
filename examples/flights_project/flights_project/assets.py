"""The project's own assets: each writes one small table into the project's own DuckDB file. Nothing here knows of
SLOs: the checks are attached from the spec (definitions.py, or the SloChecks component in defs/)."""

from __future__ import annotations

import dagster as dg
import duckdb

# A few rows in the shape of the public nycflights13 data (https://github.com/tidyverse/nycflights13).
AIRPORTS = [
    ("EWR", "Newark Liberty Intl", 40.6925, -74.1687, "2013-01-01 00:00:00"),
    ("JFK", "John F Kennedy Intl", 40.6398, -73.7789, "2013-01-01 00:00:00"),
    ("LGA", "La Guardia", 40.7773, -73.8726, "2013-01-01 00:00:00"),
    ("ATL", "Hartsfield Jackson Atlanta Intl", 33.6367, -84.4281, "2013-01-01 00:00:00"),
    ("ORD", "Chicago Ohare Intl", 41.9786, -87.9048, "2013-01-01 00:00:00"),
    ("MIA", "Miami Intl", 25.7932, -80.2906, "2013-01-01 00:00:00"),
]
FLIGHTS = [
    ("UA", 1545, "EWR", "IAH", "2013-01-01 05:17:00", 2, 11, 1400),
    ("UA", 1714, "LGA", "IAH", "2013-01-01 05:33:00", 4, 20, 1416),
    ("AA", 1141, "JFK", "MIA", "2013-01-01 05:42:00", 2, 33, 1089),
    ("B6", 725, "JFK", "BQN", "2013-01-01 05:44:00", -1, -18, 1576),
    ("DL", 461, "LGA", "ATL", "2013-01-01 05:54:00", -6, -25, 762),
    ("UA", 1696, "EWR", "ORD", "2013-01-01 05:54:00", -4, 12, 719),
    ("B6", 507, "EWR", "FLL", "2013-01-01 05:55:00", -5, 19, 1065),
    ("EV", 5708, "LGA", "IAD", "2013-01-01 05:57:00", -3, -14, 229),
    ("B6", 79, "JFK", "MCO", "2013-01-01 05:57:00", -3, -8, 944),
    ("AA", 301, "LGA", "ORD", "2013-01-01 05:58:00", -2, 8, 733),
]


class FlightsWarehouse(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The project's DuckDB file."""

    path: str


def _write(path: str, ddl: str, table: str, rows: list[tuple[object, ...]]) -> int:
    with duckdb.connect(path) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS flights")
        con.execute(f"CREATE OR REPLACE TABLE {table} ({ddl})")
        con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
        return len(rows)


@dg.asset(key=["flights", "airports"], kinds={"duckdb"}, description="Airports (FAA code, name, position).")
def airports(warehouse: FlightsWarehouse) -> dg.MaterializeResult[None]:
    ddl = "faa VARCHAR, name VARCHAR, lat DOUBLE, lon DOUBLE, loaded_at TIMESTAMP"
    rows = _write(warehouse.path, ddl, "flights.airports", list(AIRPORTS))
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})


@dg.asset(key="nyc_flights", deps=[airports], kinds={"duckdb"}, description="Departures from NYC airports.")
def flights(warehouse: FlightsWarehouse) -> dg.MaterializeResult[None]:
    ddl = (
        "carrier VARCHAR, flight INTEGER, origin VARCHAR, dest VARCHAR, dep_time TIMESTAMP, dep_delay INTEGER, "
        "arr_delay INTEGER, distance INTEGER"
    )
    rows = _write(warehouse.path, ddl, "flights.flights", list(FLIGHTS))
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})
