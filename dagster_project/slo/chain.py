"""The right-to-left chain of a data product: North Star <- goals <- use cases <- product tables <- source datasets,
with the SLOs guarding each link. Pure: the lineage (table -> the tables it is built from) and the latest status of
each SLO are passed in, so `slo tree` and `slo explain` only render it.

A card that is not complete yet still gives a tree: without a North Star the product itself is the root; use cases
serving no goal hang from the root, and so does every SLO's dataset that no use case reads. What is missing is said
by slo/card_gaps.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dagster_project.slo.domain import Slo
from dagster_project.slo.from_spec import slos_from_spec
from dagster_project.spec.models import SpecFile


@dataclass
class Node:
    kind: str  # north_star | data_product | goal | use_case | dataset
    id: str
    label: str
    slos: list[tuple[str, str]] = field(default_factory=list)  # (slo id, status)
    children: list[Node] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "label": self.label,
            "slos": [{"slo": s, "status": status} for s, status in self.slos],
            "children": [c.as_json() for c in self.children],
        }


def _bound(target: Any) -> str:
    return f">= {target.min:g}" if target.min is not None else f"<= {target.max:g}"


def _dataset_node(
    dataset: str, deps: Mapping[str, Sequence[str]], guards: Mapping[str, list[tuple[str, str]]], expanded: set[str]
) -> Node:
    """A table and, the first time it appears in the tree, the tables it is built from (later: a reference)."""
    if dataset in expanded and deps.get(dataset):
        return Node("dataset", dataset, f"{dataset} (built from: see above)", list(guards.get(dataset, [])))
    node = Node("dataset", dataset, dataset, list(guards.get(dataset, [])))
    expanded.add(dataset)
    for dep in deps.get(dataset, ()):
        node.children.append(_dataset_node(dep, deps, guards, expanded))
    return node


def tree(
    spec: SpecFile, deps: Mapping[str, Sequence[str]], status: Mapping[str, str], expand_once: bool = True
) -> Node:
    """The whole chain of one data product. `status`: slo id -> its latest status ('-' when never evaluated).
    With expand_once, a table's sources are shown the first time only (for reading); without, everywhere (for
    following every path)."""
    slos = slos_from_spec(spec)
    card, star = spec.data_product, spec.north_star

    def guarded(predicate: Any) -> list[tuple[str, str]]:
        return [(s.id, status.get(s.id, "-")) for s in slos if predicate(s)]

    by_dataset: dict[str, list[tuple[str, str]]] = {}
    for s in slos:
        by_dataset.setdefault(s.dataset, []).append((s.id, status.get(s.id, "-")))
    product_guards = guarded(lambda s: s.protects == ("data_product", card.id))
    if star is not None:
        root = Node(
            "north_star",
            star.measure,
            f"North Star {star.measure}: target {star.target:g} over {star.window}",
            product_guards,
        )
    else:
        root = Node("data_product", card.id, f"data product {card.id} (no North Star declared)", product_guards)
    expanded: set[str] = set()

    def use_case_node(use_case: Any) -> Node:
        usage = use_case.usage
        node = Node(
            "use_case",
            use_case.id,
            f"use case {use_case.id} ({usage.frequency}; {', '.join(use_case.consumers)})",
            guarded(lambda s, u=use_case.id: s.protects == ("use_case", u)),
        )
        for dataset in use_case.datasets:
            if not expand_once:
                expanded.clear()
            node.children.append(_dataset_node(dataset, deps, by_dataset, expanded))
        return node

    for goal in card.goals:
        if not expand_once:
            expanded.clear()
        goal_node = Node(
            "goal",
            goal.id,
            f"goal {goal.id}: {goal.target.measure} {_bound(goal.target)}"
            + (f" by {goal.target.by}" if goal.target.by else ""),
            guarded(lambda s, g=goal.id: s.protects == ("goal", g)),
        )
        for use_case in card.use_cases:
            if goal.id in use_case.goals:
                goal_node.children.append(use_case_node(use_case))
        root.children.append(goal_node)
    for use_case in card.use_cases:
        if not use_case.goals:
            if not expand_once:
                expanded.clear()
            root.children.append(use_case_node(use_case))
    # Tables with SLOs that no use case reads (nor any table built from them): guarded, traced to the root only.
    shown = _datasets(root)
    for dataset in sorted(d for d in by_dataset if d not in shown):
        if not expand_once:
            expanded.clear()
        node = _dataset_node(dataset, deps, by_dataset, expanded)
        node.label += " (read by no use case)"
        root.children.append(node)
    return root


def _datasets(node: Node) -> set[str]:
    found = {node.id} if node.kind == "dataset" else set()
    for child in node.children:
        found |= _datasets(child)
    return found


def paths_to(root: Node, slo: Slo) -> list[list[Node]]:
    """Every path from the North Star down to a node the SLO guards (its dataset, or what it protects)."""
    out: list[list[Node]] = []

    def walk(node: Node, path: list[Node]) -> None:
        path = [*path, node]
        if any(s == slo.id for s, _status in node.slos):
            out.append(path)
        for child in node.children:
            walk(child, path)

    walk(root, [])
    return out


def render(root: Node, width: int = 80) -> str:
    """The tree as text, guards in brackets after each node (or under it, when the line would pass `width`)."""
    lines: list[str] = []

    def guards(node: Node) -> str:
        """'[5 ok]', naming the SLOs that failed or errored: '[4 ok; FAIL orders_fresh]'."""
        if not node.slos:
            return ""
        ok = sum(1 for _s, status in node.slos if status == "ok")
        unknown = sum(1 for _s, status in node.slos if status == "-")
        others: dict[str, list[str]] = {}
        for slo, status in node.slos:
            if status not in ("ok", "-"):
                others.setdefault(status, []).append(slo)
        parts = [f"{ok} ok"] if ok else []
        parts += [f"{status} {', '.join(ids)}" for status, ids in sorted(others.items())]
        parts += [f"{unknown} not evaluated"] if unknown else []
        return "  [" + "; ".join(parts) + "]"

    def walk(node: Node, prefix: str, last: bool, top: bool) -> None:
        branch = "" if top else ("`- " if last else "|- ")
        child_prefix = prefix if top else prefix + ("   " if last else "|  ")
        line = f"{prefix}{branch}{node.label}{guards(node)}"
        if len(line) <= width or not node.slos:
            lines.append(line)
        else:  # the guards on a line of their own, under the node, to stay within the width
            lines.append(f"{prefix}{branch}{node.label}")
            lines.append(f"{child_prefix}{'|  ' if node.children else '   '}{guards(node).strip()}")
        for i, child in enumerate(node.children):
            walk(child, child_prefix, i == len(node.children) - 1, False)

    walk(root, "", True, True)
    return "\n".join(lines)
