"""The Product Affinity build's parameters: the service's BuildParams (as-of time, salt) plus its own knobs.

Documented in README.md (The data product). Options arrive by name (BuildParams.options, or the Dagster resource's
`options` JSON) and are checked here, so a misspelt knob is an error, not a silent default.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from dagster_project.build_api import DEFAULT_SALT, BuildParams
from dagster_project.errors import UsageError


@dataclass(frozen=True)
class AffinityParams:
    as_of: datetime | None = None  # None: the time the build runs
    customer_salt: str = DEFAULT_SALT
    min_pair_orders: int = 3
    recommendations_per_customer: int = 5
    neighbours_per_product: int = 20

    @classmethod
    def from_build(cls, params: BuildParams) -> AffinityParams:
        knobs = {f.name for f in fields(cls)} - {"as_of", "customer_salt"}
        unknown = sorted(set(params.options) - knobs)
        if unknown:
            raise UsageError(
                f"Product Affinity build: unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(knobs))}"
            )
        for name, value in params.options.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise UsageError(f"Product Affinity build: option {name} must be a whole number >= 1, not {value!r}")
        return cls(as_of=params.as_of, customer_salt=params.customer_salt, **params.options)  # type: ignore[arg-type]
