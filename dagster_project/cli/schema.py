"""`slo schema`: the JSON Schema of spec files, generated from the models (committed in slo_definitions/)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path("slo_definitions/slo-spec.schema.json")


def render() -> str:
    from dagster_project.spec.models import json_schema

    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "schema",
        help="print or write the JSON Schema of spec files (for editors)",
        description="The JSON Schema generated from the spec models. Regenerate the committed copy with "
        f"`slo schema -o {SCHEMA_FILE}`; a test fails when it is stale.",
        epilog=f"examples:\n  slo schema                  print it\n  slo schema -o {SCHEMA_FILE}",
    )
    p.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    text = render()
    if args.output:
        args.output.write_text(text)
        print(f"wrote {args.output}")
    else:
        print(text, end="")
    return 0
