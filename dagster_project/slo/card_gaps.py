"""What a data product's design card does not say yet. A spec may start with an owner and one SLO and grow right to
left (use cases, goals, a semantic model, the North Star); `slo tree` and the report name what is still missing, so
an SLO that traces to nothing above its table is visible rather than an error. Pure: from the spec alone."""

from __future__ import annotations

from dagster_project.spec.models import SpecFile


def missing_from_card(spec: SpecFile) -> list[str]:
    """One short sentence per missing part, from the North Star down to the SLOs (empty: the card is complete)."""
    card = spec.data_product
    out = []
    if spec.north_star is None:
        out.append("no North Star declared")
    if not card.goals:
        out.append("no goals: nothing says what the product must achieve, so no SLO traces to a target")
    if card.vision is None:
        out.append("no vision stated")
    if not card.use_cases:
        out.append("no use cases: SLOs are not traced to consumers")
    elif card.goals:
        aimless = [u.id for u in card.use_cases if not u.goals]
        if aimless:
            out.append(f"use cases serving no goal: {', '.join(aimless)}")
    unprotected = [s.id for s in spec.slos if s.protects is None]
    if unprotected:
        out.append(f"SLOs protecting no goal or use case (traced to the product only): {', '.join(unprotected)}")
    return out
