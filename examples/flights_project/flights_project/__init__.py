"""A user's own Dagster project: NYC flights (2013) in its own DuckDB file, with SLO checks from dagster_project."""
