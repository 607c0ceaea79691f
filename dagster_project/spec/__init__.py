"""The spec layer: YAML files in slo_definitions/ -> validated pydantic models. Nothing here imports Dagster or GX."""
