"""`slo tree` and `slo explain`: the right-to-left chain from the North Star down to the source datasets, with the
SLOs guarding each link and their latest status from the results store."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from dagster_project.cli.specs import add_slos_option, add_state_options, config_of, load_specs
from dagster_project.errors import EXIT_OK, UsageError
from dagster_project.settings import parse_timestamp

TREE_EPILOG = """\
examples:
  slo tree                              every data product in slo_definitions/
  slo tree product_affinity --json

Statuses come from the latest evaluation in the results store: ok, FAIL (error severity), warn, ERROR (could not
run), - (never evaluated).
"""
EXPLAIN_EPILOG = """\
examples:
  slo explain orders_fresh
  slo explain pair_affinity_unique --json
  slo explain orders_fresh --as-of 2026-11-27T06:00:00Z

The attainment and error budget of each window are the numbers `slo serve` exports and `slo report` shows (one
computation, slo/attainment.py), over the windows ending at --as-of (default now).
"""


def _common(p: Any) -> None:
    add_slos_option(p)
    add_state_options(p, db_help=None)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")


def register(sub: Any) -> None:
    tree = sub.add_parser(
        "tree",
        help="print the chain North Star <- goals <- use cases <- tables <- sources, with the SLOs guarding each",
        description="The right-to-left design of each data product, with every SLO where it guards and its status, "
        "and what its design card does not say yet (no North Star, no use cases, ...).",
        epilog=TREE_EPILOG,
    )
    tree.add_argument("product", nargs="?", help="only this data product (default: all)")
    _common(tree)
    tree.set_defaults(handler=handle_tree)
    explain = sub.add_parser(
        "explain",
        help="show what one SLO protects, link by link up to the North Star, and its latest result",
        description="Every path from the North Star down to what the SLO guards, and its latest evaluation.",
        epilog=EXPLAIN_EPILOG,
    )
    explain.add_argument("slo", metavar="SLO_ID", help="the SLO's id")
    explain.add_argument("--as-of", help="windows end at this time, ISO 8601 (default: now)")
    _common(explain)
    explain.set_defaults(handler=handle_explain)


def _load(args: argparse.Namespace) -> tuple[list[Any], dict[str, Any]]:
    from dagster_project.results.address import store_exists
    from dagster_project.results.store import ResultsStore

    config = config_of(args)
    specs = load_specs(config)
    latest: dict[str, Any] = {}
    if store_exists(config.results_path):
        with ResultsStore(config.results_path) as store:
            latest = store.latest()
    return specs, latest


def _status(latest: dict[str, Any]) -> dict[str, str]:
    return {slo: e.level for slo, e in latest.items()}


def _missing(spec: Any) -> str:
    """What the design card does not say yet, wrapped to the tree's width; nothing when it is complete."""
    import textwrap

    from dagster_project.slo.card_gaps import missing_from_card

    gaps = missing_from_card(spec)
    if not gaps:
        return ""
    lines = [textwrap.fill(g, 80, initial_indent="  - ", subsequent_indent="    ") for g in gaps]
    return "\nmissing from the design card:\n" + "\n".join(lines)


def _lineage(spec: Any) -> dict[str, tuple[str, ...]]:
    """The tables the product's build makes and what each is built from; none for a check-only product."""
    from dagster_project.build_api import load_build

    return load_build(spec.build).table_deps() if spec.build is not None else {}


def handle_tree(args: argparse.Namespace) -> int:
    from dagster_project.slo.card_gaps import missing_from_card
    from dagster_project.slo.chain import render, tree

    specs, latest = _load(args)
    chosen = [s for s in specs if args.product in (None, s.data_product.id)]
    if not chosen:
        known = ", ".join(s.data_product.id for s in specs)
        raise UsageError(f"unknown data product {args.product!r} (known: {known})")
    roots = [tree(s, _lineage(s), _status(latest)) for s in chosen]
    if args.json:
        print(
            json.dumps(
                [
                    {"product": s.data_product.id, **r.as_json(), "missing": missing_from_card(s)}
                    for s, r in zip(chosen, roots, strict=True)
                ]
            )
        )
    else:
        print(
            "\n\n".join(
                f"{s.data_product.name} ({s.data_product.id})\n{render(r)}{_missing(s)}"
                for s, r in zip(chosen, roots, strict=True)
            )
        )
    return EXIT_OK


def handle_explain(args: argparse.Namespace) -> int:
    from dagster_project.slo.chain import paths_to, tree
    from dagster_project.slo.domain import format_value
    from dagster_project.slo.from_spec import slos_from_spec
    from dagster_project.slo.report import sample_text

    specs, latest = _load(args)
    for spec in specs:
        slo = next((s for s in slos_from_spec(spec) if s.id == args.slo), None)
        if slo is not None:
            break
    else:
        raise UsageError(f"unknown SLO {args.slo!r}; `slo tree` lists them all")
    paths = paths_to(tree(spec, _lineage(spec), _status(latest), expand_once=False), slo)
    windows = _windows(args, slo)
    last = latest.get(slo.id)
    result = None
    if last is not None:
        result = {
            "status": _status(latest)[slo.id],
            "observed": last.observed,
            "observed_text": last.error or format_value(last.observed, slo.unit),
            "threshold": slo.threshold.describe(slo.unit),
            "evaluated_at": last.evaluated_at.isoformat(),
            "run_id": last.run_id,
            "detail": last.detail,
            "samples": last.extra.get("samples"),
        }
    if args.json:
        payload = {
            "slo": slo.id,
            "dimension": slo.dimension,
            "dataset": slo.dataset,
            "severity": slo.severity,
            "objective": slo.objective,
            "protects": {"kind": slo.protects[0], "id": slo.protects[1]},
            "paths": [[{"kind": n.kind, "id": n.id} for n in path] for path in paths],
            "latest": result,
            "windows": windows,
        }
        print(json.dumps(payload, indent=2))
        return EXIT_OK
    print(
        f"{slo.id}: {slo.dimension} of {slo.dataset}, {slo.threshold.describe(slo.unit)}, "
        f"objective {slo.objective:g}, severity {slo.severity}; protects {slo.protects[0].replace('_', ' ')} "
        f"{slo.protects[1]}"
    )
    if result is None:
        print("latest: never evaluated (run `slo run` or `slo check`)")
    else:
        print(
            f"latest: {result['status']} - {result['observed_text']} ({result['threshold']}) at "
            f"{result['evaluated_at']}" + (f"; {result['detail']}" if result["detail"] else "")
        )
        if (samples := sample_text(result["samples"])) is not None:
            print(samples)
    for w in windows:
        if w["time_sli"] is None:
            print(f"{w['window']}: no time known yet ({w['evaluations']} evaluations)")
            continue
        print(
            f"{w['window']}: SLI {w['time_sli']:.2%} against {slo.objective:.2%} "
            f"({'met' if w['objective_met'] else 'NOT met'}), error budget left {w['budget_remaining']:.0%}; "
            f"{w['good_evaluations']} of {w['evaluations']} evaluations good"
        )
    for i, path in enumerate(paths, start=1):
        print(f"\npath {i}:")
        print("\n".join(("   <- " if k else "   ") + node.label for k, node in enumerate(path)))
    return EXIT_OK


def _windows(args: argparse.Namespace, slo: Any) -> list[dict[str, Any]]:
    """The SLO's figures per window from the results store: the same objects the exporter and the report render."""
    from dagster_project.exporter.history import History
    from dagster_project.exporter.names import window_label
    from dagster_project.results.address import store_exists
    from dagster_project.slo.attainment import slo_figures

    as_of = parse_timestamp(args.as_of) if args.as_of else datetime.now(UTC)
    results = config_of(args).results_path
    history = History(results, {slo.id: slo.kind})
    if store_exists(results):
        history.refresh()
    figures = slo_figures(slo, history.slos.get(slo.id), as_of.timestamp())
    return [
        {
            "window": window_label(w.window_s),
            "time_sli": w.time_sli,
            "occurrence_sli": w.occurrence_sli,
            "good_evaluations": w.good_evaluations,
            "evaluations": w.evaluations,
            "budget_remaining": None if w.budget is None else w.budget.remaining,
            "objective_met": None if w.budget is None else w.budget.met,
        }
        for w in figures.windows
    ]
