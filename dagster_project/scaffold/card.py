"""The data product part of a starter spec: what a spec needs (`data_product: {id, owner}`) and, as YAML comments
rather than data, what to add next, right to left (docs/writing-slos.md "Grow it right to left"). `slo init` cannot
know a product's use cases, goals or North Star, so it writes none: placeholders would be traced, scheduled and
reported as if they were the product's design."""

from __future__ import annotations

import json
from datetime import UTC, datetime

# The owner when --owner is not given: a plain text a spec accepts, marked to replace.
PLACEHOLDER_OWNER = "TODO"


def quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is a subset of it)."""
    return json.dumps(text, ensure_ascii=False)


# Plain words YAML reads as something other than text (PyYAML follows YAML 1.1: `no` is false, `on` is true).
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null"})


def scalar(name: str) -> str:
    """A name (column, id) as a YAML scalar: plain unless YAML would read it as a boolean or null."""
    return quoted(name) if name.lower() in _YAML_WORDS else name


def when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def design_card(product: str, owner: str | None) -> list[str]:
    """`data_product: {id, owner}` (the owner a TODO placeholder when not given) and a commented hint of the design
    card to grow right to left: use cases with their update cadence, goals, the North Star."""
    owner_line = (
        f"  owner: {quoted(owner)}"
        if owner
        else f"  owner: {quoted(PLACEHOLDER_OWNER)}  # TODO: the owning team (the `team` label of its alerts)"
    )
    return [
        "data_product:",
        f"  id: {scalar(product)}",
        owner_line,
        '  # Grow the design card right to left as you learn it (docs/writing-slos.md, "Grow it right to left"):',
        "  # 1. use_cases: who reads which tables, how often, and when they are updated (usage.update_cadence, a cron",
        "  #    in UTC, becomes their Dagster schedule; slo validate then warns where a max_age threshold below leaves",
        "  #    no slack over it plus a build), and `protects: {use_case: ...}` on the SLOs guarding them;",
        "  # 2. goals: measurable targets on semantic_model measures, which use cases serve;",
        "  # 3. north_star: the one measure the product exists to move, over a window of a time dimension.",
    ]
