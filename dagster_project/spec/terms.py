"""Words of the spec that the domain SLOs (slo/domain.py) keep too, defined once here without pydantic: a remembered
domain SLO is read back and evaluated without importing the spec's models (spec/models.py imports these)."""

from __future__ import annotations

from typing import Literal

AlertLevel = Literal["page", "ticket", "none"]

# How long any one query run for an SLO may take (its indicator's query, each run of a consumer query) before it is
# interrupted and recorded as an error; also the limit on measures (North Star, goals), which belong to no SLO.
DEFAULT_QUERY_TIMEOUT = "5m"

__all__ = ["DEFAULT_QUERY_TIMEOUT", "AlertLevel"]
