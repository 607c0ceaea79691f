def __getattr__(name: str) -> object:
    """`dagster_project.SloChecks`, the Component a `dg` project names in its defs.yaml (`type:`), imported only when
    asked for: `slo` commands do not pay for Dagster."""
    if name == "SloChecks":
        from dagster_project.dagster import SloChecks

        return SloChecks
    raise AttributeError(f"module 'dagster_project' has no attribute {name!r}")
